//! What staff see of a customer who asked for a person: the card in the staff chat (name,
//! channel, zone, open tickets, topic; nothing else), and the customer's snapshot, client
//! record and open tickets it is made of.

use super::{channel_name, TAKE};
use crate::engine::{phone_of, ConversationState, Engine};
use crate::model::{ConversationKey, QuickReply, Reply};
use crate::store::handoff::Handoff;

impl Engine {
    /// The card staff see in the group: name, channel, zone, open tickets, topic; nothing else.
    pub(super) async fn card(&self, h: &Handoff, snapshot: &ConversationState) -> Reply {
        let client = self.customer_client(&h.customer, snapshot).await;
        let zone = snapshot
            .last_zone
            .clone()
            .or_else(|| client.as_ref().map(|c| c.zone.clone()))
            .unwrap_or_else(|| "sin zona".into());
        let tickets = self.open_tickets(&h.customer).await;
        let mut r = self.say(
            "handoff_card",
            &[
                ("id", h.id.clone()),
                ("name", h.name.clone()),
                ("channel", channel_name(h.customer.channel).into()),
                ("zone", zone),
                ("tickets", tickets),
                ("topic", h.topic.clone()),
            ],
        );
        r.quick_replies = vec![QuickReply::new(format!("{TAKE}{}", h.id), "Atender")];
        r
    }

    pub(super) async fn customer_state(&self, customer: &ConversationKey) -> ConversationState {
        match self.store.load_snapshot(customer).await {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
            _ => ConversationState::default(),
        }
    }

    pub(super) async fn customer_client(
        &self,
        customer: &ConversationKey,
        snapshot: &ConversationState,
    ) -> Option<crate::model::Client> {
        let phone = snapshot
            .profile
            .phone
            .clone()
            .or_else(|| phone_of(customer));
        self.client_by_phone(phone.as_deref()).await
    }

    pub(super) async fn open_tickets(&self, customer: &ConversationKey) -> String {
        let ids: Vec<String> = self
            .store
            .incidents_for(customer)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.is_open())
            .map(|i| i.id)
            .collect();
        if ids.is_empty() {
            "ninguno".into()
        } else {
            ids.join(", ")
        }
    }
}
