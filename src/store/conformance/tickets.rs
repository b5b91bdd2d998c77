//! A ticket's follow-up, whatever keeps it: closed once, its rating awaited and recorded once,
//! reopened when it was not fixed.

use redsol_actors::model::{Channel, ConversationKey, IncidentKind, NewIncident, Priority};
use redsol_actors::store::tickets::{Survey, REOPENED};
use redsol_actors::store::Store;

/// On an empty store.
pub async fn a_ticket_is_closed_once_rated_once_and_reopened(store: &dyn Store) {
    let customer = ConversationKey::new(Channel::WhatsApp, "5214641");
    let ticket = store
        .create_incident(NewIncident {
            client_id: None,
            client_name: "Lupita".into(),
            kind: IncidentKind::NoService,
            description: "no hay internet".into(),
            priority: Priority::Alta,
            zone: Some("Norte".into()),
            phone: None,
            key: customer.clone(),
            source: Some("wa:5214641:m1".into()),
        })
        .await
        .expect("created");
    let tickets = store.tickets();
    let closed = tickets
        .close_incident(&ticket.id, "Resuelto", 5_000, Some("tg:900:c1".into()))
        .await
        .expect("closed")
        .expect("it was open");
    assert_eq!(closed.status, "Resuelto");
    // Told twice: acted on once; the message that closed it, replayed, finds it.
    assert!(tickets
        .close_incident(&ticket.id, "Cerrado", 5_100, None)
        .await
        .expect("no-op")
        .is_none());
    assert!(tickets
        .close_incident(&ticket.id, "Resuelto", 5_100, Some("tg:900:c1".into()))
        .await
        .expect("replayed")
        .is_some());

    let pending = tickets
        .survey_pending(&customer, 4_000)
        .await
        .expect("pending")
        .expect("awaits its rating");
    assert_eq!(pending.id, ticket.id);
    assert!(tickets
        .survey_pending(&customer, 6_000)
        .await
        .expect("later")
        .is_none());
    let rating = Survey {
        ticket: ticket.id.clone(),
        client: "Lupita".into(),
        rating: 5,
        comment: "rápido".into(),
        at: 5_500,
        source: Some("wa:5214641:m2".into()),
    };
    assert!(tickets.answer_survey(rating.clone()).await.expect("rated"));
    assert!(tickets
        .answer_survey(rating.clone())
        .await
        .expect("replayed"));
    assert!(!tickets
        .answer_survey(Survey {
            source: Some("wa:5214641:m3".into()),
            ..rating
        })
        .await
        .expect("twice"));
    assert!(tickets
        .survey_pending(&customer, 4_000)
        .await
        .expect("rated")
        .is_none());

    let reopened = tickets
        .reopen_incident(&ticket.id, 6_000)
        .await
        .expect("reopened")
        .expect("it was closed");
    assert_eq!(reopened.status, REOPENED);
    assert!(tickets
        .reopen_incident(&ticket.id, 6_100)
        .await
        .expect("open")
        .is_none());
}
