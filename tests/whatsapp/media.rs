//! A staff member's photo or document to a WhatsApp customer: fetched from Telegram (here a
//! scripted source), uploaded to the fake Graph's media endpoint, sent by the media id with its
//! caption; a failed fetch is retried, a file that cannot be relayed is not.

use crate::sender_harness::{start_with_files, tuning, ANA};
use redsol::channels::media::{FetchError, Fetched, MediaSource};
use redsol_actors::model::{Attachment, AttachmentKind, Reply};
use redsol_actors::store::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Files by id; each id's first fetch fails when listed in `flaky`.
struct Scripted {
    files: HashMap<&'static str, &'static [u8]>,
    flaky: Mutex<Vec<&'static str>>,
    fetches: Mutex<Vec<String>>,
}

impl MediaSource for Scripted {
    fn fetch<'a>(&'a self, file_id: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(async move {
            self.fetches.lock().expect("lock").push(file_id.to_string());
            let mut flaky = self.flaky.lock().expect("lock");
            if let Some(at) = flaky.iter().position(|f| *f == file_id) {
                flaky.remove(at);
                return Err(FetchError::Transient("connection reset".into()));
            }
            match self.files.get(file_id) {
                Some(bytes) => Ok(Fetched {
                    bytes: bytes.to_vec(),
                    file_name: format!("{file_id}.jpg"),
                    mime: "image/jpeg".into(),
                }),
                None => Err(FetchError::Refused("invalid file_id".into())),
            }
        })
    }
}

fn attached(kind: AttachmentKind, file: &str, caption: &str) -> Reply {
    Reply {
        text: caption.into(),
        quick_replies: Vec::new(),
        attachment: Some(Attachment {
            kind,
            telegram_file: file.into(),
        }),
    }
}

#[tokio::test(start_paused = true)]
async fn a_staff_photo_is_uploaded_and_sent_by_its_media_id_after_a_failed_fetch() {
    let source = Arc::new(Scripted {
        files: HashMap::from([("AgAD-1", b"\xFF\xD8jpeg-bytes" as &[u8])]),
        flaky: Mutex::new(vec!["AgAD-1"]),
        fetches: Mutex::new(Vec::new()),
    });
    let h = start_with_files(tuning(), Some(source.clone())).await;

    let photo = h
        .durable(
            ANA,
            "wamid.p1",
            attached(AttachmentKind::Photo, "AgAD-1", "tu módem nuevo"),
        )
        .await;
    h.sink.deliver(photo);
    let gone = h
        .durable(
            ANA,
            "wamid.p2",
            attached(AttachmentKind::Document, "AgAD-gone", ""),
        )
        .await;
    h.sink.deliver(gone);
    h.drain().await;

    let images: Vec<_> = h
        .fake
        .sent()
        .into_iter()
        .filter(|m| m.kind == "image")
        .collect();
    assert_eq!(images.len(), 1, "sent once");
    assert_eq!(images[0].to, ANA);
    assert_eq!(images[0].body, "tu módem nuevo");
    let uploads = h.fake.uploads();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(images[0].ids, vec![uploads[0].id.clone()]);
    assert_eq!(uploads[0].bytes, b"\xFF\xD8jpeg-bytes");
    assert_eq!(uploads[0].mime, "image/jpeg");
    assert_eq!(
        source.fetches.lock().expect("lock").as_slice(),
        ["AgAD-1", "AgAD-1", "AgAD-gone"],
        "the failed fetch retried, the refused one not"
    );
    assert!(
        !h.fake.sent().iter().any(|m| m.kind == "document"),
        "a file that cannot be fetched is not sent"
    );
    assert!(h.unsent().await.is_empty(), "both closed in the outbox");
}
