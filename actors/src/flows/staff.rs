//! Staff reports: statistics, finance and client search (answered only to staff; the engine
//! refuses them to anyone else before they get here).

use crate::engine::{ConversationState, Dialogue, Engine};
use crate::model::{ConversationKey, Reply};
use crate::reports;
use crate::text;

impl Engine {
    pub(crate) async fn stats(&self) -> Reply {
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
        let mut r = self.with_menu(self.say(
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
        ));
        // Each open outage with the clients it touches and the reports linked to it.
        for o in self.open_outages() {
            let clients = clients.iter().filter(|c| c.zone == o.zone).count();
            let line = self.rules.render(
                "outage_stats",
                &[
                    ("id", o.id),
                    ("zone", o.zone),
                    ("clients", clients.to_string()),
                    ("reports", o.reports.to_string()),
                ],
            );
            r.text = format!("{}\n{line}", r.text);
        }
        r
    }

    pub(crate) async fn finance(&self) -> Reply {
        let clients = match self.store.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not compute finance figures");
                return self.say("store_error", &[]);
            }
        };
        let s = reports::Summary::of(&clients, &self.rules);
        let mut r = self.say(
            "finance",
            &[
                ("mrr", reports::money(s.mrr)),
                ("active", s.active.to_string()),
                ("arpu", reports::money(s.arpu())),
                ("by_plan", s.revenue_by_plan_line()),
                ("suspended", s.suspended.to_string()),
                ("at_risk", reports::money(s.at_risk)),
            ],
        );
        if let Some(collections) = self.collections().await {
            r.text = self.rules.finish(format!("{}\n\n{collections}", r.text));
        }
        self.with_menu(r)
    }

    pub(crate) async fn search(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
    ) -> Reply {
        state.dialogue = Dialogue::Idle;
        // Checked at the answer, not only at the question: a snapshot taken while asking may
        // outlive the user's place on the staff list.
        if !self.rules.is_staff(key) {
            tracing::warn!(
                event = "staff_refused",
                channel = key.channel.as_str(),
                conversation = %key.opaque_id(),
                "client search refused: the user is not staff (any more)"
            );
            return self.with_menu(self.say("staff_only", &[]));
        }
        state.private_reply = true;
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
        let mut r = self.say(
            "search_results",
            &[
                ("count", found.len().to_string()),
                ("query", query),
                ("list", list),
            ],
        );
        // One client found: their account too (staff see anyone's).
        if let [client] = found.as_slice() {
            match self.store.payments().payments_of(&client.id).await {
                Ok(payments) if !payments.is_empty() => {
                    let account = self.account(client, &payments, "");
                    r.text = self.rules.finish(format!("{}\n\n{}", r.text, account.text));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read a client's payments"),
            }
        }
        self.with_menu(r)
    }
}
