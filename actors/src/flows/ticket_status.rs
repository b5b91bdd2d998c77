//! A customer's tickets: the open ones, or the one named.

use crate::engine::Engine;
use crate::model::{ConversationKey, QuickReply, Reply};

impl Engine {
    /// The customer's open tickets, or only `wanted` (a ticket id they typed).
    pub(crate) async fn incident_status(
        &self,
        key: &ConversationKey,
        wanted: Option<&str>,
    ) -> Reply {
        match self.store.incidents_for(key).await {
            Ok(incidents) => {
                let open: Vec<_> = incidents
                    .iter()
                    .filter(|i| match wanted {
                        Some(id) => i.id == id,
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
}
