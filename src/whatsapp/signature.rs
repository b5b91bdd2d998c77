//! Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`.
//! Checked over the bytes exactly as received (Meta escapes non-ASCII as `\uXXXX`; a
//! re-serialized body would not match), in constant time, before anything is parsed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a delivery's signature was refused (the `reason` label of
/// `redsol_webhook_rejected_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Mismatch,
}

impl SignatureError {
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing_signature",
            SignatureError::Malformed => "malformed_signature",
            SignatureError::Mismatch => "bad_signature",
        }
    }
}

/// Verifies the header value against the raw body.
pub fn verify(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_sig = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let expected = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value for a body (what Meta sends; used by tests and the benchmark).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this branch cannot be taken.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_the_exact_bytes() {
        let secret = b"app-secret";
        // A body as Meta sends it: non-ASCII escaped.
        let body = br#"{"text":{"body":"ma\u00f1ana"}}"#;
        let sig = sign(secret, body);
        assert_eq!(verify(secret, Some(&sig), body), Ok(()));
        // The same JSON re-serialized with the real character does not verify.
        let reserialized = r#"{"text":{"body":"mañana"}}"#.as_bytes();
        assert_eq!(
            verify(secret, Some(&sig), reserialized),
            Err(SignatureError::Mismatch)
        );
        let mut altered = body.to_vec();
        altered[3] ^= 1;
        assert_eq!(
            verify(secret, Some(&sig), &altered),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", Some(&sig), body),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(secret, None, body), Err(SignatureError::Missing));
        assert_eq!(
            verify(secret, Some("sha1=abc"), body),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(secret, Some("sha256=zz"), body),
            Err(SignatureError::Malformed)
        );
    }
}
