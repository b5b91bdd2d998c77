//! [`ChannelSender`]: the handle on a channel's sender, what the conversations deliver to.
//!
//! The handle outlives the actor behind it: when the root supervisor restarts a failed sender
//! ([`ChannelSender::supervised`]), the handle points at the new one, whose jobs resume from
//! the outbox; the failed one's running jobs are cancelled first.

use super::jobs::Shared;
use super::scheduler::{Scheduler, SchedulerArgs, SenderMsg};
use super::{Pacing, Platform};
use crate::pacing::InFlight;
use ractor::{Actor, ActorCell, ActorRef};
use redsol_actors::model::{Outbound, ReplySink};
use redsol_actors::root::{Supervised, SHUTDOWN};
use redsol_actors::store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The running instance of the actor, and how to cancel its jobs.
struct Instance {
    actor: ActorRef<SenderMsg>,
    cancel: watch::Sender<bool>,
}

struct Inner<P: Platform> {
    shared: Arc<Shared<P>>,
    /// Messages accepted and not finished (queued, running or in the mailbox).
    pending: InFlight,
    instance: RwLock<Instance>,
    /// One restart at a time.
    restarting: tokio::sync::Mutex<()>,
}

/// The handle on a channel's sender. Cheap to clone.
pub struct ChannelSender<P: Platform> {
    inner: Arc<Inner<P>>,
}

impl<P: Platform> Clone for ChannelSender<P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// Starts an instance of the actor, linked under `supervisor` when given.
async fn start_instance<P: Platform>(
    shared: Arc<Shared<P>>,
    pending: InFlight,
    supervisor: Option<ActorCell>,
) -> anyhow::Result<Instance> {
    let (cancel, cancelled) = watch::channel(false);
    let args = SchedulerArgs {
        shared,
        pending,
        cancel: cancelled,
    };
    let started = match supervisor {
        Some(supervisor) => {
            Actor::spawn_linked(None, Scheduler::<P>::new(), args, supervisor).await
        }
        None => Actor::spawn(None, Scheduler::<P>::new(), args).await,
    };
    let (actor, _) = started
        .map_err(|e| anyhow::anyhow!("cannot start the {} sender: {e}", P::CHANNEL.as_str()))?;
    Ok(Instance { actor, cancel })
}

