//! What a test reads from the fake Graph API: its address, the messages it accepted, every
//! request, and bounded waits (on the test's clock) for them; and how it scripts answers.

use super::*;

impl FakeGraph {
    /// The base URL to give the client (no version, no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The messages accepted so far, in order.
    pub fn sent(&self) -> Vec<Recorded> {
        self.state.with(|i| i.sent.clone())
    }

    /// Waits until requests to `n` recipients reached a scripted delay.
    pub async fn wait_delayed(&self, n: usize) {
        self.wait_until(WAIT, "requests held by a scripted delay", |i| {
            i.delayed.len() >= n
        })
        .await
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.with(|i| i.requests.clone())
    }

    /// Adds a scripted answer (scripts are tried in the order they were added).
    pub fn script(&self, script: Script) {
        self.state.with(|i| i.scripts.push(script));
    }

    /// Waits until `n` messages were accepted (at most [`WAIT`] on the test's clock).
    pub async fn wait_for(&self, n: usize) -> Vec<Recorded> {
        self.wait_sent(&format!("{n} accepted messages"), |s| s.len() >= n)
            .await
    }

    /// Waits until `n` messages were accepted, at most `bound` on the test's clock.
    pub async fn wait_for_within(&self, n: usize, bound: Duration) -> Vec<Recorded> {
        self.wait_until(bound, &format!("{n} accepted messages"), |i| {
            i.sent.len() >= n
        })
        .await;
        self.sent()
    }

    /// Waits until the accepted messages satisfy `done`; returns them.
    pub async fn wait_sent(&self, what: &str, done: impl Fn(&[Recorded]) -> bool) -> Vec<Recorded> {
        self.wait_sent_within(WAIT, what, done).await
    }

    /// [`FakeGraph::wait_sent`], at most `bound` on the test's clock.
    pub async fn wait_sent_within(
        &self,
        bound: Duration,
        what: &str,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        self.wait_until(bound, what, |i| done(&i.sent)).await;
        self.sent()
    }

    /// Waits until `n` requests arrived, accepted or not.
    pub async fn wait_for_requests(&self, n: usize) -> Vec<Request> {
        self.wait_until(WAIT, &format!("{n} requests"), |i| i.requests.len() >= n)
            .await;
        self.requests()
    }

    async fn wait_until(&self, bound: Duration, what: &str, done: impl Fn(&Inner) -> bool) {
        let deadline = Instant::now() + bound;
        loop {
            let changed = self.state.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.state.with(|i| done(i)) {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let (sent, requests) = self.state.with(|i| (i.sent.len(), i.requests.len()));
                panic!(
                    "fake Graph: no {what} within {bound:?} ({sent} accepted, {requests} requests)"
                );
            }
        }
    }
}
