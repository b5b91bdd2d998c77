//! Zone outages, turn by turn: staff declare one; the zone's customers (known clients there, or
//! those who say the zone) get the known outage with its cause and ETA and one ticket for it,
//! however often they report; others get a normal ticket; greetings, coverage and staff stats
//! mention it; `/restablecido` ends it.

mod common;

use common::desk::{desk_with, Party};
use common::MONDAY_10AM;
use redsol_actors::model::{Channel, Client};

fn client(id: &str, zone: &str, phone: &str) -> Client {
    Client {
        id: id.into(),
        name: format!("Cliente {id}"),
        email: String::new(),
        zone: zone.into(),
        phone: phone.into(),
        plan_mbps: 20,
        price: 350,
        status: "Activo".into(),
        signup_date: "2024-01-01".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn reports_in_a_zone_in_outage_are_linked_and_others_get_tickets() {
    let clients = vec![
        client("CLI-0001", "Norte", "4641110001"),
        client("CLI-0002", "Norte", "4641110002"),
        client("CLI-0003", "Sur", "4641110003"),
    ];
    let mut desk = desk_with(MONDAY_10AM, clients);
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let mut stranger = Party::new(Channel::Telegram, "555", "Intruso");
    let refused = desk
        .say(&mut stranger, "/falla Norte 2h corte de fibra")
        .await;
    assert!(
        refused.text().contains("solo para el personal"),
        "{}",
        refused.text()
    );

    let declared = desk.say(&mut ana, "/falla Norte 2h corte de fibra").await;
    assert!(
        declared.text().contains("FALLA-000001"),
        "{}",
        declared.text()
    );

    // A known Norte client who does not say the zone, twice.
    let mut norte = Party::new(Channel::WhatsApp, "5214641110001", "Lupita");
    for _ in 0..2 {
        let known = desk
            .say(&mut norte, "no tengo internet desde hace rato")
            .await;
        assert!(
            known.text().contains("corte de fibra")
                && known.text().contains("2h")
                && known.text().contains("FALLA-000001"),
            "{}",
            known.text()
        );
    }
    // Somebody who says the zone.
    let mut vecino = Party::new(Channel::Telegram, "321", "Memo");
    let said = desk.say(&mut vecino, "no hay internet en la norte").await;
    assert!(said.text().contains("FALLA-000001"), "{}", said.text());
    assert!(
        desk.store.incidents().is_empty(),
        "no ticket for a known outage"
    );

    // A Sur client gets the usual questions and, in the end, a ticket of their own.
    let mut sur = Party::new(Channel::WhatsApp, "5214641110003", "Rosa");
    let asked = desk.say(&mut sur, "no tengo internet desde ayer").await;
    assert!(!asked.text().contains("FALLA"), "{}", asked.text());

    // Greeting and coverage mention it; staff stats count it.
    let mut otro = Party::new(Channel::WhatsApp, "5214641110002", "Toño");
    let hello = desk.say(&mut otro, "hola").await;
    assert!(hello.text().contains("falla en Norte"), "{}", hello.text());
    let coverage = desk.say(&mut vecino, "tienen cobertura en la norte?").await;
    assert!(
        coverage.text().contains("falla en Norte"),
        "{}",
        coverage.text()
    );
    let stats = desk.say(&mut ana, "estadisticas").await;
    assert!(
        stats
            .text()
            .contains("2 clientes afectados, 2 reportes ligados"),
        "{}",
        stats.text()
    );

    // Over: the next report is a normal one.
    let over = desk.say(&mut ana, "/restablecido Norte").await;
    assert!(over.text().contains("restablecido"), "{}", over.text());
    let after = desk.say(&mut norte, "otra vez no tengo internet").await;
    assert!(!after.text().contains("FALLA"), "{}", after.text());
    let hello = desk.say(&mut otro, "hola").await;
    assert!(!hello.text().contains("falla en Norte"), "{}", hello.text());
}
