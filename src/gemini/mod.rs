//! Gemini as a shared actor: the [`LanguageModel`] behind the hybrid brain.
//!
//! The [`GeminiActor`] owns the circuit breaker. Each call is checked against it, then runs in
//! its own task (so calls overlap) under a semaphore of `brain.max_concurrency` slots, with
//! retries of 429/500/503/504 (a 429's `RetryInfo.retryDelay` is honoured) that never run past
//! the caller's deadline. Every request's latency and outcome goes to
//! `redsol_llm_request_seconds{outcome}`.
//!
//! The breaker opens after `brain.breaker_failures` outages in a row (timeouts,
//! 5xx, 429, refused requests): while open, calls fail at once (`breaker_open`) and the
//! conversation answers with the offline NLU, so an outage costs one timeout, not one per
//! message. After `brain.breaker_cooldown_secs` one probe goes through: the next call, or the
//! actor's own small request if no conversation asks, so the breaker closes again without
//! waiting for a customer. `redsol_llm_breaker_state` is 0 closed, 1 half-open (probing),
//! 2 open.

mod breaker;
mod client;
mod prompt;

pub use client::{GeminiClient, GeminiError, Generated};
pub use prompt::{Prompt, Prompts};

use crate::pacing;
use crate::settings::{BrainTuning, GeminiSettings};
use breaker::{Breaker, Verdict};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use redsol_actors::brain::{LanguageModel, ModelAnswer, ModelError, ModelRequest};
use redsol_actors::rules::Rules;
use redsol_actors::store::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

pub enum GeminiMsg {
    /// Run one prompt (with retries) before `deadline`.
    Call {
        prompt: Prompt,
        deadline: Instant,
        reply: RpcReplyPort<Result<Generated, GeminiError>>,
    },
    /// A call finished; `probe` is its probe number when it was the breaker's probe.
    Finished {
        verdict: Verdict,
        probe: Option<u64>,
    },
    /// The breaker's cooldown is over: probe Gemini even if no conversation asks, so it
    /// closes again without waiting for a customer.
    Probe,
}

/// What every call shares.
struct Shared {
    client: GeminiClient,
    slots: Arc<Semaphore>,
    call_timeout: Duration,
    max_retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
}

pub struct GeminiActor;

pub struct GeminiState {
    shared: Arc<Shared>,
    breaker: Breaker,
    /// The small request the actor probes with on its own.
    probe: Prompt,
    cooldown: Duration,
}

impl GeminiState {
    fn publish(&self) {
        metrics::gauge!("redsol_llm_breaker_state").set(self.breaker.gauge());
    }
}

pub struct GeminiArgs {
    client: GeminiClient,
    tuning: BrainTuning,
    probe: Prompt,
}

impl Actor for GeminiActor {
    type Msg = GeminiMsg;
    type State = GeminiState;
    type Arguments = GeminiArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let t = args.tuning;
        let state = GeminiState {
            shared: Arc::new(Shared {
                client: args.client,
                slots: Arc::new(Semaphore::new(t.max_concurrency)),
                call_timeout: t.call_timeout(),
                max_retries: t.max_retries,
                backoff_base: Duration::from_millis(t.backoff_base_ms.max(1)),
                backoff_max: Duration::from_secs(t.backoff_max_secs),
            }),
            breaker: Breaker::new(
                t.breaker_failures,
                Duration::from_secs(t.breaker_cooldown_secs),
            ),
            probe: args.probe,
            cooldown: Duration::from_secs(t.breaker_cooldown_secs),
        };
        state.publish();
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            GeminiMsg::Call {
                prompt,
                deadline,
                reply,
            } => {
                let admitted = state.breaker.admit(Instant::now());
                state.publish();
                match admitted {
                    None => {
                        let _ = reply.send(Err(GeminiError::BreakerOpen));
                    }
                    Some(probe) => {
                        spawn_call(&state.shared, myself, prompt, deadline, probe, |result| {
                            let _ = reply.send(result);
                        })
                    }
                }
            }
            GeminiMsg::Finished { verdict, probe } => {
                let was_open = state.breaker.gauge() == 2.0;
                state.breaker.finished(verdict, probe, Instant::now());
                state.publish();
                if !was_open && state.breaker.gauge() == 2.0 {
                    // Just opened: probe once the cooldown is over.
                    // The timer runs on its own; its handle is not needed.
                    drop(myself.send_after(state.cooldown, || GeminiMsg::Probe));
                }
            }
            GeminiMsg::Probe => {
                // Only when still open and due: a conversation may have probed already.
                if let Some(Some(probe)) = state.breaker.admit(Instant::now()) {
                    state.publish();
                    let deadline = Instant::now() + state.shared.call_timeout;
                    let prompt = state.probe.clone();
                    spawn_call(&state.shared, myself, prompt, deadline, Some(probe), |_| {});
                }
            }
        }
        Ok(())
    }
}

/// Runs one admitted call in its own task, reports it to the actor, then hands the result on.
fn spawn_call(
    shared: &Arc<Shared>,
    actor: ActorRef<GeminiMsg>,
    prompt: Prompt,
    deadline: Instant,
    probe: Option<u64>,
    then: impl FnOnce(Result<Generated, GeminiError>) + Send + 'static,
) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let result = call(&shared, &prompt, deadline).await;
        let verdict = match &result {
            Ok(_) => Verdict::Answered,
            Err(e) => e.verdict(),
        };
        // The actor gone means redsol is stopping: nothing left to update.
        let _ = actor.cast(GeminiMsg::Finished { verdict, probe });
        then(result);
    });
}

