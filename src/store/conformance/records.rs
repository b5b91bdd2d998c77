//! The records staff read, whatever keeps them: ids in order across a restart, a
//! conversation's incidents newest first, and concurrent saves each with an id of its own.

use super::{incident, key, prospect, Reopen};
use redsol_actors::model::{Channel, ConversationKey, NewProspect, Priority};
use redsol_actors::store::{prospect_id, Store};
use std::collections::HashSet;
use std::sync::Arc;

/// On an empty store; `reopen` opens its database again.
pub async fn ids_are_sequential_and_survive_reopening(store: Arc<dyn Store>, reopen: Reopen) {
    {
        let store = &store;
        let p1 = store.save_prospect(prospect("1", "Ana")).await.expect("p1");
        let p2 = store
            .save_prospect(prospect("2", "Luis"))
            .await
            .expect("p2");
        assert_eq!(p1.id, "PRO-000001");
        assert_eq!(p2.id, "PRO-000002");
        assert_eq!(p1.status, "Nuevo");
        assert_eq!(p1.data, prospect("1", "Ana"));
        let lead = NewProspect {
            outside_coverage: true,
            ..prospect("3", "Eva")
        };
        let saved = store.save_prospect(lead).await.expect("lead");
        assert_eq!(saved.status, "Sin cobertura", "a place we do not reach");
        let i1 = store
            .create_incident(incident(key("1"), Priority::Alta, "sin internet"))
            .await
            .expect("i1");
        assert_eq!(i1.id, "INC-000001");
        assert_eq!(i1.status, "Nuevo");
        assert_eq!(i1.technician, "Sin asignar");
        assert_eq!(i1.created_at.len(), 19);
    }
    drop(store);
    let store = reopen().await;
    let p3 = store
        .save_prospect(prospect("3", "Rosa"))
        .await
        .expect("p3");
    assert_eq!(p3.id, "PRO-000004");
    let i2 = store
        .create_incident(incident(key("1"), Priority::Baja, "lento"))
        .await
        .expect("i2");
    assert_eq!(i2.id, "INC-000002");
    let mine = store.incidents_for(&key("1")).await.expect("incidents");
    let ids: Vec<_> = mine.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["INC-000002", "INC-000001"]);
    assert_eq!(
        mine[1].data,
        incident(key("1"), Priority::Alta, "sin internet")
    );
}

/// On an empty store.
pub async fn incidents_for_is_newest_first_and_only_that_conversation(store: &dyn Store) {
    let a = key("100");
    let b = ConversationKey::new(Channel::WhatsApp, "100");
    let c = key("200");
    for (k, d) in [(&a, "a1"), (&b, "b1"), (&a, "a2"), (&c, "c1"), (&a, "a3")] {
        store
            .create_incident(incident(k.clone(), Priority::Media, d))
            .await
            .expect("create");
    }
    let mine = store.incidents_for(&a).await.expect("for a");
    let descriptions: Vec<_> = mine.iter().map(|i| i.data.description.as_str()).collect();
    assert_eq!(descriptions, ["a3", "a2", "a1"]);
    assert!(mine.iter().all(|i| i.data.key == a));
    let theirs = store.incidents_for(&b).await.expect("for b");
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].data.key.channel, Channel::WhatsApp);
    assert!(store
        .incidents_for(&key("nobody"))
        .await
        .expect("none")
        .is_empty());
}

/// On an empty store.
pub async fn concurrent_prospects_all_land_with_distinct_ids(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .save_prospect(prospect(&i.to_string(), &format!("Persona {i}")))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        let p = task.await.expect("join").expect("save");
        assert!(ids.insert(p.id));
    }
    assert_eq!(ids.len(), 50);
    let expected: HashSet<_> = (1..=50).map(prospect_id).collect();
    assert_eq!(ids, expected);
}