impl<P: Platform> ChannelSender<P> {
    /// Starts the sender of `platform`.
    pub async fn spawn(
        platform: P,
        pacing: Pacing,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<ChannelSender<P>> {
        let shared = Arc::new(Shared::new(platform, pacing, store));
        let pending = InFlight::default();
        let instance = start_instance(shared.clone(), pending.clone(), None).await?;
        Ok(ChannelSender {
            inner: Arc::new(Inner {
                shared,
                pending,
                instance: RwLock::new(instance),
                restarting: tokio::sync::Mutex::new(()),
            }),
        })
    }

    fn actor(&self) -> ActorRef<SenderMsg> {
        match self.inner.instance.read() {
            Ok(i) => i.actor.clone(),
            Err(poisoned) => poisoned.into_inner().actor.clone(),
        }
    }

    /// The running actor's cell (for a supervisor to adopt).
    pub fn cell(&self) -> ActorCell {
        self.actor().get_cell()
    }

    /// What the root supervisor adopts: restarting it starts a new instance behind this handle.
    pub fn supervised(&self) -> Arc<dyn Supervised> {
        Arc::new(self.clone())
    }

    /// Replaces the actor with a new instance (linked under `supervisor` when given): the old
    /// one's running jobs are cancelled, and every reply the outbox holds unsent is offered to
    /// the new one (those handed to the platform before may arrive twice, and are counted in
    /// `redsol_resent_after_restart_total`).
    pub async fn restart(&self, supervisor: Option<ActorCell>) -> anyhow::Result<ActorCell> {
        let _one = self.inner.restarting.lock().await;
        let old = self.actor();
        self.cancel_jobs();
        old.kill();
        // What the old instance held is lost with it; the durable part is in the outbox.
        self.inner.pending.reset();
        self.inner.shared.ledger(|l| l.forget_in_hand());
        let instance = start_instance(
            self.inner.shared.clone(),
            self.inner.pending.clone(),
            supervisor,
        )
        .await?;
        let cell = instance.actor.get_cell();
        match self.inner.instance.write() {
            Ok(mut i) => *i = instance,
            Err(poisoned) => *poisoned.into_inner() = instance,
        }
        tracing::warn!(
            channel = P::CHANNEL.as_str(),
            "sender restarted; its unsent replies are offered again from the outbox"
        );
        // Not awaited: the supervisor restarting it must not wait on the store.
        let sender = self.clone();
        tokio::spawn(async move { sender.resend_pending().await });
        Ok(cell)
    }

    /// Stops the running instance's jobs (a kill skips the actor's own clean-up).
    fn cancel_jobs(&self) {
        if let Ok(i) = self.inner.instance.read() {
            i.cancel.send_replace(true);
        }
    }

    /// Where the conversations deliver this channel's replies.
    pub fn sink(&self) -> Arc<dyn ReplySink> {
        Arc::new(self.clone())
    }

    /// Casts to the actor, counting the message as pending first. `false` when the sender
    /// has stopped.
    fn cast(&self, msg: SenderMsg) -> bool {
        self.inner.pending.add();
        if self.actor().cast(msg).is_err() {
            self.inner.pending.done();
            return false;
        }
        true
    }

    /// Queues a read receipt for an inbound message (best effort; skipped when the platform's
    /// `mark_read` is off).
    pub fn mark_read(&self, message_id: String) {
        if self.inner.shared.pacing.mark_read && !message_id.is_empty() {
            self.cast(SenderMsg::MarkRead(message_id));
        }
    }

    /// Walks the replies the outbox holds unsent and at least `min_age` old, a page at a time,
    /// skipping those the sender holds, and (when `offer`) queues them (after retries ran out,
    /// or a stop with work left). Publishes the oldest one's age as
    /// `redsol_outbox_oldest_seconds`. Returns how many were found, and how many of those were
    /// handed to the platform before (they may arrive twice). A store error is logged and ends
    /// the walk: the rest stay in the outbox for the next sweep.
    async fn walk_outbox(&self, min_age: Duration, offer: bool) -> (usize, usize) {
        let channel = P::CHANNEL;
        let shared = &self.inner.shared;
        let page_size = super::scheduler::spill::page_size(shared.pacing.memory_queue);
        let now = redsol_actors::store::unix_now();
        let age = |queued_at: u64| Duration::from_secs(now.saturating_sub(queued_at));
        let (mut found, mut attempted, mut after) = (0, 0, 0u64);
        let mut oldest = None;
        loop {
            let page = match shared.store.outbox_page(channel, after, page_size).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::error!(channel = channel.as_str(), error = %e, "cannot read the outbox; its replies wait for the next sweep");
                    return (found, attempted);
                }
            };
            let read = page.entries.len();
            after = page.next;
            for entry in page.entries {
                oldest = oldest.or(Some(age(entry.queued_at)));
                if age(entry.queued_at) < min_age || shared.ledger(|l| l.holds(&entry.id)) {
                    continue;
                }
                let was_attempted = entry.attempted;
                let resend = SenderMsg::Send {
                    out: Box::new(super::scheduler::spill::outbound(entry)),
                    resent: true,
                };
                if !offer || self.cast(resend) {
                    found += 1;
                    attempted += usize::from(was_attempted);
                }
            }
            if read < page_size {
                break;
            }
        }
        metrics::gauge!("redsol_outbox_oldest_seconds", "channel" => channel.as_str())
            .set(oldest.unwrap_or_default().as_secs_f64());
        if offer && found > 0 {
            tracing::info!(
                offered = found,
                channel = channel.as_str(),
                "unsent replies offered again from the outbox"
            );
        }
        (found, attempted)
    }

    /// At start (or restart): has the sender read back, in order, every reply the outbox holds
    /// unsent, a page at a time as its queues drain (those handed to the platform before,
    /// accepted or not, nobody knows, may arrive twice: they are counted in
    /// `redsol_resent_after_restart_total{channel}`). Returns how many there were.
    pub async fn resend_pending(&self) -> usize {
        let channel = P::CHANNEL.as_str();
        let (waiting, attempted) = self.walk_outbox(Duration::ZERO, false).await;
        metrics::counter!("redsol_resent_after_restart_total", "channel" => channel)
            .increment(attempted as u64);
        if attempted > 0 {
            tracing::warn!(
                channel,
                attempted,
                "replies in flight when the last sender stopped are sent again; some may arrive twice"
            );
        }
        self.cast(SenderMsg::Resume { waiting });
        waiting
    }

    /// Offers the unsent outbox replies again every `every` (with jitter) until the task is
    /// aborted: a reply never waits for a restart. Replies younger than `every` are left to
    /// the normal path.
    pub fn sweep_outbox(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let sender = self.clone();
        tokio::spawn(async move {
            loop {
                let jitter = every.mul_f64(fastrand::f64() * 0.2);
                tokio::time::sleep(every + jitter).await;
                // While the backlog waits on disk, the sender reads it back itself, in order.
                if !sender.stopped() && !sender.inner.shared.on_disk.active() {
                    sender.walk_outbox(every, true).await;
                }
            }
        })
    }

    /// Whether the sender is down (stopped, or between a failure and its restart).
    pub fn stopped(&self) -> bool {
        matches!(
            self.actor().get_status(),
            ractor::ActorStatus::Stopped | ractor::ActorStatus::Stopping
        )
    }

    /// Waits until everything accepted was sent or given up, or `grace` passed. `true` when
    /// the queues emptied.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.inner.pending.drained(grace).await
    }

    /// Messages queued, in flight or waiting a retry.
    pub fn pending(&self) -> usize {
        self.inner.pending.count()
    }

    /// Stops the sender on purpose (its supervisor lets it go); unfinished replies stay in
    /// the outbox for the next start.
    pub fn stop(&self) {
        self.cancel_jobs();
        self.actor().stop(Some(SHUTDOWN.to_string()));
    }
}

