//! Gemini as a shared actor: the [`LanguageModel`] behind the hybrid brain.
//!
//! The [`GeminiActor`] owns the circuit breaker. Each call is checked against it, then runs in
//! its own task (so calls overlap) under a semaphore of `brain.max_concurrency` slots, with
//! retries of 429/500/503/504 (a 429's `RetryInfo.retryDelay` is honoured) that never run past
//! the caller's deadline. Every request's latency and outcome goes to
//! `redsol_llm_request_seconds{outcome}`.
//!
//! The breaker opens after `brain.breaker_failures` outages in a row (timeouts, 5xx, 429,
//! refused requests): while open, calls fail at once (`breaker_open`) and the conversation
//! answers with the offline NLU, so an outage costs one timeout, not one per message. After
//! `brain.breaker_cooldown_secs` one probe goes through; its success closes the breaker.
//! `redsol_llm_breaker_state` is 0 closed, 1 half-open (probing), 2 open.

mod client;
mod prompt;

pub use client::{GeminiClient, GeminiError, Generated};
pub use prompt::{Prompt, Prompts};

use crate::pacing;
use crate::settings::{BrainTuning, GeminiSettings};
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use redsol_actors::brain::{LanguageModel, ModelAnswer, ModelError, ModelRequest};
use redsol_actors::rules::Rules;
use redsol_actors::store::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The breaker's state, as the gauge shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Breaker {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe in flight; another may go after `until` if it never reports.
    HalfOpen {
        until: Instant,
    },
}

impl Breaker {
    fn gauge(self) -> f64 {
        match self {
            Breaker::Closed { .. } => 0.0,
            Breaker::HalfOpen { .. } => 1.0,
            Breaker::Open { .. } => 2.0,
        }
    }
}

pub enum GeminiMsg {
    /// Run one prompt (with retries) before `deadline`.
    Call {
        prompt: Prompt,
        deadline: Instant,
        reply: RpcReplyPort<Result<Generated, GeminiError>>,
    },
    /// A call finished; `outage` when it failed in a way that counts against the breaker.
    Finished { outage: bool, probe: bool },
}

/// What every call shares.
struct Shared {
    client: GeminiClient,
    slots: Arc<Semaphore>,
    max_retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
}

pub struct GeminiActor;

pub struct GeminiState {
    shared: Arc<Shared>,
    breaker: Breaker,
    failures_to_open: u32,
    cooldown: Duration,
}

impl GeminiState {
    fn set(&mut self, breaker: Breaker) {
        self.breaker = breaker;
        metrics::gauge!("redsol_llm_breaker_state").set(breaker.gauge());
    }

    /// Whether a call may go through now, and whether it is the half-open probe.
    fn admit(&mut self) -> Option<bool> {
        match self.breaker {
            Breaker::Closed { .. } => Some(false),
            Breaker::Open { until } | Breaker::HalfOpen { until } if Instant::now() >= until => {
                tracing::info!("language model circuit breaker half-open: probing Gemini");
                self.set(Breaker::HalfOpen {
                    until: Instant::now() + self.cooldown,
                });
                Some(true)
            }
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => None,
        }
    }

    fn finished(&mut self, outage: bool, probe: bool) {
        match self.breaker {
            Breaker::Closed { failures } if outage => {
                let failures = failures + 1;
                if failures >= self.failures_to_open {
                    self.open();
                } else {
                    self.set(Breaker::Closed { failures });
                }
            }
            Breaker::Closed { .. } => self.set(Breaker::Closed { failures: 0 }),
            Breaker::HalfOpen { .. } if probe && outage => self.open(),
            Breaker::HalfOpen { .. } if probe => {
                tracing::info!("Gemini answers again: circuit breaker closed");
                self.set(Breaker::Closed { failures: 0 });
            }
            // Late results of calls admitted before the breaker opened: the probe decides.
            Breaker::HalfOpen { .. } | Breaker::Open { .. } => {}
        }
    }

    fn open(&mut self) {
        tracing::warn!(
            event = "llm_breaker_open",
            cooldown_secs = self.cooldown.as_secs(),
            "Gemini keeps failing: circuit breaker open, conversations answer with the offline NLU"
        );
        self.set(Breaker::Open {
            until: Instant::now() + self.cooldown,
        });
    }
}

pub struct GeminiArgs {
    client: GeminiClient,
    tuning: BrainTuning,
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
        let mut state = GeminiState {
            shared: Arc::new(Shared {
                client: args.client,
                slots: Arc::new(Semaphore::new(t.max_concurrency)),
                max_retries: t.max_retries,
                backoff_base: Duration::from_millis(t.backoff_base_ms.max(1)),
                backoff_max: Duration::from_secs(t.backoff_max_secs),
            }),
            breaker: Breaker::Closed { failures: 0 },
            failures_to_open: t.breaker_failures,
            cooldown: Duration::from_secs(t.breaker_cooldown_secs),
        };
        state.set(Breaker::Closed { failures: 0 });
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
            } => match state.admit() {
                None => {
                    let _ = reply.send(Err(GeminiError::BreakerOpen));
                }
                Some(probe) => {
                    let shared = state.shared.clone();
                    tokio::spawn(async move {
                        let result = call(&shared, &prompt, deadline).await;
                        let outage = result.as_ref().err().is_some_and(GeminiError::is_outage);
                        // The actor gone means redsol is stopping: nothing left to update.
                        let _ = myself.cast(GeminiMsg::Finished { outage, probe });
                        let _ = reply.send(result);
                    });
                }
            },
            GeminiMsg::Finished { outage, probe } => state.finished(outage, probe),
        }
        Ok(())
    }
}

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
        let result = shared.client.generate(prompt).await;
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
        if Instant::now() + wait >= deadline {
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
        let (actor, _handle) = Actor::spawn(
            None,
            GeminiActor,
            GeminiArgs {
                client,
                tuning: tuning.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the Gemini actor: {e}"))?;
        Ok(GeminiModel {
            actor,
            prompts: Arc::new(Prompts::new(rules, &tuning.facts)),
        })
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
    pub async fn check(&self, within: Duration) -> Result<ModelAnswer, GeminiError> {
        let request = ModelRequest {
            text: "hola, ¿qué planes tienen?".into(),
            history: Vec::new(),
            deadline: Instant::now() + within,
        };
        match self
            .run(self.prompts.classify(&request), request.deadline)
            .await?
        {
            Generated::Answer(a) => Ok(a),
            Generated::Text(_) => Err(GeminiError::Invalid("text instead of JSON".into())),
        }
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
