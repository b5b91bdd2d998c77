//! Right after a registration, "ay no espera, mejor en la sur" corrects it.

use crate::dialogue::signals;
use crate::engine::{ConversationState, Engine};
use crate::model::{ConversationKey, Reply, Understanding};
use crate::text;

impl Engine {
    /// Right after a registration, "ay no espera, mejor en la sur" corrects it: the change is
    /// recorded for staff against the saved prospect and said back.
    pub(crate) async fn correct_last_registration(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
    ) -> Option<Reply> {
        let last = state.last_registration.as_ref()?;
        if last.until <= crate::dialogue::state::unix_now() || signals::is_question(t) {
            return None;
        }
        let folded = format!(" {} ", text::fold(t));
        let cue = [
            " mejor ",
            " espera ",
            " perdon ",
            " me equivoque ",
            " cambia ",
            " corrige ",
            " no era ",
            " en realidad ",
            " siempre no ",
        ]
        .iter()
        .any(|c| folded.contains(c));
        let zone = u.entities.zone.clone().filter(|z| *z != last.zone);
        let plan = u
            .entities
            .plan_mbps
            .filter(|m| *m != last.plan_mbps)
            .and_then(|m| self.rules.plan(m).cloned());
        if !cue || (zone.is_none() && plan.is_none()) {
            return None;
        }
        let mut change = Vec::new();
        if let Some(z) = &zone {
            change.push(format!("zona {z}"));
        }
        if let Some(p) = &plan {
            change.push(format!("plan {} {} Mbps, ${}/mes", p.name, p.mbps, p.price));
        }
        let change = change.join(" y ");
        let id = last.id.clone();
        if !self
            .record_for_staff(
                state,
                key,
                "registration_correction",
                &format!("{id}: {change}"),
            )
            .await
        {
            return Some(self.say("store_error", &[]));
        }
        if let Some(last) = state.last_registration.as_mut() {
            if let Some(z) = zone {
                last.zone = z;
            }
            if let Some(p) = plan {
                last.plan_mbps = p.mbps;
            }
        }
        Some(self.with_menu(self.say("registration_corrected", &[("id", id), ("change", change)])))
    }
}
