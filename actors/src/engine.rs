//! The conversation engine: one turn of dialogue, from an inbound message and the
//! conversation's state to a reply, reading and writing the store on the way.
//!
//! The dialogue is an enum whose variants carry what has been collected so far; the question
//! to ask next is derived from what is missing, so a user may give the details in any order,
//! or all at once.

use crate::brain::{Brain, UnderstandContext};
use crate::dialogue::signals::{self, Signal};
use crate::model::{
    Channel, Client, Content, ConversationKey, Inbound, IncidentKind, Intent, NewIncident,
    NewProspect, PendingRequest, Profile, QuickReply, Reply, Understanding,
};
use crate::reports;
use crate::rules::Rules;
use crate::store::Store;
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;

/// What a registration has collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterDraft {
    pub name: Option<String>,
    pub zone: Option<String>,
    pub plan_mbps: Option<u32>,
    /// The summary was shown and "¿Confirmo?" asked: nothing is written before a yes.
    #[serde(default)]
    pub confirming: bool,
}

/// What an incident report has collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDraft {
    pub description: Option<String>,
    pub kind: Option<IncidentKind>,
    pub since: Option<String>,
    pub modem_restarted: Option<bool>,
    /// The summary was shown and "¿Confirmo?" asked: nothing is written before a yes.
    #[serde(default)]
    pub confirming: bool,
}

/// Where the dialogue is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialogue {
    #[default]
    Idle,
    /// Signing up; asks for what is missing of name, zone and plan.
    Registering(RegisterDraft),
    /// Reporting a fault; asks for what is missing of description, since when, modem restart.
    Reporting(IncidentDraft),
    /// Asked which zone to check coverage for.
    AskingCoverageZone,
    /// A staff member asked to search without saying for whom.
    AskingSearchQuery,
    /// A client asked to change plan; the new plan, once known, waits for a yes.
    ChangingPlan { plan_mbps: Option<u32> },
    /// A client asked to cancel the service; waits for a yes before it is recorded.
    CancellingService { reason: String },
}

/// A flow the customer backed out of, kept for a day so "siempre sí" resumes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    pub dialogue: Dialogue,
    /// Unix seconds after which it is forgotten.
    pub until: u64,
}

/// How long a flow the customer backed out of is kept.
const PAUSED_SECS: u64 = 24 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// One remembered exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub user: String,
    pub bot: String,
}

/// The state of one conversation: snapshotted after every turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    pub dialogue: Dialogue,
    pub history: VecDeque<Turn>,
    /// What we learned of the user (platform profile, shared contact, given name).
    pub profile: Profile,
    /// Tokens left in the inbound rate-limit bucket.
    pub rate_tokens: Option<f64>,
    /// Whether the user was told they are rate limited (one notice per exhaustion).
    pub rate_notified: bool,
    /// The flow the user backed out of, if any (see [`Paused`]).
    #[serde(default)]
    pub paused: Option<Paused>,
    /// Messages in a row the bot could not handle; at two it offers a person.
    #[serde(default)]
    pub misses: u8,
    /// The plan and zone the user mentioned last (a price asked, a coverage checked), so
    /// "contrátamelo" knows which.
    #[serde(default)]
    pub last_plan: Option<u32>,
    #[serde(default)]
    pub last_zone: Option<String>,
}

/// Which slot a question was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RegSlot {
    Name,
    Zone,
    Plan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IncSlot {
    What,
    Since,
    Modem,
}

impl RegisterDraft {
    fn missing(&self) -> Option<RegSlot> {
        if self.name.is_none() {
            Some(RegSlot::Name)
        } else if self.zone.is_none() {
            Some(RegSlot::Zone)
        } else if self.plan_mbps.is_none() {
            Some(RegSlot::Plan)
        } else {
            None
        }
    }
}

impl IncidentDraft {
    fn missing(&self) -> Option<IncSlot> {
        if self.description.is_none() {
            Some(IncSlot::What)
        } else if self.since.is_none() {
            Some(IncSlot::Since)
        } else if self.modem_restarted.is_none() {
            Some(IncSlot::Modem)
        } else {
            None
        }
    }
}

/// What the brain is told of the conversation: its last turns, and when this turn began
/// (the brain's calls within one turn share one budget).
fn context_of(state: &ConversationState) -> UnderstandContext {
    UnderstandContext {
        history: state
            .history
            .iter()
            .map(|t| (t.user.clone(), t.bot.clone()))
            .collect(),
        started: Some(tokio::time::Instant::now()),
    }
}

/// Runs turns of dialogue. Shared by every conversation (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    pub(crate) rules: Arc<Rules>,
    brain: Arc<dyn Brain>,
    pub(crate) store: Arc<dyn Store>,
}

/// What the user said, once parsed: text to understand, or a tapped choice.
enum Said {
    Text(String),
    Forced(Intent),
    Nothing(&'static str),
}

impl Engine {
    pub fn new(rules: Arc<Rules>, brain: Arc<dyn Brain>, store: Arc<dyn Store>) -> Self {
        Self {
            rules,
            brain,
            store,
        }
    }

    pub fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// One turn: updates `state` and returns the reply.
    pub async fn turn(&self, state: &mut ConversationState, inbound: &Inbound) -> Reply {
        merge_profile(&mut state.profile, &inbound.profile);
        let said = self.parse(state, &inbound.content);
        let user_text = match &said {
            Said::Text(t) => t.clone(),
            Said::Forced(i) => format!("[{}]", i.as_str()),
            Said::Nothing(kind) => format!("[{kind}]"),
        };
        let reply = match said {
            Said::Nothing(template) => {
                let mut r = self.say(template, &[]);
                if let Some(q) = self.pending_question(state) {
                    r.text = format!("{}\n\n{}", r.text, q.text);
                    r.quick_replies = q.quick_replies;
                } else {
                    r.quick_replies = self.menu_buttons();
                }
                r
            }
            Said::Forced(intent) => {
                let u = Understanding {
                    intent,
                    confidence: 1.0,
                    entities: Default::default(),
                    source: crate::model::Source::Rules,
                };
                state.dialogue = Dialogue::Idle;
                self.dispatch(state, &inbound.key, "", &u, &context_of(state))
                    .await
            }
            Said::Text(t) => self.text_turn(state, &inbound.key, &t).await,
        };
        state.history.push_back(Turn {
            user: text::truncate_chars(&user_text, 200),
            bot: text::truncate_chars(&reply.text, 200),
        });
        while state.history.len() > self.rules.limits.history_turns {
            state.history.pop_front();
        }
        reply
    }

