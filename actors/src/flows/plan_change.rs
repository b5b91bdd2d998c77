//! An existing client's plan change: which plan (buttons), then "¿Confirmo?" with the new
//! price from config, then a request recorded for staff.

use crate::brain::UnderstandContext;
use crate::dialogue::signals::{self, Signal};
use crate::engine::{ConversationState, Dialogue, Engine};
use crate::model::{ConversationKey, Intent, QuickReply, Reply, Understanding};

impl Engine {
    /// Asks which plan, or confirms the one named.
    pub(crate) fn step_change_plan(
        &self,
        state: &mut ConversationState,
        plan_mbps: Option<u32>,
    ) -> Reply {
        state.dialogue = Dialogue::ChangingPlan { plan_mbps };
        self.change_plan_question(plan_mbps)
    }

    pub(crate) fn change_plan_question(&self, plan_mbps: Option<u32>) -> Reply {
        match plan_mbps.and_then(|m| self.rules.plan(m)) {
            Some(p) => {
                let mut r = self.say(
                    "change_plan_confirm",
                    &[
                        ("plan", p.name.clone()),
                        ("mbps", p.mbps.to_string()),
                        ("price", p.price.to_string()),
                    ],
                );
                r.quick_replies = vec![
                    QuickReply::new("yes", "Sí, confirmo"),
                    QuickReply::new("cancel", "Cancelar"),
                ];
                r
            }
            None => {
                let mut r = self.say("change_plan_ask", &[("plans", self.rules.plan_lines())]);
                r.quick_replies = self.plan_buttons();
                r
            }
        }
    }

    pub(crate) async fn continue_change_plan(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        plan_mbps: Option<u32>,
    ) -> Reply {
        let named = u
            .entities
            .plan_mbps
            .filter(|m| self.rules.plan(*m).is_some());
        if let Some(mbps) = named {
            return self.step_change_plan(state, Some(mbps));
        }
        match (plan_mbps, signals::signal(t)) {
            (Some(mbps), Some(Signal::Yes)) => {
                let Some(plan) = self.rules.plan(mbps).cloned() else {
                    return self.step_change_plan(state, None);
                };
                let text = format!(
                    "Cambio a {} {} Mbps, ${}/mes",
                    plan.name, plan.mbps, plan.price
                );
                if !self
                    .record_for_staff(state, key, "change_plan", &text)
                    .await
                {
                    state.dialogue = Dialogue::ChangingPlan { plan_mbps };
                    return self.say("store_error", &[]);
                }
                state.dialogue = Dialogue::Idle;
                self.with_menu(self.say(
                    "change_plan_done",
                    &[
                        ("plan", plan.name.clone()),
                        ("mbps", plan.mbps.to_string()),
                        ("price", plan.price.to_string()),
                    ],
                ))
            }
            (Some(_), Some(Signal::No)) => self.step_change_plan(state, None),
            _ if self.switches(u) && u.intent != Intent::ChangePlan => {
                self.detour(state, key, t, u, ctx, Dialogue::ChangingPlan { plan_mbps })
                    .await
            }
            _ => {
                let mut r = self.change_plan_question(plan_mbps);
                state.dialogue = Dialogue::ChangingPlan { plan_mbps };
                r.text = format!("{}\n\n{}", self.rules.render("not_an_answer", &[]), r.text);
                r
            }
        }
    }
}
