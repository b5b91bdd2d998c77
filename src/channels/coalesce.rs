//! Coalescing: the replies waiting in one recipient's lane leave as one message.
//!
//! A customer who writes three times while the platform's budget is spent (an outage storm)
//! gets one answer that covers the three, not three answers in a row: when a lane's turn
//! comes, the replies queued in it are joined into one, the same text said once. Only plain
//! replies to the same conversation and chat are joined (no edit, template or attachment), and
//! only while the result still goes as one platform message, so a failure can never have sent
//! half of a joined reply. A notice is joined only as the first of a batch.

use super::Platform;
use redsol_actors::model::Outbound;
use redsol_actors::store::notices::is_notice;
use tokio::time::Instant;

/// The most replies joined into one message.
pub const MAX_JOINED: usize = 20;

/// One reply carried by a [`Batch`]: its outbox entry and its timing.
#[derive(Clone, Debug)]
pub struct Member {
    pub outbox_id: Option<String>,
    pub accepted_at: Instant,
    /// Offered again by the outbox (not timed in `redsol_response_seconds`).
    pub resent: bool,
}

/// What a reply job sends: one reply, or several queued replies joined into one.
pub struct Batch {
    pub out: Outbound,
    /// The replies it carries, in order; the first is the one `out` started from.
    pub members: Vec<Member>,
    /// The texts joined so far, each once.
    said: Vec<String>,
}

impl Batch {
    pub fn new(out: Outbound, resent: bool) -> Batch {
        let member = Member {
            outbox_id: out.outbox_id.clone(),
            accepted_at: out.accepted_at,
            resent,
        };
        Batch {
            said: vec![out.reply.text.trim().to_string()],
            out,
            members: vec![member],
        }
    }

    /// A notice never joins a batch it does not lead: the platform's statuses name a message
    /// by its first reply's id (WhatsApp's callback data), and a notice's must name it.
    fn notice(out: &Outbound) -> bool {
        is_notice(out.outbox_id.as_deref())
    }

    fn plain(out: &Outbound) -> bool {
        out.edit.is_none() && out.template.is_none() && out.reply.attachment.is_none()
    }

    /// Joins `next` in when it may ride in the same message to `to`: its text after a blank
    /// line (unless the batch says it already), the quick replies of the latest reply. `false`
    /// (and the batch unchanged) when it may not.
    pub fn join<P: Platform>(&mut self, to: &str, next: &Outbound, resent: bool) -> bool {
        if self.members.len() >= MAX_JOINED
            || Self::notice(next)
            || next.key != self.out.key
            || next.reply_to != self.out.reply_to
            || !Self::plain(&self.out)
            || !Self::plain(next)
        {
            return false;
        }
        let text = next.reply.text.trim();
        let new_text = !text.is_empty() && !self.said.iter().any(|t| t == text);
        let mut candidate = self.out.clone();
        if new_text {
            if !candidate.reply.text.trim().is_empty() {
                candidate.reply.text.push_str("\n\n");
            }
            candidate.reply.text.push_str(text);
        }
        candidate.reply.quick_replies = next.reply.quick_replies.clone();
        if P::render(to, &candidate).len() != 1 {
            return false;
        }
        self.out = candidate;
        if new_text {
            self.said.push(text.to_string());
        }
        self.members.push(Member {
            outbox_id: next.outbox_id.clone(),
            accepted_at: next.accepted_at,
            resent,
        });
        true
    }
}
