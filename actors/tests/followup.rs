//! A ticket's follow-up, turn by turn: `/cerrar` tells the customer and asks for a rating; a
//! low rating or "no se arregló" reopens the ticket and alerts the staff chat; a good one is
//! thanked; nobody rates somebody else's ticket, and nobody but staff closes one.

mod common;

use common::desk::{desk_at, group, Desk, Party};
use common::MONDAY_10AM;
use redsol_actors::model::{Channel, Content, Incident, IncidentKind, NewIncident, Priority};
use redsol_actors::store::Store;

async fn ticket_of(desk: &Desk, customer: &Party) -> Incident {
    desk.store
        .create_incident(NewIncident {
            client_id: Some("CLI-0007".into()),
            client_name: customer.name.into(),
            kind: IncidentKind::NoService,
            description: "no hay internet".into(),
            priority: Priority::Alta,
            zone: Some("Norte".into()),
            phone: None,
            key: customer.key.clone(),
            source: None,
        })
        .await
        .expect("incident saved")
}

fn status(desk: &Desk, id: &str) -> String {
    desk.store
        .incidents()
        .into_iter()
        .find(|i| i.id == id)
        .map(|i| i.status)
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn a_closed_ticket_is_told_rated_and_reopened_when_it_was_not_fixed() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut customer = Party::new(Channel::WhatsApp, "5214641112233", "Lupita");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let ticket = ticket_of(&desk, &customer).await;

    let closed = desk
        .say(
            &mut ana,
            &format!("/cerrar {} cambiamos el conector", ticket.id),
        )
        .await;
    assert!(
        closed.text().contains("le avisé al cliente"),
        "{}",
        closed.text()
    );
    let notice = closed
        .others
        .iter()
        .find(|a| a.key == customer.key)
        .expect("the customer is told");
    assert!(
        notice.reply.text.contains(&ticket.id)
            && notice.reply.text.contains("cambiamos el conector")
            && notice.reply.text.contains("Califica del 1 al 5"),
        "{}",
        notice.reply.text
    );
    assert_eq!(notice.reply.quick_replies.len(), 5);
    assert_eq!(status(&desk, &ticket.id), "Resuelto");
    // Closed twice, told once.
    let again = desk.say(&mut ana, &format!("/cerrar {}", ticket.id)).await;
    assert!(again.text().contains("No encontré"), "{}", again.text());
    assert!(again.others.is_empty());

    // The customer taps 2: recorded, reopened, staff alerted.
    let two = notice.reply.quick_replies[1].id.clone();
    let rated = desk.send(&mut customer, Content::Choice(two), None).await;
    assert!(rated.text().contains("Reabrí"), "{}", rated.text());
    let alert = rated.to(&group()).join("");
    assert!(
        alert.contains(&ticket.id) && alert.contains("calificó con 2"),
        "{alert}"
    );
    assert_eq!(status(&desk, &ticket.id), "Reabierto");
    let surveys = desk.store.surveys();
    assert_eq!(surveys.len(), 1);
    assert_eq!(
        (surveys[0].rating, surveys[0].client.as_str()),
        (2, "CLI-0007")
    );

    // Rated once: a second answer records nothing.
    let late = desk.say(&mut customer, "5").await;
    assert!(late.others.is_empty());
    assert_eq!(desk.store.surveys().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn typed_answers_rate_the_latest_closed_ticket() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut customer = Party::new(Channel::Telegram, "321", "Memo");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");

    let first = ticket_of(&desk, &customer).await;
    desk.say(&mut ana, &format!("/cerrar {}", first.id)).await;
    let thanks = desk.say(&mut customer, "le doy un 5").await;
    assert!(
        thanks.text().contains("calificarnos con 5"),
        "{}",
        thanks.text()
    );
    assert!(thanks.to(&group()).is_empty(), "no alert for a good rating");
    assert_eq!(status(&desk, &first.id), "Resuelto");

    let second = ticket_of(&desk, &customer).await;
    desk.say(
        &mut ana,
        &format!("/cerrar {} reiniciamos la antena", second.id),
    )
    .await;
    let unhappy = desk.say(&mut customer, "no se arregló, sigue igual").await;
    assert!(unhappy.text().contains(&second.id), "{}", unhappy.text());
    assert!(unhappy.to(&group()).join("").contains("sigue igual"));
    assert_eq!(status(&desk, &second.id), "Reabierto");
    let ratings: Vec<u8> = desk.store.surveys().iter().map(|s| s.rating).collect();
    assert_eq!(ratings, [5, 1]);
}

#[tokio::test(start_paused = true)]
async fn nobody_rates_another_customers_ticket_and_only_staff_close() {
    let mut desk = desk_at(MONDAY_10AM);
    let owner = Party::new(Channel::WhatsApp, "5214640000001", "Rosa");
    let mut other = Party::new(Channel::WhatsApp, "5214640000002", "Toño");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let ticket = ticket_of(&desk, &owner).await;

    let refused = desk
        .say(&mut other, &format!("/cerrar {}", ticket.id))
        .await;
    assert!(
        refused.text().contains("solo para el personal"),
        "{}",
        refused.text()
    );
    assert_eq!(status(&desk, &ticket.id), "Nuevo");

    desk.say(&mut ana, &format!("/cerrar {}", ticket.id)).await;
    let forged = desk
        .send(
            &mut other,
            Content::Choice(format!("rate:{}:1", ticket.id)),
            None,
        )
        .await;
    assert!(forged.others.is_empty(), "no alert");
    assert!(desk.store.surveys().is_empty());
    assert_eq!(status(&desk, &ticket.id), "Resuelto");
}
