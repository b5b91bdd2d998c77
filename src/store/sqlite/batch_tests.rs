//! Group commit: operations queued together share a transaction, a failing or panicking one
//! fails alone, and what succeeded is in the file once it is reported.

use super::*;

fn entry(user: &str, message_id: &str) -> JournalEntry {
    JournalEntry {
        key: ConversationKey::new(Channel::WhatsApp, user),
        message_id: message_id.to_string(),
        payload: "{}".to_string(),
    }
}

// One runtime thread: the spawned operations are all queued (each task sends its job at its
// first poll) before the held one is released.
#[tokio::test]
async fn a_batch_commits_what_succeeded_and_fails_only_what_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    // Hold the store's thread, so that everything below queues up and runs as batches.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let hold = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .run("hold", move |_conn| {
                    let _ = held.recv();
                    Ok(())
                })
                .await
        })
    };
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for n in 0..150 {
        let s = store.clone();
        ok.push(tokio::spawn(async move {
            s.journal_inbound(entry(&format!("u{n}"), "m1")).await
        }));
        if n % 50 == 25 {
            let s = store.clone();
            // Two statements in a savepoint; the second fails: the first is undone too.
            bad.push(tokio::spawn(async move {
                s.run("fails", move |conn| -> StoreResult<()> {
                    let sp = savepoint(conn).map_err(db_err)?;
                    sp.execute(
                        "INSERT INTO journal (channel, user, message_id, payload, done, received_at) \
                         VALUES ('whatsapp', 'ghost', ?1, '{}', 0, 'now')",
                        params![format!("g{n}")],
                    )
                    .map_err(db_err)?;
                    sp.execute("INSERT INTO no_such_table VALUES (1)", [])
                        .map_err(db_err)?;
                    sp.commit().map_err(db_err)
                })
                .await
            }));
            let s = store.clone();
            bad.push(tokio::spawn(async move {
                s.run("panics", |_conn| -> StoreResult<()> {
                    panic!("a bug in an operation")
                })
                .await
            }));
        }
    }
    // Let them all queue behind the held operation, then release it.
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    release.send(()).expect("release");
    hold.await.expect("join").expect("hold");
    for t in ok {
        assert!(t.await.expect("join").expect("journaled"), "a new entry");
    }
    for t in bad {
        assert!(t.await.expect("join").is_err(), "the failing ones fail");
    }
    drop(store);

    // Reopened: every entry that succeeded is there, none of the failed one's.
    let store = SqliteStore::open(dir.path(), Vec::new).expect("reopen");
    let pending = store.journal_pending().await.expect("journal");
    assert_eq!(pending.len(), 150);
    assert!(pending.iter().all(|e| e.key.user != "ghost"));
}
