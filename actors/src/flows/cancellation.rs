//! A client's request to cancel the service: "¿Confirmas?", then a request recorded for staff
//! (who call to retain or close the account). Never a registration.

use crate::brain::UnderstandContext;
use crate::dialogue::signals::{self, Signal};
use crate::engine::{ConversationState, Dialogue, Engine};
use crate::model::{ConversationKey, Intent, Reply, Understanding};

impl Engine {
    pub(crate) async fn continue_cancel_service(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        reason: String,
    ) -> Reply {
        match signals::signal(t) {
            Some(Signal::Yes) => {
                if !self
                    .record_for_staff(state, key, "cancel_service", &reason)
                    .await
                {
                    state.dialogue = Dialogue::CancellingService { reason };
                    return self.say("store_error", &[]);
                }
                state.dialogue = Dialogue::Idle;
                self.with_menu(self.say("cancel_service_done", &[]))
            }
            Some(Signal::No) => {
                state.dialogue = Dialogue::Idle;
                self.with_menu(self.say("cancel_service_kept", &[]))
            }
            _ if self.switches(u) && u.intent != Intent::CancelService => {
                self.detour(
                    state,
                    key,
                    t,
                    u,
                    ctx,
                    Dialogue::CancellingService { reason },
                )
                .await
            }
            _ => {
                state.dialogue = Dialogue::CancellingService { reason };
                let mut r = self.say("cancel_service_confirm", &[]);
                r.quick_replies = vec![
                    crate::model::QuickReply::new("yes", "Sí, dar de baja"),
                    crate::model::QuickReply::new("no", "No, lo conservo"),
                ];
                r
            }
        }
    }
}
