//! The replies every flow shares: a template filled, the menu, the buttons, the pending
//! question of the running flow, and the offer of a person after two misses in a row.

use super::state::{ConversationState, Dialogue};
use crate::engine::Engine;
use crate::model::{QuickReply, Reply};

impl Engine {
    /// A reply to a message the bot could not handle; the second in a row offers a person.
    pub(crate) fn missed(&self, state: &ConversationState, r: Reply) -> Reply {
        if state.misses >= 2 {
            let mut r = Reply {
                text: format!("{}\n\n{}", r.text, self.rules.render("offer_person", &[])),
                quick_replies: self.menu_buttons(),
                attachment: None,
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
    pub(crate) fn pending_question(&self, state: &ConversationState) -> Option<Reply> {
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
            Dialogue::Lead(d) => Some(self.lead_question(d)),
            Dialogue::CancellingService { .. } => {
                let mut r = self.say("cancel_service_confirm", &[]);
                r.quick_replies = yes_no_buttons();
                Some(r)
            }
            Dialogue::AskingCoverageZone => {
                Some(self.say("coverage_ask", &[("zones", self.rules.zone_list())]))
            }
            Dialogue::AskingSearchQuery => Some(self.say("search_ask", &[])),
            Dialogue::Billing(step) => Some(self.say(
                match step {
                    crate::flows::billing::BillingStep::AskId { .. } => "billing_ask_id",
                    crate::flows::billing::BillingStep::AskDigits { .. } => "billing_ask_digits",
                    crate::flows::billing::BillingStep::Receipt { .. } => "billing_ask_receipt",
                    crate::flows::billing::BillingStep::StaffId => "billing_staff_ask_id",
                },
                &[],
            )),
            Dialogue::Idle => None,
        }
    }

    pub(crate) fn say(&self, template: &str, values: &[(&str, String)]) -> Reply {
        Reply {
            text: self.rules.render(template, values),
            quick_replies: Vec::new(),
            attachment: None,
        }
    }

    pub(crate) fn with_menu(&self, mut r: Reply) -> Reply {
        r.quick_replies = self.menu_buttons();
        r
    }

    pub(crate) fn menu_buttons(&self) -> Vec<QuickReply> {
        vec![
            QuickReply::new("intent:plans", "Planes y precios"),
            QuickReply::new("intent:register", "Contratar"),
            QuickReply::new("intent:coverage", "Cobertura"),
            QuickReply::new("intent:report_incident", "Reportar falla"),
            QuickReply::new("intent:incident_status", "Mi reporte"),
        ]
    }

    pub(crate) fn zone_buttons(&self) -> Vec<QuickReply> {
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

pub(crate) fn yes_no_buttons() -> Vec<QuickReply> {
    vec![
        QuickReply::new("yes", "Sí, confirmo"),
        QuickReply::new("no", "Cambiar algo"),
        QuickReply::new("cancel", "Cancelar"),
    ]
}
