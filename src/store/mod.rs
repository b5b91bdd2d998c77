//! Store backends of the `redsol` binary: implementations of [`redsol_actors::store::Store`]
//! that need I/O crates the actors crate does not depend on. SQLite is the embedded default.

#[cfg(test)]
pub mod conformance;
pub mod postgres;
pub mod sqlite;

use anyhow::Context as _;
use std::path::Path;

/// The file in the data directory holding the secret of opaque conversation ids.
pub const OPAQUE_ID_KEY_FILE: &str = "opaque_id.key";

/// The secret of opaque conversation ids in logs: read from `dir/opaque_id.key`, or made once
/// from the OS's random source and written there (owner-only on Unix). Ids stay stable across
/// restarts, and a log reader without the file cannot test phone numbers against them.
pub fn opaque_id_key(dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = dir.join(OPAQUE_ID_KEY_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        return <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            anyhow::anyhow!(
                "{} is not a 32-byte key; delete it to make a new one",
                path.display()
            )
        });
    }
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &key));
    match written {
        Ok(()) => Ok(key),
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => opaque_id_key(dir),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opaque_id_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = opaque_id_key(dir.path()).expect("made");
        assert_eq!(opaque_id_key(dir.path()).expect("read"), first);
        assert_ne!(first, [0u8; 32]);
        std::fs::write(dir.path().join(OPAQUE_ID_KEY_FILE), b"short").expect("write");
        let err = opaque_id_key(dir.path()).expect_err("refused");
        assert!(err.to_string().contains("32-byte"), "{err}");
    }
}