impl<P: Platform> ReplySink for ChannelSender<P> {
    /// Replies queued or in flight, and those waiting on disk.
    fn backlog(&self) -> usize {
        self.pending() + self.inner.shared.on_disk.count()
    }

    /// Hands a conversation's reply to the sender. A reply of another channel, or one the
    /// sender cannot take now, is counted as an error and logged; a durable one is still in
    /// the outbox for the next sweep.
    fn deliver(&self, out: Outbound) {
        let channel = P::CHANNEL.as_str();
        let count_error = || {
            metrics::counter!("redsol_messages_sent_total", "channel" => channel, "outcome" => "error")
                .increment(1)
        };
        if out.key.channel != P::CHANNEL {
            count_error();
            tracing::error!(
                channel = out.key.channel.as_str(),
                sender = channel,
                conversation = %out.key.opaque_id(),
                "a reply of another channel reached this sender; dropped"
            );
            return;
        }
        let key = out.key.clone();
        let send = SenderMsg::Send {
            out: Box::new(out),
            resent: false,
        };
        if !self.cast(send) {
            tracing::warn!(
                sender = channel,
                conversation = %key.opaque(),
                "the sender is down; reply not queued (a durable one is offered again by the outbox sweep)"
            );
        }
    }
}

impl<P: Platform> Supervised for ChannelSender<P> {
    fn name(&self) -> &'static str {
        match P::CHANNEL {
            redsol_actors::model::Channel::WhatsApp => "whatsapp_sender",
            redsol_actors::model::Channel::Telegram => "telegram_sender",
            redsol_actors::model::Channel::Console => "console_sender",
        }
    }

    fn restart(
        &self,
        supervisor: ActorCell,
    ) -> Pin<Box<dyn Future<Output = Result<ActorCell, String>> + Send + '_>> {
        Box::pin(async move {
            ChannelSender::restart(self, Some(supervisor))
                .await
                .map_err(|e| e.to_string())
        })
    }
}
