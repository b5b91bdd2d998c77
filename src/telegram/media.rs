//! Staff's files fetched from Telegram (`getFile`, then the file's path), for a customer on
//! another platform. The download URL holds the bot token: errors are scrubbed of it.

use super::api::{redact, Api, TelegramError, CALL_TIMEOUT};
use crate::channels::media::{mime_of, FetchError, Fetched, MediaSource, MAX_RELAYED_BYTES};
use crate::settings::Secret;
use redsol_actors::store::BoxFuture;
use std::time::Duration;
use teloxide::net::Download;
use teloxide::requests::Requester;
use teloxide::types::FileId;

/// The longest a download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// Telegram's files, through the bot.
pub struct TelegramFiles {
    api: Api,
    token: Secret,
}

impl TelegramFiles {
    pub fn new(api: Api, token: &Secret) -> TelegramFiles {
        TelegramFiles {
            api,
            token: token.clone(),
        }
    }

    async fn fetch_file(&self, file_id: &str) -> Result<Fetched, FetchError> {
        let request = self.api.bot().get_file(FileId(file_id.to_string()));
        let file = self
            .api
            .call(request, CALL_TIMEOUT)
            .await
            .map_err(|e| match e {
                TelegramError::Rejected(e) => FetchError::Refused(e),
                other => FetchError::Transient(other.to_string()),
            })?;
        if file.meta.size > MAX_RELAYED_BYTES {
            return Err(FetchError::Refused(format!(
                "{} bytes, over the {MAX_RELAYED_BYTES} relayed",
                file.meta.size
            )));
        }
        let mut bytes: Vec<u8> = Vec::with_capacity(file.meta.size as usize);
        match tokio::time::timeout(
            DOWNLOAD_TIMEOUT,
            self.api.bot().download_file(&file.path, &mut bytes),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(FetchError::Transient(redact(
                    &e.to_string(),
                    self.token.expose(),
                )))
            }
            Err(_) => return Err(FetchError::Transient("the download timed out".into())),
        }
        let file_name = file
            .path
            .rsplit('/')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("archivo")
            .to_string();
        Ok(Fetched {
            bytes,
            mime: mime_of(&file_name).to_string(),
            file_name,
        })
    }
}

impl MediaSource for TelegramFiles {
    fn fetch<'a>(&'a self, file_id: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>> {
        Box::pin(self.fetch_file(file_id))
    }
}
