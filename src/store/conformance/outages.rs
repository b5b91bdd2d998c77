//! Zone outages, whatever keeps them: one open per zone, declared once per source, reports
//! linked once per customer.

use redsol_actors::model::{Channel, ConversationKey};
use redsol_actors::store::outages::NewOutage;
use redsol_actors::store::Store;

fn declared(zone: &str, eta: &str, source: Option<&str>) -> NewOutage {
    NewOutage {
        zone: zone.into(),
        cause: "corte de fibra".into(),
        eta: eta.into(),
        source: source.map(str::to_string),
        at: 1_000,
    }
}

/// On an empty store.
pub async fn one_open_outage_per_zone_declared_once_per_source(store: &dyn Store) {
    let outages = store.outages();
    let (first, new) = outages
        .declare_outage(declared("Norte", "2 h", Some("alertmanager:abc")))
        .await
        .expect("declared");
    assert!(new);
    assert!(first.id.starts_with("FALLA-"), "{}", first.id);
    // The same alert again: the same outage, nothing changed.
    let (again, new) = outages
        .declare_outage(declared("Norte", "5 h", Some("alertmanager:abc")))
        .await
        .expect("again");
    assert!(!new);
    assert_eq!(again.id, first.id);
    // Declared by someone else meanwhile: the zone's open outage, with the new ETA.
    let (updated, new) = outages
        .declare_outage(declared("Norte", "hoy a las 18:00", Some("staff:m1")))
        .await
        .expect("updated");
    assert!(!new);
    assert_eq!(updated.id, first.id);
    assert_eq!(updated.eta, "hoy a las 18:00");
    let (sur, new) = outages
        .declare_outage(declared("Sur", "1 h", None))
        .await
        .expect("sur");
    assert!(new && sur.id != first.id);

    let ana = ConversationKey::new(Channel::WhatsApp, "5214641");
    assert!(outages
        .link_report(&first.id, &ana, 1_100)
        .await
        .expect("linked"));
    assert!(!outages
        .link_report(&first.id, &ana, 1_200)
        .await
        .expect("again"));
    let open = outages.open_outages().await.expect("open");
    assert_eq!(open.len(), 2);
    assert_eq!(
        (open[0].id.as_str(), open[0].reports),
        (first.id.as_str(), 1)
    );

    // Ended by the alert that declared it; then the zone has none open.
    let resolved = outages
        .resolve_outage(None, Some("alertmanager:abc"), 2_000)
        .await
        .expect("resolved")
        .expect("it was open");
    assert_eq!(
        (resolved.id.as_str(), resolved.resolved_at),
        (first.id.as_str(), Some(2_000))
    );
    assert!(outages
        .resolve_outage(Some("Norte"), None, 2_100)
        .await
        .expect("none")
        .is_none());
    assert!(outages
        .resolve_outage(Some("Sur"), None, 2_100)
        .await
        .expect("sur")
        .is_some());
    assert!(outages.open_outages().await.expect("none open").is_empty());
}
