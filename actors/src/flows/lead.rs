//! A customer where we do not reach yet: "Todavía no llegamos a Irapuato", and the offer to
//! leave name and phone so staff call when the network arrives. Saved as a prospect with
//! Estado "Sin cobertura" after a summary and a yes.

use crate::dialogue::signals::{self, Signal};
use crate::engine::{phone_of, yes_no_buttons, ConversationState, Dialogue, Engine};
use crate::model::{ConversationKey, NewProspect, QuickReply, Reply, Understanding};
use serde::{Deserialize, Serialize};

/// Where the offer stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeadStage {
    /// "¿Quieres que te avisemos?" was asked.
    #[default]
    Offered,
    /// Collecting name and phone.
    Collecting,
    /// The summary was shown and "¿Confirmo?" asked.
    Confirming,
}

/// What a lead outside coverage has collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadDraft {
    pub place: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub stage: LeadStage,
}

impl Engine {
    /// "Todavía no llegamos a …", with the offer to be called when we do (`offer`), which
    /// starts the lead flow.
    pub(crate) fn no_coverage(
        &self,
        state: &mut ConversationState,
        place: &str,
        offer: bool,
    ) -> Reply {
        let text = self.rules.render(
            "no_coverage",
            &[
                ("place", place.to_string()),
                ("zones", self.rules.zone_list()),
            ],
        );
        if !offer {
            return self.with_menu(Reply {
                text,
                quick_replies: Vec::new(),
                attachment: None,
            });
        }
        state.dialogue = Dialogue::Lead(LeadDraft {
            place: place.to_string(),
            name: state.profile.name.clone(),
            phone: None,
            stage: LeadStage::Offered,
        });
        Reply {
            text: self
                .rules
                .finish(format!("{text}\n{}", self.rules.render("lead_offer", &[]))),
            quick_replies: vec![
                QuickReply::new("yes", "Sí, avísenme"),
                QuickReply::new("no", "No, gracias"),
            ],
            attachment: None,
        }
    }

    /// Starts collecting name and phone for a place we do not reach (the offer was taken).
    pub(crate) fn start_lead(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        place: &str,
    ) -> Reply {
        let draft = LeadDraft {
            place: place.to_string(),
            name: state.profile.name.clone(),
            phone: state.profile.phone.clone().or_else(|| phone_of(key)),
            stage: LeadStage::Collecting,
        };
        self.step_lead(state, draft)
    }

    pub(crate) async fn continue_lead(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        mut draft: LeadDraft,
    ) -> Option<Reply> {
        let signal = signals::signal(t);
        match draft.stage {
            LeadStage::Offered => match signal {
                Some(Signal::Yes) => draft.stage = LeadStage::Collecting,
                Some(Signal::No) => {
                    state.dialogue = Dialogue::Idle;
                    return Some(self.with_menu(self.say("lead_declined", &[])));
                }
                // Anything else is a message of its own: the offer lapses.
                _ => return None,
            },
            LeadStage::Confirming => match signal {
                Some(Signal::Yes) => return Some(self.save_lead(state, key, draft).await),
                Some(Signal::No) => {
                    state.dialogue = Dialogue::Idle;
                    return Some(self.with_menu(self.say("cancelled_flow", &[])));
                }
                _ => {}
            },
            LeadStage::Collecting => {}
        }
        let names = crate::nlu::Nlu::embedded();
        let name = u.entities.name.clone().or_else(|| {
            (draft.name.is_none() && signal.is_none())
                .then(|| names.names().plausible(t))
                .flatten()
        });
        if let Some(name) = name {
            draft.name = Some(name);
        }
        if let Some(phone) = &u.entities.phone {
            draft.phone = Some(phone.clone());
        }
        if draft.phone.is_none() {
            draft.phone = state.profile.phone.clone().or_else(|| phone_of(key));
        }
        Some(self.step_lead(state, draft))
    }

    fn step_lead(&self, state: &mut ConversationState, mut draft: LeadDraft) -> Reply {
        let reply = if draft.name.is_none() {
            self.say("lead_ask_name", &[])
        } else if draft.phone.is_none() {
            self.say("lead_ask_phone", &[])
        } else {
            draft.stage = LeadStage::Confirming;
            let mut r = self.lead_summary(&draft);
            r.quick_replies = yes_no_buttons();
            r
        };
        state.dialogue = Dialogue::Lead(draft);
        reply
    }

    pub(crate) fn lead_question(&self, draft: &LeadDraft) -> Reply {
        match draft.stage {
            LeadStage::Offered => {
                let mut r = self.say("lead_offer", &[]);
                r.quick_replies = yes_no_buttons();
                r
            }
            LeadStage::Collecting if draft.name.is_none() => self.say("lead_ask_name", &[]),
            LeadStage::Collecting => self.say("lead_ask_phone", &[]),
            LeadStage::Confirming => {
                let mut r = self.lead_summary(draft);
                r.quick_replies = yes_no_buttons();
                r
            }
        }
    }

    fn lead_summary(&self, draft: &LeadDraft) -> Reply {
        self.say(
            "lead_confirm",
            &[
                ("name", draft.name.clone().unwrap_or_default()),
                ("phone", draft.phone.clone().unwrap_or_default()),
                ("place", draft.place.clone()),
            ],
        )
    }

    async fn save_lead(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: LeadDraft,
    ) -> Reply {
        let prospect = NewProspect {
            name: draft.name.clone().unwrap_or_default(),
            phone: draft.phone.clone(),
            zone: draft.place.clone(),
            plan_mbps: 0,
            price: 0,
            key: key.clone(),
            outside_coverage: true,
            source: state.turn_source.clone(),
        };
        match self.store.save_prospect(prospect).await {
            Ok(saved) => {
                state.dialogue = Dialogue::Idle;
                self.with_menu(self.say("lead_done", &[("place", draft.place), ("id", saved.id)]))
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not save a lead outside coverage; the draft is kept");
                state.dialogue = Dialogue::Lead(draft);
                self.say("store_error", &[])
            }
        }
    }
}
