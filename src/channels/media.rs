//! A staff member's photo or document on its way to a customer on another platform: fetched
//! from where it was sent ([`MediaSource`], Telegram's files), then uploaded by the customer's
//! platform (WhatsApp's media endpoint).

use redsol_actors::store::BoxFuture;

/// The largest file relayed (Telegram hands bots files up to 20 MB; WhatsApp takes images up
/// to 5 MB and documents up to 100 MB).
pub const MAX_RELAYED_BYTES: u32 = 16 * 1024 * 1024;

/// A fetched file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The name it is uploaded under (`file_3.jpg`).
    pub file_name: String,
    /// `image/jpeg`, `application/pdf`...
    pub mime: String,
}

/// Why a file could not be fetched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Worth another try (a timeout, a network error, a 5xx).
    #[error("fetching the file failed: {0}")]
    Transient(String),
    /// Never (an unknown file, one too large).
    #[error("the file cannot be relayed: {0}")]
    Refused(String),
}

/// Where staff's files are fetched from.
pub trait MediaSource: Send + Sync + 'static {
    fn fetch<'a>(&'a self, file_id: &'a str) -> BoxFuture<'a, Result<Fetched, FetchError>>;
}

/// The MIME type of a file by its name's extension.
pub fn mime_of(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}
