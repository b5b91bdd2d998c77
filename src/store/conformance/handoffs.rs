//! What a store backend must do with handoffs, whatever keeps them: one open per customer,
//! one winner of two taps, replays found again, ended once. Each backend's tests run these.

use redsol_actors::model::{Channel, ConversationKey};
use redsol_actors::store::handoff::{Claim, Ended, NewHandoff, Owner};
use redsol_actors::store::Store;

fn new(user: &str, source: Option<&str>) -> NewHandoff {
    NewHandoff {
        customer: ConversationKey::new(Channel::WhatsApp, user),
        name: "Lupita".into(),
        topic: "tu reporte de falla".into(),
        source: source.map(str::to_string),
        at: 1_000,
        carded: true,
    }
}

fn staff(user: &str, name: &str) -> Owner {
    Owner {
        key: ConversationKey::new(Channel::Telegram, user),
        name: name.into(),
    }
}

/// On an empty store.
pub async fn one_open_handoff_per_customer_and_one_winner_per_handoff(store: &dyn Store) {
    let store = store.handoffs();
    let (h, created) = store
        .open_handoff(new("5214641", Some("wa:5214641:m1")))
        .await
        .expect("opened");
    assert!(created);
    assert_eq!(h.id, "H-000001");
    // Asked again, or the same message replayed: the same handoff.
    let (again, created) = store
        .open_handoff(new("5214641", Some("wa:5214641:m2")))
        .await
        .expect("found");
    assert!(!created);
    assert_eq!(again.id, h.id);
    let (replayed, created) = store
        .open_handoff(new("5214641", Some("wa:5214641:m1")))
        .await
        .expect("found");
    assert!(!created && replayed.id == h.id);

    // Two taps at once: one takes it, the other is told who.
    let (a, b) = tokio::join!(
        store.claim_handoff(&h.id, staff("900", "Ana"), 1_010, Some("tg:900:t1".into())),
        store.claim_handoff(&h.id, staff("901", "Beto"), 1_010, Some("tg:901:t1".into())),
    );
    let outcomes = [a.expect("claimed"), b.expect("claimed")];
    let taken = outcomes
        .iter()
        .filter(|c| matches!(c, Claim::Taken { fresh: true, .. }))
        .count();
    let held = outcomes
        .iter()
        .filter(|c| matches!(c, Claim::HeldBy(_)))
        .count();
    assert_eq!((taken, held), (1, 1), "{outcomes:?}");
    let winner = match &outcomes[0] {
        Claim::Taken { handoff: h, .. } | Claim::HeldBy(h) => h.owner.clone().expect("owned"),
        Claim::Gone => panic!("gone"),
    };
    // The winner's tap replayed is the same tap; a new tap of theirs only switches to it.
    let source = format!("tg:{}:t1", winner.key.user);
    assert!(matches!(
        store
            .claim_handoff(&h.id, winner.clone(), 1_020, Some(source))
            .await,
        Ok(Claim::Taken { fresh: true, .. })
    ));
    assert!(matches!(
        store
            .claim_handoff(&h.id, winner.clone(), 1_030, Some("tg:x:t2".into()))
            .await,
        Ok(Claim::Taken { fresh: false, .. })
    ));
    let held = store.handoffs_held(&winner.key).await.expect("held");
    assert_eq!(held.len(), 1);

    store.touch_handoff(&h.id, 1_500).await.expect("touched");
    let open = store.open_handoffs().await.expect("open");
    assert_eq!(open[0].last_activity, 1_500);

    // Ended once; then gone for everyone, and a new request opens a new one.
    let ended = store
        .end_handoff(&h.id, Ended::Released, 1_600, Some("tg:900:s1".into()))
        .await
        .expect("ended");
    assert!(ended.is_some());
    assert!(store
        .end_handoff(&h.id, Ended::Idle, 1_700, None)
        .await
        .expect("no-op")
        .is_none());
    // The message that ended it, replayed, finds it.
    assert!(store
        .end_handoff(&h.id, Ended::Released, 1_700, Some("tg:900:s1".into()))
        .await
        .expect("replayed")
        .is_some());
    assert!(matches!(
        store
            .claim_handoff(&h.id, staff("902", "Caro"), 1_700, None)
            .await,
        Ok(Claim::Gone)
    ));
    assert!(store
        .handoff_for(&ConversationKey::new(Channel::WhatsApp, "5214641"))
        .await
        .expect("read")
        .is_none());
    let (next, created) = store
        .open_handoff(new("5214641", Some("wa:5214641:m9")))
        .await
        .expect("opened");
    assert!(created && next.id == "H-000002");
}
