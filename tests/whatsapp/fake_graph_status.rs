//! The fake Graph's statuses: once told where the app's webhook is
//! ([`FakeGraph::send_statuses_to`]), it posts a `sent` status for every message it accepted
//! (since it started), as Meta does: the Cloud API's webhook JSON (`statuses` with the message's `wamid`, its
//! recipient and the `biz_opaque_callback_data` the message carried), signed with the app
//! secret in `X-Hub-Signature-256`. A delivery that is not answered 200 (the app is down,
//! restarting, or refused it) is posted again, every [`RETRY`], until it is: Meta retries a
//! failed webhook for days.

use super::*;
use redsol::whatsapp::signature::sign;

/// How soon a refused or failed delivery is posted again.
const RETRY: Duration = Duration::from_millis(100);
/// The most statuses in one delivery.
const BATCH: usize = 50;

/// Statuses waiting for the webhook, and where it is.
#[derive(Default)]
pub struct Statuses {
    target: Option<Target>,
    waiting: Vec<Value>,
}

#[derive(Clone)]
struct Target {
    url: String,
    secret: String,
}

/// Queues the `sent` status of a message just accepted (posted once the webhook is known).
pub fn queue(inner: &mut Inner, rec: &Recorded) {
    let statuses = &mut inner.statuses;
    if rec.kind == "read" {
        return;
    }
    let mut status = json!({
        "id": rec.wamid,
        "status": "sent",
        "timestamp": "1765000000",
        "recipient_id": rec.to,
        "conversation": {"id": "conv-1", "origin": {"type": "utility"}},
        "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"},
    });
    if let Some(callback) = &rec.callback {
        status["biz_opaque_callback_data"] = json!(callback);
    }
    statuses.waiting.push(status);
}

impl FakeGraph {
    /// Posts the statuses of accepted messages, those waiting first, to `url` (the app's
    /// `/webhook`), signed with `secret`. Called again (a restarted app on another port), the
    /// statuses still waiting go to the new address.
    pub fn send_statuses_to(&self, url: &str, secret: &str) {
        let start = self.state.with(|i| {
            let first = i.statuses.target.is_none();
            i.statuses.target = Some(Target {
                url: url.to_string(),
                secret: secret.to_string(),
            });
            first
        });
        if start {
            tokio::spawn(post_statuses(self.state.clone()));
        }
    }
}

/// The delivery of statuses, until the fake stops: a batch at a time, in order, each posted
/// until it is acknowledged.
async fn post_statuses(state: Arc<FakeState>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("an HTTP client");
    loop {
        let (target, batch) = state.with(|i| {
            let n = i.statuses.waiting.len().min(BATCH);
            (i.statuses.target.clone(), i.statuses.waiting[..n].to_vec())
        });
        let Some(target) = target.filter(|_| !batch.is_empty()) else {
            tokio::time::sleep(RETRY).await;
            continue;
        };
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "102290129340398",
                "changes": [{
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": state.phone_id,
                        },
                        "statuses": batch,
                    },
                }],
            }],
        })
        .to_string();
        let acknowledged = http
            .post(&target.url)
            .header("content-type", "application/json")
            .header(
                "X-Hub-Signature-256",
                sign(target.secret.as_bytes(), body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
        if acknowledged {
            state.with(|i| {
                i.statuses.waiting.drain(..batch.len());
            });
        } else {
            tokio::time::sleep(RETRY).await;
        }
    }
}