    /// The reply sent when a message was dropped after the restart budget ran out.
    pub fn apology(&self) -> Reply {
        Reply {
            text: self.rules.render("apology", &[]),
            quick_replies: self.menu_buttons(),
        }
    }

    /// The one notice a rate-limited user gets.
    pub fn rate_limited_notice(&self) -> Reply {
        Reply {
            text: self.rules.render("rate_limited", &[]),
            quick_replies: Vec::new(),
        }
    }

    fn parse(&self, state: &mut ConversationState, content: &Content) -> Said {
        match content {
            Content::Text(t) => {
                // Understanding reads the whole message; only what is stored is cut.
                let cleaned = text::clean_input(t, crate::nlu::MAX_UNDERSTOOD_CHARS);
                if text::fold(&cleaned).is_empty() && signals::signal(&cleaned).is_none() {
                    Said::Nothing("empty")
                } else {
                    Said::Text(cleaned)
                }
            }
            Content::Choice(id) => match choice_to_said(id) {
                Some(s) => s,
                None => Said::Text(text::clean_input(id, 100)),
            },
            Content::Location { name, address, .. } => {
                let hint = [name.as_deref(), address.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                match self.rules.find_zone(&hint) {
                    Some(z) => Said::Text(z.name.clone()),
                    None => Said::Nothing("unsupported"),
                }
            }
            Content::Contact { phone } => {
                state.profile.phone = Some(text::clean_input(phone, 20));
                Said::Nothing("contact_saved")
            }
            Content::Unsupported(_) => Said::Nothing("unsupported"),
        }
    }

    async fn text_turn(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
    ) -> Reply {
        let folded = text::fold(t);
        if let Some(reply) = self.repair(state, t) {
            return reply;
        }
        match folded.as_str() {
            "menu" | "inicio" | "ayuda" | "opciones" => {
                state.dialogue = Dialogue::Idle;
                return self.with_menu(self.say("menu", &[]));
            }
            "start" => {
                state.dialogue = Dialogue::Idle;
                return self.greeting(state);
            }
            _ => {}
        }
        let ctx = context_of(state);
        let u = self.brain.understand(t, &ctx).await;
        metrics::counter!("redsol_intents_total", "intent" => u.intent.as_str(), "source" => u.source.as_str())
            .increment(1);
        if let Some(phone) = &u.entities.phone {
            state.profile.phone = Some(phone.clone());
        }
        if u.entities.plan_mbps.is_some() {
            state.last_plan = u.entities.plan_mbps;
        }
        if u.entities.zone.is_some() {
            state.last_zone = u.entities.zone.clone();
        }

        match std::mem::take(&mut state.dialogue) {
            Dialogue::Idle => self.dispatch(state, key, t, &u, &ctx).await,
            Dialogue::Registering(draft) => {
                self.continue_register(state, key, t, &u, &ctx, draft).await
            }
            Dialogue::Reporting(draft) => {
                self.continue_incident(state, key, t, &u, &ctx, draft).await
            }
            Dialogue::AskingCoverageZone => {
                if u.entities.zone.is_some() || !self.switches(&u) {
                    self.coverage(state, t, &u)
                } else {
                    self.dispatch(state, key, t, &u, &ctx).await
                }
            }
            Dialogue::AskingSearchQuery => {
                if self.switches(&u) && u.intent != Intent::ClientSearch {
                    self.dispatch(state, key, t, &u, &ctx).await
                } else {
                    self.search(state, key, t).await
                }
            }
            Dialogue::ChangingPlan { plan_mbps } => {
                self.continue_change_plan(state, key, t, &u, &ctx, plan_mbps)
                    .await
            }
            Dialogue::CancellingService { reason } => {
                self.continue_cancel_service(state, key, t, &u, &ctx, reason)
                    .await
            }
        }
    }

    /// The repair patterns that need no understanding: backing out of a flow (kept a day for
    /// "siempre sí"), resuming it, and emoji-only messages.
    fn repair(&self, state: &mut ConversationState, t: &str) -> Option<Reply> {
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
            Signal::Cancel => Some(self.with_menu(self.say("cancelled", &[]))),
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
                })
            }
            Signal::Complaint => {
                let mut r = self.say("complaint", &[]);
                r.quick_replies = vec![QuickReply::new(
                    "intent:human_agent",
                    "Hablar con una persona",
                )];
                Some(r)
            }
            Signal::Greeting if !busy => Some(self.greeting(state)),
            Signal::Thanks if !busy => Some(self.with_menu(self.say("thanks", &[]))),
            _ => None,
        }
    }

    /// Whether an utterance in the middle of a flow is clearly about something else.
    pub(crate) fn switches(&self, u: &Understanding) -> bool {
        u.confidence >= 0.6 && u.intent != Intent::OutOfScope
    }

    async fn dispatch(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
    ) -> Reply {
        let missed = u.intent == Intent::OutOfScope || u.confidence < self.rules.min_confidence;
        state.misses = if missed {
            state.misses.saturating_add(1)
        } else {
            0
        };
        if missed && u.entities.place.is_some() && u.entities.zone.is_none() {
            return self.coverage(state, t, u);
        }
        if u.intent != Intent::OutOfScope && u.confidence < self.rules.min_confidence {
            return self.missed(state, self.say("not_understood", &[]));
        }
        if u.intent.staff_only() && !self.rules.is_staff(key) {
            tracing::warn!(
                event = "staff_refused",
                channel = key.channel.as_str(),
                conversation = %key.opaque_id(),
                intent = u.intent.as_str(),
                "staff-only request refused to a non-staff user"
            );
            return self.with_menu(self.say("staff_only", &[]));
        }
        match u.intent {
            Intent::Greeting => self.greeting(state),
            Intent::Help => self.with_menu(self.say("menu", &[])),
            Intent::Plans => self.plans(),
            Intent::Coverage => self.coverage(state, t, u),
            Intent::Register => {
                let draft = RegisterDraft {
                    name: u
                        .entities
                        .name
                        .clone()
                        .or_else(|| state.profile.name.clone()),
                    zone: u.entities.zone.clone().or_else(|| state.last_zone.clone()),
                    plan_mbps: u.entities.plan_mbps.or(state.last_plan),
                    confirming: false,
                };
                self.step_register(state, key, draft).await
            }
            Intent::ReportIncident => {
                let mut draft = IncidentDraft::default();
                fill_incident(&mut draft, t, u, None);
                self.step_incident(state, key, draft).await
            }
            Intent::IncidentStatus => self.incident_status(key, t).await,
            Intent::Billing => self.record(key, "billing", t, "billing").await,
            Intent::HumanAgent => self.record(key, "human_agent", t, "human_agent").await,
            Intent::ChangePlan => {
                let plan_mbps = u
                    .entities
                    .plan_mbps
                    .filter(|m| self.rules.plan(*m).is_some());
                self.step_change_plan(state, plan_mbps)
            }
            Intent::CancelService => {
                state.dialogue = Dialogue::CancellingService {
                    reason: text::truncate_chars(t, 300),
                };
                let mut r = self.say("cancel_service_confirm", &[]);
                r.quick_replies = yes_no_buttons();
                r
            }
            Intent::Goodbye => Reply {
                text: self.rules.render("goodbye", &[]),
                quick_replies: Vec::new(),
            },
            Intent::OutOfScope => match self.brain.word(t, ctx).await {
                Some(text) => self.with_menu(Reply {
                    text: self.rules.finish(text),
                    quick_replies: Vec::new(),
                }),
                None => self.missed(state, self.say("out_of_scope", &[])),
            },
            Intent::Stats => self.stats().await,
            Intent::Finance => self.finance().await,
            Intent::ClientSearch => {
                let query = reports::search_query(t);
                if query.is_empty() {
                    state.dialogue = Dialogue::AskingSearchQuery;
                    self.say("search_ask", &[])
                } else {
                    self.search(state, key, t).await
                }
            }
        }
    }

    fn greeting(&self, state: &ConversationState) -> Reply {
        let name = state
            .profile
            .name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .map(|n| format!(", {n}"))
            .unwrap_or_default();
        let greeting = self.rules.render("greeting", &[("name", name)]);
        let menu = self.rules.render("menu", &[]);
        self.with_menu(Reply {
            text: text::truncate_chars(
                &format!("{greeting}\n\n{menu}"),
                self.rules.limits.max_reply_chars,
            ),
            quick_replies: Vec::new(),
        })
    }

    fn plans(&self) -> Reply {
        let mut r = self.say("plans", &[("plans", self.rules.plan_lines())]);
        r.quick_replies = vec![
            QuickReply::new("intent:register", "Contratar"),
            QuickReply::new("intent:coverage", "Cobertura"),
            QuickReply::new("intent:help", "Menú"),
        ];
        r
    }

    fn coverage(&self, state: &mut ConversationState, t: &str, u: &Understanding) -> Reply {
        let zone = u
            .entities
            .zone
            .clone()
            .or_else(|| self.rules.find_zone(t).map(|z| z.name.clone()));
        match zone {
            Some(zone) => {
                state.dialogue = Dialogue::Idle;
                let mut r = self.say("coverage_yes", &[("zone", zone)]);
                r.quick_replies = vec![
                    QuickReply::new("intent:register", "Contratar"),
                    QuickReply::new("intent:plans", "Ver planes"),
                ];
                r
            }
            None if u.entities.place.is_some() => {
                state.dialogue = Dialogue::Idle;
                let place = u.entities.place.clone().unwrap_or_default();
                self.with_menu(self.say(
                    "no_coverage",
                    &[("place", place), ("zones", self.rules.zone_list())],
                ))
            }
            None => {
                let place = coverage_place(t);
                if matches!(state.dialogue, Dialogue::Idle) && place.is_none() {
                    state.dialogue = Dialogue::AskingCoverageZone;
                    let mut r = self.say("coverage_ask", &[("zones", self.rules.zone_list())]);
                    r.quick_replies = self.zone_buttons();
                    return r;
                }
                state.dialogue = Dialogue::Idle;
                let place = place.unwrap_or_else(|| text::truncate_chars(t, 40));
                self.with_menu(self.say(
                    "coverage_no",
                    &[("place", place), ("zones", self.rules.zone_list())],
                ))
            }
        }
    }

    async fn continue_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        mut draft: RegisterDraft,
    ) -> Reply {
        let asked = draft.missing();
        let signal = signals::signal(t);
        if draft.confirming {
            match signal {
                Some(Signal::Yes) => return self.finish_register(state, key, draft).await,
                Some(Signal::No) => {
                    draft.confirming = false;
                    state.dialogue = Dialogue::Registering(draft);
                    return self.say("register_what_to_change", &[]);
                }
                _ => {}
            }
        }
        // A question in the middle ("¿cuánto cuesta el premium?") is answered, not taken as
        // an answer, unless it names the very thing asked ("¿llegan a la norte?" for the zone).
        let question = matches!(
            u.intent,
            Intent::Plans | Intent::Coverage | Intent::Help | Intent::IncidentStatus
        ) && u.confidence >= 0.6;
        let folded = text::fold(t);
        let asks_price = ["cuanto", "cuesta", "precio", "costo", "vale", "sale"]
            .iter()
            .any(|w| folded.split(' ').any(|x| x == *w));
        let answers_slot = match asked {
            Some(RegSlot::Zone) => u.entities.zone.is_some() && u.intent != Intent::Plans,
            Some(RegSlot::Plan) => u.entities.plan_mbps.is_some() && !asks_price,
            _ => false,
        };
        if question
            && !answers_slot
            && !(u.intent == Intent::Coverage
                && u.entities.zone.is_some()
                && asked == Some(RegSlot::Zone))
        {
            return self
                .detour(state, key, t, u, ctx, Dialogue::Registering(draft))
                .await;
        }
        let before = draft.clone();
        let changes = fill_register(&mut draft, t, u, asked, &self.rules);
        let filled = draft != before;
        if !filled {
            if asked == Some(RegSlot::Zone) {
                if let Some(place) = &u.entities.place {
                    state.dialogue = Dialogue::Registering(draft);
                    let mut r = self.say(
                        "no_coverage",
                        &[("place", place.clone()), ("zones", self.rules.zone_list())],
                    );
                    r.quick_replies = self.zone_buttons();
                    return r;
                }
            }
            if self.switches(u) && u.intent != Intent::Register {
                return self
                    .detour(state, key, t, u, ctx, Dialogue::Registering(before))
                    .await;
            }
            if asked == Some(RegSlot::Zone) {
                state.dialogue = Dialogue::Registering(draft);
                return self.unknown_zone(t);
            }
            // Not an answer and nothing else we can do: say so and ask again.
            state.dialogue = Dialogue::Registering(draft);
            let q = self.pending_question(state).unwrap_or_default();
            return Reply {
                text: format!("{}\n\n{}", self.rules.render("not_an_answer", &[]), q.text),
                quick_replies: q.quick_replies,
            };
        }
        let mut reply = self.step_register(state, key, draft).await;
        if !changes.is_empty() {
            reply.text = self
                .rules
                .finish(format!("{}\n\n{}", changes.join("\n"), reply.text));
        }
        reply
    }

    /// Answers a question asked in the middle of a flow. Informational questions are answered
    /// and the flow goes on; another flow replaces this one.
    pub(crate) async fn detour(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        flow: Dialogue,
    ) -> Reply {
        match u.intent {
            Intent::Plans | Intent::Coverage | Intent::Help | Intent::Greeting => {
                let mut r = self.dispatch(state, key, t, u, ctx).await;
                state.dialogue = flow;
                if let Some(q) = self.pending_question(state) {
                    r.text = text::truncate_chars(
                        &format!("{}\n\n{}", r.text, q.text),
                        self.rules.limits.max_reply_chars,
                    );
                    r.quick_replies = q.quick_replies;
                }
                r
            }
            _ => self.dispatch(state, key, t, u, ctx).await,
        }
    }

    fn unknown_zone(&self, t: &str) -> Reply {
        let input = text::truncate_chars(t, 40);
        let suggestions = self.rules.suggest_zones(t, 3);
        let hint = if suggestions.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = suggestions.iter().map(|z| z.name.as_str()).collect();
            format!(" ¿Quisiste decir {}?", names.join(" o "))
        };
        let mut r = self.say(
            "register_unknown_zone",
            &[
                ("input", input),
                ("suggestions", hint),
                ("zones", self.rules.zone_list()),
            ],
        );
        r.quick_replies = if suggestions.is_empty() {
            self.zone_buttons()
        } else {
            suggestions
                .iter()
                .map(|z| QuickReply::new(format!("zone:{}", z.name), z.name.clone()))
                .collect()
        };
        r
    }

    async fn step_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: RegisterDraft,
    ) -> Reply {
        let Some(missing) = draft.missing() else {
            return self.confirm_register(state, draft);
        };
        let mut reply = self.register_question(&draft, missing);
        // Telegram does not give the phone: offer to share it with the first question asked.
        if missing == RegSlot::Zone
            && key.channel == Channel::Telegram
            && state.profile.phone.is_none()
        {
            reply.quick_replies.insert(
                0,
                QuickReply::new("contact:request", "📱 Compartir mi teléfono"),
            );
        }
        state.dialogue = Dialogue::Registering(draft);
        reply
    }

    /// Shows what will be saved and asks "¿Confirmo?": nothing is written before a yes.
    fn confirm_register(&self, state: &mut ConversationState, mut draft: RegisterDraft) -> Reply {
        draft.confirming = true;
        let r = self.register_summary(&draft);
        state.dialogue = Dialogue::Registering(draft);
        r
    }

    fn register_summary(&self, draft: &RegisterDraft) -> Reply {
        let plan = draft.plan_mbps.and_then(|m| self.rules.plan(m));
        let mut r = self.say(
            "register_confirm",
            &[
                ("name", draft.name.clone().unwrap_or_default()),
                ("zone", draft.zone.clone().unwrap_or_default()),
                ("plan", plan.map(|p| p.name.clone()).unwrap_or_default()),
                ("mbps", plan.map(|p| p.mbps.to_string()).unwrap_or_default()),
                (
                    "price",
                    plan.map(|p| p.price.to_string()).unwrap_or_default(),
                ),
            ],
        );
        r.quick_replies = yes_no_buttons();
        r
    }

    fn register_question(&self, draft: &RegisterDraft, slot: RegSlot) -> Reply {
        match slot {
            RegSlot::Name => {
                let mut r = self.say("register_ask_name", &[]);
                r.quick_replies = vec![QuickReply::new("cancel", "Cancelar")];
                r
            }
            RegSlot::Zone => {
                let name = draft.name.clone().unwrap_or_default();
                let first = name.split_whitespace().next().unwrap_or("").to_string();
                let mut r = self.say(
                    "register_ask_zone",
                    &[("name", first), ("zones", self.rules.zone_list())],
                );
                r.quick_replies = self.zone_buttons();
                r
            }
            RegSlot::Plan => {
                let mut r = self.say("register_ask_plan", &[("plans", self.rules.plan_lines())]);
                r.quick_replies = self.plan_buttons();
                r
            }
        }
    }

    async fn finish_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: RegisterDraft,
    ) -> Reply {
        let (Some(name), Some(zone), Some(mbps)) = (&draft.name, &draft.zone, draft.plan_mbps)
        else {
            state.dialogue = Dialogue::Registering(draft);
            return self.with_menu(self.say("not_understood", &[]));
        };
        let Some(plan) = self.rules.plan(mbps).cloned() else {
            let mut d = draft.clone();
            d.plan_mbps = None;
            let r = self.register_question(&d, RegSlot::Plan);
            state.dialogue = Dialogue::Registering(d);
            return r;
        };
        let prospect = NewProspect {
            name: name.clone(),
            phone: state.profile.phone.clone().or_else(|| phone_of(key)),
            zone: zone.clone(),
            plan_mbps: plan.mbps,
            price: plan.price,
            key: key.clone(),
        };
        match self.store.save_prospect(prospect).await {
            Ok(saved) => {
                metrics::counter!("redsol_registrations_total", "channel" => key.channel.as_str())
                    .increment(1);
                state.dialogue = Dialogue::Idle;
                state.profile.name.get_or_insert_with(|| name.clone());
                let mut r = self.say(
                    "register_done",
                    &[
                        ("name", name.clone()),
                        ("zone", zone.clone()),
                        ("plan", plan.name.clone()),
                        ("mbps", plan.mbps.to_string()),
                        ("price", plan.price.to_string()),
                        ("id", saved.id),
                    ],
                );
                r.quick_replies = self.menu_buttons();
                r
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not save a prospect; the draft is kept");
                state.dialogue = Dialogue::Registering(draft);
                self.say("store_error", &[])
            }
        }
    }

    async fn continue_incident(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        mut draft: IncidentDraft,
    ) -> Reply {
        if draft.confirming {
            match signals::signal(t) {
                Some(Signal::Yes) => return self.finish_incident(state, key, draft).await,
                Some(Signal::No) => {
                    draft.confirming = false;
                    draft.description = None;
                    draft.kind = None;
                    state.dialogue = Dialogue::Reporting(draft);
                    return self.incident_question(IncSlot::What);
                }
                _ => {}
            }
        }
        let asked = draft.missing();
        let before = draft.clone();
        fill_incident(&mut draft, t, u, asked);
        if draft == before {
            if self.switches(u) && u.intent != Intent::ReportIncident {
                return self
                    .detour(state, key, t, u, ctx, Dialogue::Reporting(before))
                    .await;
            }
            state.dialogue = Dialogue::Reporting(draft);
            let q = self.pending_question(state).unwrap_or_default();
            return Reply {
                text: format!("{}\n\n{}", self.rules.render("not_an_answer", &[]), q.text),
                quick_replies: q.quick_replies,
            };
        }
        self.step_incident(state, key, draft).await
    }

    async fn step_incident(
        &self,
        state: &mut ConversationState,
        _key: &ConversationKey,
        mut draft: IncidentDraft,
    ) -> Reply {
        let Some(missing) = draft.missing() else {
            draft.confirming = true;
            let r = self.incident_summary(&draft);
            state.dialogue = Dialogue::Reporting(draft);
            return r;
        };
        let reply = self.incident_question(missing);
        state.dialogue = Dialogue::Reporting(draft);
        reply
    }

    fn incident_summary(&self, draft: &IncidentDraft) -> Reply {
        let description = draft.description.clone().unwrap_or_default();
        let priority = self.rules.priority_for(&description, draft.kind);
        let mut r = self.say(
            "incident_confirm",
            &[
                ("description", text::truncate_chars(&description, 120)),
                ("since", draft.since.clone().unwrap_or_default()),
                ("priority", priority.as_str().to_string()),
            ],
        );
        r.quick_replies = yes_no_buttons();
        r
    }

    fn incident_question(&self, slot: IncSlot) -> Reply {
        match slot {
            IncSlot::What => {
                let mut r = self.say("incident_ask_what", &[]);
                r.quick_replies = vec![
                    QuickReply::new("kind:no_service", "Sin internet"),
                    QuickReply::new("kind:slow", "Internet lento"),
                    QuickReply::new("kind:intermittent", "Se corta"),
                ];
                r
            }
            IncSlot::Since => {
                let mut r = self.say("incident_ask_since", &[]);
                r.quick_replies = vec![
                    QuickReply::new("since:hoy", "Hoy"),
                    QuickReply::new("since:ayer", "Desde ayer"),
                    QuickReply::new("since:varios dias", "Varios días"),
                ];
                r
            }
            IncSlot::Modem => {
                let mut r = self.say("incident_ask_modem", &[]);
                r.quick_replies = vec![
                    QuickReply::new("modem:yes", "Sí, ya"),
                    QuickReply::new("modem:no", "No"),
                ];
                r
            }
        }
    }

    async fn finish_incident(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: IncidentDraft,
    ) -> Reply {
        let description = draft.description.clone().unwrap_or_default();
        let kind = draft.kind.unwrap_or(IncidentKind::Other);
        let priority = self.rules.priority_for(&description, Some(kind));
        let mut full = description.clone();
        if let Some(since) = &draft.since {
            if !text::fold(&full).contains(&text::fold(since)) {
                full.push_str(&format!(". Desde: {since}"));
            }
        }
        full.push_str(match draft.modem_restarted {
            Some(true) => ". Módem reiniciado: sí",
            Some(false) => ". Módem reiniciado: no",
            None => "",
        });
        let phone = state.profile.phone.clone().or_else(|| phone_of(key));
        let client = self.client_by_phone(phone.as_deref()).await;
        let incident = NewIncident {
            client_id: client.as_ref().map(|c| c.id.clone()),
            client_name: client
                .as_ref()
                .map(|c| c.name.clone())
                .or_else(|| state.profile.name.clone())
                .unwrap_or_else(|| "Sin registro".into()),
            kind,
            description: text::truncate_chars(&full, 500),
            priority,
            zone: client.as_ref().map(|c| c.zone.clone()),
            phone,
            key: key.clone(),
        };
        match self.store.create_incident(incident).await {
            Ok(saved) => {
                metrics::counter!(
                    "redsol_incidents_total",
                    "channel" => key.channel.as_str(),
                    "priority" => priority.as_str()
                )
                .increment(1);
                state.dialogue = Dialogue::Idle;
                let mut r = self.say(
                    "incident_done",
                    &[
                        ("id", saved.id),
                        ("description", text::truncate_chars(&description, 120)),
                        ("priority", priority.as_str().to_string()),
                    ],
                );
                r.quick_replies = vec![
                    QuickReply::new("intent:incident_status", "Ver mis reportes"),
                    QuickReply::new("intent:help", "Menú"),
                ];
                r
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not save an incident; the draft is kept");
                state.dialogue = Dialogue::Reporting(draft);
                self.say("store_error", &[])
            }
        }
    }

    async fn client_by_phone(&self, phone: Option<&str>) -> Option<Client> {
        let digits: String = phone?.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 10 {
            return None;
        }
        let last10 = &digits[digits.len() - 10..];
        let clients = self.store.clients().await.ok()?;
        clients.iter().find(|c| c.phone.ends_with(last10)).cloned()
    }

    async fn incident_status(&self, key: &ConversationKey, t: &str) -> Reply {
        match self.store.incidents_for(key).await {
            Ok(incidents) => {
                let wanted = ticket_in(t);
                let open: Vec<_> = incidents
                    .iter()
                    .filter(|i| match &wanted {
                        Some(id) => &i.id == id,
                        None => i.is_open(),
                    })
                    .take(5)
                    .collect();
                if open.is_empty() {
                    let mut r = self.say("status_none", &[]);
                    r.quick_replies = vec![
                        QuickReply::new("intent:report_incident", "Reportar falla"),
                        QuickReply::new("intent:help", "Menú"),
                    ];
                    return r;
                }
                let list = open
                    .iter()
                    .map(|i| {
                        format!(
                            "• {} · {} · {} · {}",
                            i.id,
                            i.status,
                            i.data.priority,
                            i.created_at.get(..10).unwrap_or(&i.created_at)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                self.with_menu(self.say("status_list", &[("list", list)]))
            }
            Err(e) => {
                tracing::error!(error = %e, "could not read incidents");
                self.say("store_error", &[])
            }
        }
    }

    async fn record(&self, key: &ConversationKey, kind: &str, t: &str, template: &str) -> Reply {
        let request = PendingRequest {
            kind: kind.into(),
            text: text::truncate_chars(t, 500),
            key: key.clone(),
        };
        if let Err(e) = self.store.record_request(request).await {
            tracing::error!(error = %e, kind, "could not record a request for staff");
        }
        self.with_menu(self.say(template, &[]))
    }

    async fn stats(&self) -> Reply {
        let (clients, open) = match (
            self.store.clients().await,
            self.store.open_incidents_by_priority().await,
        ) {
            (Ok(c), Ok(o)) => (c, o),
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "could not compute statistics");
                return self.say("store_error", &[]);
            }
        };
        let s = reports::Summary::of(&clients, &self.rules);
        let incidents = open
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.with_menu(self.say(
            "stats",
            &[
                ("total", s.total.to_string()),
                ("active", s.active.to_string()),
                ("suspended", s.suspended.to_string()),
                ("cancelled", s.cancelled.to_string()),
                ("by_zone", s.by_zone_line()),
                ("by_plan", s.by_plan_line()),
                ("mrr", reports::money(s.mrr)),
                ("incidents", incidents),
            ],
        ))
    }

    async fn finance(&self) -> Reply {
        let clients = match self.store.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not compute finance figures");
                return self.say("store_error", &[]);
            }
        };
        let s = reports::Summary::of(&clients, &self.rules);
        self.with_menu(self.say(
            "finance",
            &[
                ("mrr", reports::money(s.mrr)),
                ("active", s.active.to_string()),
                ("arpu", reports::money(s.arpu())),
                ("by_plan", s.revenue_by_plan_line()),
                ("suspended", s.suspended.to_string()),
                ("at_risk", reports::money(s.at_risk)),
            ],
        ))
    }

    async fn search(
        &self,
        state: &mut ConversationState,
        _key: &ConversationKey,
        t: &str,
    ) -> Reply {
        state.dialogue = Dialogue::Idle;
        let clients = match self.store.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not search clients");
                return self.say("store_error", &[]);
            }
        };
        let query = reports::search_query(t);
        let query = if query.is_empty() {
            text::clean_input(t, 60)
        } else {
            query
        };
        let found = reports::search(&clients, &query, &self.rules, 10);
        if found.is_empty() {
            return self.with_menu(self.say("search_none", &[("query", query)]));
        }
        let list = found
            .iter()
            .map(|c| {
                format!(
                    "• {} {} · {} · {} Mbps · {} · {}",
                    c.id, c.name, c.zone, c.plan_mbps, c.status, c.phone
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        self.with_menu(self.say(
            "search_results",
            &[
                ("count", found.len().to_string()),
                ("query", query),
                ("list", list),
            ],
        ))
    }

    /// A reply to a message the bot could not handle; the second in a row offers a person.
    fn missed(&self, state: &ConversationState, r: Reply) -> Reply {
        if state.misses >= 2 {
            let mut r = Reply {
                text: format!("{}\n\n{}", r.text, self.rules.render("offer_person", &[])),
                quick_replies: self.menu_buttons(),
            };
            r.quick_replies.insert(
                0,
                QuickReply::new("intent:human_agent", "Hablar con una persona"),
            );
            r
        } else {
            self.with_menu(r)
        }
    }

    /// The question the current flow is waiting on, if any.
    fn pending_question(&self, state: &ConversationState) -> Option<Reply> {
        match &state.dialogue {
            Dialogue::Registering(d) => Some(match d.missing() {
                Some(s) => self.register_question(d, s),
                None => self.register_summary(d),
            }),
            Dialogue::Reporting(d) => Some(match d.missing() {
                Some(s) => self.incident_question(s),
                None => self.incident_summary(d),
            }),
            Dialogue::ChangingPlan { plan_mbps } => Some(self.change_plan_question(*plan_mbps)),
            Dialogue::CancellingService { .. } => {
                let mut r = self.say("cancel_service_confirm", &[]);
                r.quick_replies = yes_no_buttons();
                Some(r)
            }
            Dialogue::AskingCoverageZone => {
                Some(self.say("coverage_ask", &[("zones", self.rules.zone_list())]))
            }
            Dialogue::AskingSearchQuery => Some(self.say("search_ask", &[])),
            Dialogue::Idle => None,
        }
    }

    pub(crate) fn say(&self, template: &str, values: &[(&str, String)]) -> Reply {
        Reply {
            text: self.rules.render(template, values),
            quick_replies: Vec::new(),
        }
    }

    pub(crate) fn with_menu(&self, mut r: Reply) -> Reply {
        r.quick_replies = self.menu_buttons();
        r
    }

    fn menu_buttons(&self) -> Vec<QuickReply> {
        vec![
            QuickReply::new("intent:plans", "Planes y precios"),
            QuickReply::new("intent:register", "Contratar"),
            QuickReply::new("intent:coverage", "Cobertura"),
            QuickReply::new("intent:report_incident", "Reportar falla"),
            QuickReply::new("intent:incident_status", "Mi reporte"),
        ]
    }

    fn zone_buttons(&self) -> Vec<QuickReply> {
        self.rules
            .zones
            .iter()
            .map(|z| QuickReply::new(format!("zone:{}", z.name), z.name.clone()))
            .collect()
    }

    pub(crate) fn plan_buttons(&self) -> Vec<QuickReply> {
        self.rules
            .plans
            .iter()
            .map(|p| {
                QuickReply::new(
                    format!("plan:{}", p.mbps),
                    format!("{} Mbps ${}", p.mbps, p.price),
                )
            })
            .collect()
    }
}

/// Fills registration slots from one message: an entity for a slot already filled is a
/// correction. Returns what was corrected, worded for the customer.
fn fill_register(
    draft: &mut RegisterDraft,
    t: &str,
    u: &Understanding,
    asked: Option<RegSlot>,
    rules: &Rules,
) -> Vec<String> {
    let mut changes = Vec::new();
    let names = crate::nlu::Nlu::embedded();
    // A name typed in answer to the name question, or introduced ("a nombre de...").
    let typed_name = u.entities.name.clone().or_else(|| {
        (asked == Some(RegSlot::Name) && !draft.confirming)
            .then(|| names.names().plausible(t))
            .flatten()
            .filter(|_| {
                signals::signal(t).is_none()
                    && !(u.confidence >= 0.8
                        && u.intent != Intent::OutOfScope
                        && u.intent != Intent::Register)
            })
    });
    if let Some(name) = typed_name {
        if draft.name.as_ref().is_some_and(|n| *n != name) && asked != Some(RegSlot::Name) {
            changes.push(format!("✏️ Cambié el nombre a {name}."));
        }
        draft.name = Some(name);
    }
    if let Some(zone) = &u.entities.zone {
        if draft.zone.as_ref().is_some_and(|z| z != zone) {
            changes.push(format!("✏️ Cambié tu zona a {zone}."));
        }
        draft.zone = Some(zone.clone());
    }
    let mut plan = u.entities.plan_mbps.filter(|m| rules.plan(*m).is_some());
    if plan.is_none() && (asked == Some(RegSlot::Plan) || draft.plan_mbps.is_some()) {
        plan = plan_by_words(t, rules);
    }
    if let Some(mbps) = plan {
        if draft.plan_mbps.is_some_and(|m| m != mbps) {
            if let Some(p) = rules.plan(mbps) {
                changes.push(format!(
                    "✏️ Cambié tu plan a {} {} Mbps, ${}/mes.",
                    p.name, p.mbps, p.price
                ));
            }
        }
        draft.plan_mbps = Some(mbps);
    }
    if !changes.is_empty() {
        draft.confirming = false;
    }
    changes
}

/// A plan named by how it compares: "el más barato", "el más rápido", "el de en medio".
fn plan_by_words(t: &str, rules: &Rules) -> Option<u32> {
    let folded = format!(" {} ", text::fold(t));
    let has = |w: &str| folded.contains(&format!(" {w} "));
    if has("barato") || has("economico") || has("sencillo") || has("basico") {
        rules.plans.iter().min_by_key(|p| p.price).map(|p| p.mbps)
    } else if has("rapido") || has("completo") || has("mejor") && has("mas") {
        rules.plans.iter().max_by_key(|p| p.mbps).map(|p| p.mbps)
    } else if has("medio") || has("intermedio") {
        let mut by_price: Vec<_> = rules.plans.iter().collect();
        by_price.sort_by_key(|p| p.price);
        by_price.get(by_price.len() / 2).map(|p| p.mbps)
    } else {
        None
    }
}

/// Fills incident slots from one message, each only with what answers it: a description
/// that describes a fault, a date or duration for "since when", a yes or no for the modem.
fn fill_incident(draft: &mut IncidentDraft, t: &str, u: &Understanding, asked: Option<IncSlot>) {
    let e = &u.entities;
    let folded = text::fold(t);
    let chosen = folded
        .strip_prefix("kind ")
        .and_then(|k| IncidentKind::parse(&k.replace(' ', "_")));
    let describes = chosen.is_some()
        || e.incident_kind.is_some_and(|k| k != IncidentKind::Other)
        || (u.intent == Intent::ReportIncident
            && asked == Some(IncSlot::What)
            && t.split_whitespace().count() >= 2
            && !is_bare_report_request(&folded));
    if describes && (draft.description.is_none() || asked != Some(IncSlot::What)) {
        let fresh = draft.description.is_none();
        if let Some(kind) = chosen {
            draft.kind = Some(kind);
            draft.description = Some(kind.label_es().to_string());
        } else if fresh || e.incident_kind.is_some_and(|k| k != IncidentKind::Other) {
            let text = text::truncate_chars(t, 300);
            draft.description = Some(match (&draft.description, fresh) {
                (Some(old), false) if !old.contains(&text) => {
                    text::truncate_chars(&format!("{old}. {text}"), 300)
                }
                _ => text,
            });
            draft.kind = match (draft.kind, e.incident_kind) {
                (Some(IncidentKind::NoService), _) => Some(IncidentKind::NoService),
                (_, Some(k)) if k != IncidentKind::Other => Some(k),
                (k, _) => k.or(Some(IncidentKind::Other)),
            };
        }
        draft.confirming = false;
    }
    if draft.since.is_none() || asked == Some(IncSlot::Since) {
        if let Some(since) = &e.since {
            draft.since = Some(since.clone());
        } else if asked == Some(IncSlot::Since) && signals::is_when(t) {
            draft.since = Some(text::truncate_chars(t, 60));
        }
    }
    if draft.modem_restarted.is_none() {
        if let Some(r) = e.modem_restarted {
            draft.modem_restarted = Some(r);
        } else if asked == Some(IncSlot::Modem) {
            let answer = match signals::signal(t) {
                Some(Signal::Yes) => Some(true),
                Some(Signal::No) => Some(false),
                _ => yes_no(t),
            };
            if let Some(yes) = answer {
                draft.modem_restarted = Some(yes);
            }
        }
    }
}

/// "quiero reportar una falla": asks to report, says nothing of the fault.
fn is_bare_report_request(folded: &str) -> bool {
    let words: Vec<&str> = folded.split(' ').collect();
    let fault_words = [
        "internet", "senal", "lento", "lenta", "jala", "funciona", "sirve", "corta", "cae", "cayo",
        "modem", "luz", "cable", "wifi", "conexion", "servicio", "va", "fue", "antena", "red",
    ];
    words.len() <= 8 && !words.iter().any(|w| fault_words.contains(w))
}

/// "sí", "ya", "simon" → true; "no", "nel", "todavía no" → false.
fn yes_no(t: &str) -> Option<bool> {
    let folded = text::fold(t);
    let words: Vec<&str> = folded.split(' ').collect();
    let no = ["no", "nel", "nop", "nope", "negativo", "tampoco", "nunca"];
    let yes = [
        "si",
        "ya",
        "simon",
        "sip",
        "claro",
        "afirmativo",
        "obvio",
        "yes",
        "sii",
        "aja",
    ];
    if words.iter().any(|w| no.contains(w)) {
        Some(false)
    } else if words.iter().any(|w| yes.contains(w)) {
        Some(true)
    } else {
        None
    }
}

/// Maps a quick-reply id to what it means.
fn choice_to_said(id: &str) -> Option<Said> {
    let (kind, value) = id.split_once(':').unwrap_or((id, ""));
    match kind {
        "intent" => Intent::parse(value).map(Said::Forced),
        "cancel" => Some(Said::Text("cancelar".into())),
        "yes" => Some(Said::Text("sí".into())),
        "no" => Some(Said::Text("no".into())),
        "resume" => Some(Said::Text("siempre sí".into())),
        "zone" => Some(Said::Text(value.to_string())),
        "plan" => Some(Said::Text(format!("el de {value} megas"))),
        "modem" => Some(Said::Text(if value == "yes" { "sí" } else { "no" }.into())),
        "since" => Some(Said::Text(value.to_string())),
        "kind" => Some(Said::Text(format!("kind {value}"))),
        // The platform answers a contact request with a contact, not with this id.
        "contact" => Some(Said::Nothing("empty")),
        _ => None,
    }
}

/// A place named in a coverage question that is not one of our zones ("¿llegan a León?").
fn coverage_place(t: &str) -> Option<String> {
    let words: Vec<&str> = t
        .split(|c: char| !(c.is_alphanumeric() || c == ' '))
        .flat_map(str::split_whitespace)
        .collect();
    let folded: Vec<String> = words.iter().map(|w| text::fold(w)).collect();
    let pos = folded
        .iter()
        .rposition(|w| matches!(w.as_str(), "a" | "en" | "por" | "hasta" | "colonia" | "col"))?;
    let place: Vec<&str> = words[pos + 1..]
        .iter()
        .zip(&folded[pos + 1..])
        .filter(|(_, f)| !matches!(f.as_str(), "la" | "el" | "los" | "las" | "mi" | "zona"))
        .map(|(w, _)| *w)
        .take(4)
        .collect();
    (!place.is_empty()).then(|| place.join(" "))
}

/// A ticket id typed by the user ("inc-000123", "INC 123").
fn ticket_in(t: &str) -> Option<String> {
    let folded = text::fold(t);
    let words: Vec<&str> = folded.split(' ').collect();
    words.iter().enumerate().find_map(|(i, w)| {
        let digits = w
            .strip_prefix("inc")
            .filter(|d| !d.is_empty())
            .or_else(|| (*w == "inc").then(|| words.get(i + 1).copied()).flatten())?;
        digits.parse::<u64>().ok().map(crate::store::incident_id)
    })
}

/// The phone of a WhatsApp user is their id.
fn phone_of(key: &ConversationKey) -> Option<String> {
    (key.channel == Channel::WhatsApp && key.user.chars().all(|c| c.is_ascii_digit()))
        .then(|| key.user.clone())
}

fn merge_profile(into: &mut Profile, from: &Profile) {
    if let Some(name) = from.name.as_ref().filter(|n| !n.trim().is_empty()) {
        if into.name.is_none() {
            into.name = Some(text::clean_input(name, 60));
        }
    }
    if let Some(phone) = &from.phone {
        into.phone = Some(phone.clone());
    }
}

fn yes_no_buttons() -> Vec<QuickReply> {
    vec![
        QuickReply::new("yes", "Sí, confirmo"),
        QuickReply::new("no", "Cambiar algo"),
        QuickReply::new("cancel", "Cancelar"),
    ]
}
