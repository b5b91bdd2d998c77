//! The repair patterns that need no understanding, applied before any flow sees a message:
//! backing out of a flow (kept a day for "siempre sí"), resuming it, emoji-only messages.

use super::signals::{self, Signal};
use super::state::{unix_now, ConversationState, Dialogue, Paused, PAUSED_SECS};
use crate::engine::Engine;
use crate::model::{QuickReply, Reply};

impl Engine {
    /// The repair patterns that need no understanding: backing out of a flow (kept a day for
    /// "siempre sí"), resuming it, and emoji-only messages.
    pub(crate) fn repair(&self, state: &mut ConversationState, t: &str) -> Option<Reply> {
        let signal = signals::signal(t)?;
        let busy = !matches!(state.dialogue, Dialogue::Idle);
        match signal {
            Signal::Cancel if busy => {
                let dialogue = std::mem::take(&mut state.dialogue);
                state.paused = Some(Paused {
                    dialogue,
                    until: unix_now() + PAUSED_SECS,
                });
                let mut r = self.say("cancelled_flow", &[]);
                r.quick_replies = vec![
                    QuickReply::new("resume", "Siempre sí"),
                    QuickReply::new("intent:help", "Menú"),
                ];
                Some(r)
            }
            // Idle, only a short back-out is one ("cancelar", "ya no"): "ya no quiero su
            // internet, cancélenlo" is a request to understand.
            Signal::Cancel if t.split_whitespace().count() <= 3 => {
                Some(self.with_menu(self.say("cancelled", &[])))
            }
            Signal::Cancel => None,
            Signal::Resume if !busy => {
                let paused = state.paused.take().filter(|p| p.until > unix_now())?;
                state.dialogue = paused.dialogue;
                let q = self.pending_question(state)?;
                Some(Reply {
                    text: format!(
                        "{}

{}",
                        self.rules.render("resumed", &[]),
                        q.text
                    ),
                    quick_replies: q.quick_replies,
                    attachment: None,
                })
            }
            Signal::Complaint => {
                // An apology and the offer of a person; the running flow's question stays the
                // last one asked, so a "sí" answers it and nothing else.
                let mut r = self.say("complaint", &[]);
                let person = QuickReply::new("intent:human_agent", "Hablar con una persona");
                match self.pending_question(state) {
                    Some(q) => {
                        r.text = self.rules.finish(format!("{}\n\n{}", r.text, q.text));
                        r.quick_replies = q.quick_replies;
                        r.quick_replies.insert(0, person);
                    }
                    None => r.quick_replies = vec![person],
                }
                Some(r)
            }
            Signal::Greeting if !busy => Some(self.greeting(state)),
            Signal::Thanks if !busy && !t.chars().any(char::is_alphabetic) => {
                Some(self.with_menu(self.say("thanks", &[])))
            }
            // Thanks in the middle of a form: welcome, and the form's question again.
            Signal::Thanks if busy => {
                let q = self.pending_question(state)?;
                Some(Reply {
                    text: self.rules.finish(format!(
                        "{}\n\n{}",
                        self.rules.render("welcome", &[]),
                        q.text
                    )),
                    quick_replies: q.quick_replies,
                    attachment: None,
                })
            }
            // Leaving in the middle of a form keeps it for a day, as backing out does.
            Signal::Farewell if busy => {
                let dialogue = std::mem::take(&mut state.dialogue);
                state.paused = Some(Paused {
                    dialogue,
                    until: unix_now() + PAUSED_SECS,
                });
                Some(Reply {
                    text: format!(
                        "{}\n{}",
                        self.rules.render("cancelled_flow", &[]),
                        self.rules.render("goodbye", &[])
                    ),
                    quick_replies: vec![QuickReply::new("resume", "Siempre sí")],
                    attachment: None,
                })
            }
            _ => None,
        }
    }
}