/// The least time worth giving a request.
const MIN_REQUEST: Duration = Duration::from_millis(crate::settings::MIN_GEMINI_REQUEST_MS);

/// One call: a slot, then requests until one succeeds, fails for good, or the next retry
/// would end past the deadline.
async fn call(
    shared: &Shared,
    prompt: &Prompt,
    deadline: Instant,
) -> Result<Generated, GeminiError> {
    let _slot = match tokio::time::timeout_at(deadline, shared.slots.clone().acquire_owned()).await
    {
        Ok(Ok(permit)) => permit,
        _ => return Err(GeminiError::Busy),
    };
    let mut attempt = 0;
    loop {
        let started = Instant::now();
        // Never send what the conversation will not wait for; never wait past its deadline.
        let left = deadline.saturating_duration_since(started);
        if left < MIN_REQUEST {
            return Err(GeminiError::Busy);
        }
        let timeout = shared.call_timeout.min(left);
        let result = match shared.client.generate(prompt, timeout).await {
            // Cut short by the turn's deadline: says nothing about Gemini's health.
            Err(GeminiError::Timeout(_)) if timeout < shared.call_timeout => {
                Err(GeminiError::OutOfTime(timeout))
            }
            other => other,
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        metrics::histogram!("redsol_llm_request_seconds", "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        let error = match result {
            Ok(generated) => return Ok(generated),
            Err(e) => e,
        };
        if !error.retryable() || attempt >= shared.max_retries {
            tracing::warn!(outcome, attempts = attempt + 1, error = %error, "Gemini request failed");
            return Err(error);
        }
        let wait = error
            .retry_after()
            .unwrap_or_else(|| pacing::backoff(shared.backoff_base, shared.backoff_max, attempt));
        if Instant::now() + wait + MIN_REQUEST >= deadline {
            tracing::info!(outcome, wait_ms = wait.as_millis() as u64, error = %error, "Gemini request failed; no time left in the turn to retry");
            return Err(error);
        }
        tracing::debug!(
            outcome,
            wait_ms = wait.as_millis() as u64,
            "Gemini request failed; retrying"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// The handle on the Gemini actor: a [`LanguageModel`] for the hybrid brain. Cheap to clone.
#[derive(Clone)]
pub struct GeminiModel {
    actor: ActorRef<GeminiMsg>,
    prompts: Arc<Prompts>,
}

impl GeminiModel {
    /// Starts the actor (within a tokio runtime).
    pub async fn start(
        settings: &GeminiSettings,
        tuning: &BrainTuning,
        rules: &Rules,
    ) -> anyhow::Result<GeminiModel> {
        let client = GeminiClient::new(settings, tuning.call_timeout())?;
        let prompts = Arc::new(Prompts::new(rules, &tuning.facts, tuning.thinking_budget));
        let (actor, _handle) = Actor::spawn(
            None,
            GeminiActor,
            GeminiArgs {
                client,
                tuning: tuning.clone(),
                probe: prompts.classify(&check_request(tuning.call_timeout())),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the Gemini actor: {e}"))?;
        Ok(GeminiModel { actor, prompts })
    }

    /// Stops the actor.
    pub fn stop(&self) {
        self.actor.stop(None);
    }

    async fn run(&self, prompt: Prompt, deadline: Instant) -> Result<Generated, GeminiError> {
        let asked = self.actor.call(
            |reply| GeminiMsg::Call {
                prompt,
                deadline,
                reply,
            },
            None,
        );
        // The call itself never outlives the deadline by more than one request's timeout;
        // this bounds a caller that forgot its own budget.
        match tokio::time::timeout_at(deadline, asked).await {
            Ok(Ok(ractor::rpc::CallResult::Success(result))) => result,
            Ok(_) => Err(GeminiError::Connect(
                "the Gemini actor is not running".into(),
            )),
            Err(_) => Err(GeminiError::Timeout(
                deadline.saturating_duration_since(Instant::now()),
            )),
        }
    }

    /// One small classification, for `redsol status --check`.
    pub async fn check(&self, within: Duration) -> Result<ModelAnswer, ModelError> {
        self.classify(&check_request(within)).await
    }
}

/// A small, harmless classification: what `status --check` and the breaker's own probe send.
fn check_request(within: Duration) -> ModelRequest {
    ModelRequest {
        text: "hola, ¿qué planes tienen?".into(),
        history: Vec::new(),
        deadline: Instant::now() + within,
    }
}

fn model_error(e: GeminiError) -> ModelError {
    ModelError {
        outcome: e.outcome(),
        detail: e.to_string(),
    }
}

impl LanguageModel for GeminiModel {
    fn classify<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelAnswer, ModelError>> {
        Box::pin(async move {
            match self
                .run(self.prompts.classify(request), request.deadline)
                .await
            {
                Ok(Generated::Answer(a)) => Ok(a),
                Ok(Generated::Text(_)) => Err(model_error(GeminiError::Invalid(
                    "text instead of JSON".into(),
                ))),
                Err(e) => Err(model_error(e)),
            }
        })
    }

    fn word<'a>(
        &'a self,
        request: &'a ModelRequest,
        max_chars: usize,
    ) -> BoxFuture<'a, Result<String, ModelError>> {
        Box::pin(async move {
            match self
                .run(self.prompts.word(request, max_chars), request.deadline)
                .await
            {
                Ok(Generated::Text(t)) => Ok(t),
                Ok(Generated::Answer(_)) => Err(model_error(GeminiError::Invalid(
                    "JSON instead of text".into(),
                ))),
                Err(e) => Err(model_error(e)),
            }
        })
    }
}
