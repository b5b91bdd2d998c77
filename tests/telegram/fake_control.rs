//! What a test does with the fake Bot API: start it, push updates (and redeliver them), script
//! failures, and read (or wait, bounded, for) what the bot did.

use super::*;

impl FakeTelegram {
    /// Starts the fake for `token` on a random port.
    pub async fn start(token: &str) -> FakeTelegram {
        crate::metrics::install();
        let shared = Arc::new(Shared {
            token: token.to_string(),
            inner: Mutex::new(Inner {
                next_update_id: 1000,
                ..Inner::default()
            }),
            updates: Notify::new(),
            activity: Notify::new(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle).get(handle))
            .route("/file/{bot}/{*path}", axum::routing::get(media::download))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Telegram binds");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram {
            url: format!("http://{addr}"),
            shared,
            server,
        }
    }

    /// Queues an update of `kind` (`message`, `callback_query`...) and returns its id.
    pub fn push(&self, kind: &str, body: Value) -> i64 {
        let id = {
            let mut inner = self.shared.lock();
            inner.next_update_id += 1;
            let id = inner.next_update_id;
            let update = json!({ "update_id": id, kind: body });
            inner.history.push(update.clone());
            inner.queue.push(update);
            id
        };
        self.shared.updates.notify_waiters();
        id
    }

    /// Hands out an update again, as Telegram does when the offset past it was never committed.
    pub fn redeliver(&self, update_id: i64) {
        {
            let mut inner = self.shared.lock();
            let Some(update) = inner
                .history
                .iter()
                .find(|u| u["update_id"].as_i64() == Some(update_id))
                .cloned()
            else {
                panic!("no update {update_id} was pushed");
            };
            inner
                .queue
                .retain(|u| u["update_id"].as_i64() != Some(update_id));
            inner.queue.insert(0, update);
            inner
                .queue
                .sort_by_key(|u| u["update_id"].as_i64().unwrap_or(0));
        }
        self.shared.updates.notify_waiters();
    }

    /// Scripts the next `sendMessage` answers.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.shared.lock().failures.extend(failures);
    }

    /// Sets a webhook behind the bot's back (another deployment did).
    pub fn set_webhook_elsewhere(&self) {
        self.shared.lock().webhook = Some(Webhook {
            url: "https://elsewhere.example/hook".into(),
            secret_token: None,
            allowed_updates: None,
        });
    }

    pub fn clear_webhook(&self) {
        self.shared.lock().webhook = None;
        self.shared.updates.notify_waiters();
    }

    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    pub fn callback_answers(&self) -> Vec<String> {
        self.shared.lock().callback_answers.clone()
    }

    pub fn commands(&self) -> Vec<(String, String)> {
        self.shared.lock().commands.clone()
    }

    /// The calls of a method (lowercase name), in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Updates handed out and not yet confirmed.
    pub fn unconfirmed(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Waits (bounded) until `done` holds of the fake's records.
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&FakeTelegram) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let notified = self.shared.activity.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                if done(self) {
                    return;
                }
                panic!(
                    "timed out waiting for {what}; sent so far: {:#?}",
                    self.sent()
                );
            }
        }
    }

    /// Waits (bounded) until at least `n` messages were sent, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Sent> {
        self.wait_until(&format!("{n} sent message(s)"), |f| f.sent().len() >= n)
            .await;
        self.sent()
    }
}
