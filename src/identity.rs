//! The identity of this installation (README "Identity and enrolment"): an
//! ed25519 key pair and a crew name, kept in the platform data folder (or
//! `$RURALSAN_HOME`), never in a database, so a snapshot never carries it.
//!
//! The public key (64 hex digits) is the installation's device id and is
//! stored with every revision it signs; its fingerprint (the first 8 bytes of
//! its SHA-256, 16 hex digits) is what people compare and read aloud.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::store::fsutil::hex;

/// The environment variable that moves the identity folder (tests, several
/// installations on one computer).
pub const HOME_VAR: &str = "RURALSAN_HOME";
const KEY_FILE: &str = "identity.key";
const NAME_FILE: &str = "identity.name";
/// The first line of a crew card file.
pub const CARD_HEADER: &str = "ruralsan crew card v1";
/// Longest crew name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// Why an identity could not be loaded or a card read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("no folder for the identity (set {HOME_VAR})")]
    NoFolder,
    #[error("identity file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("identity key file {path} is not a key")]
    BadKeyFile { path: PathBuf },
    #[error("crew name must be 1 to {MAX_NAME_CHARS} characters without control characters")]
    BadName,
    #[error("{path} is not a ruralsan crew card")]
    BadCard { path: PathBuf },
}

/// This installation: its signing key and its crew name.
#[derive(Clone)]
pub struct Identity {
    key: SigningKey,
    name: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("key_id", &self.key_id()).field("name", &self.name).finish()
    }
}

/// The identity folder: `$RURALSAN_HOME`, else the platform data folder.
pub fn home() -> Result<PathBuf, IdentityError> {
    if let Some(h) = std::env::var_os(HOME_VAR).filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    directories::ProjectDirs::from("cn", "ruralsan", "ruralsan")
        .map(|d| d.data_dir().join("identity"))
        .ok_or(IdentityError::NoFolder)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io { path: path.to_path_buf(), source }
}

/// Whether a crew name is acceptable (the one rule, for the CLI, cards and files).
pub fn name_ok(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS && !n.chars().any(char::is_control)
}

impl Identity {
    /// A new random identity (a fresh installation; tests).
    pub fn generate(name: &str) -> Identity {
        Identity { key: SigningKey::generate(&mut rand_core::OsRng), name: name.to_string() }
    }

    /// The identity of the installation whose folder is `dir`, made there on first use.
    pub fn load_or_create(dir: &Path) -> Result<Identity, IdentityError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let key_path = dir.join(KEY_FILE);
        if !key_path.exists() {
            let fresh = SigningKey::generate(&mut rand_core::OsRng);
            // Written aside and linked into place: two programs starting at once
            // agree on one key, and no reader sees half a file.
            let tmp = dir.join(format!("{KEY_FILE}.{}.tmp", std::process::id()));
            write_private(&tmp, hex(fresh.as_bytes()).as_bytes())?;
            let linked = std::fs::hard_link(&tmp, &key_path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(&key_path)(e)),
            }
        }
        let text = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
        let bytes = unhex32(text.trim()).ok_or_else(|| IdentityError::BadKeyFile { path: key_path.clone() })?;
        let name_path = dir.join(NAME_FILE);
        let name = match std::fs::read_to_string(&name_path) {
            Ok(n) => n.trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(&name_path)(e)),
        };
        Ok(Identity { key: SigningKey::from_bytes(&bytes), name })
    }

    /// The identity of this installation (`$RURALSAN_HOME` or the data folder).
    pub fn load_default() -> Result<Identity, IdentityError> {
        Identity::load_or_create(&home()?)
    }

    /// Sets the crew name of the installation whose folder is `dir`.
    pub fn set_name(dir: &Path, name: &str) -> Result<Identity, IdentityError> {
        if !name_ok(name) {
            return Err(IdentityError::BadName);
        }
        let mut id = Identity::load_or_create(dir)?;
        let path = dir.join(NAME_FILE);
        std::fs::write(&path, name.trim()).map_err(io(&path))?;
        id.name = name.trim().to_string();
        Ok(id)
    }

    /// The same key under another crew name (tests of several crews that
    /// trust one another; the name is covered by every signature).
    pub fn with_name(&self, name: &str) -> Identity {
        Identity { key: self.key.clone(), name: name.to_string() }
    }

    /// The public key, 64 hex digits: the device id stored with each revision.
    pub fn key_id(&self) -> String {
        hex(self.key.verifying_key().as_bytes())
    }

    /// The crew name ("" until set).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The crew name recorded with revisions: the name, else the fingerprint.
    pub fn crew(&self) -> String {
        if self.name.is_empty() { fingerprint(&self.key_id()) } else { self.name.clone() }
    }

    /// Signs a message; the signature as 128 hex digits.
    pub fn sign(&self, msg: &[u8]) -> String {
        hex(&self.key.sign(msg).to_bytes())
    }

    /// The card a crew gives the county to be enrolled: name and public key, text.
    pub fn card(&self) -> String {
        format!(
            "{CARD_HEADER}\nname: {}\nkey: {}\nfingerprint: {}\n",
            self.crew(),
            self.key_id(),
            spoken(&self.key_id())
        )
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io(path))
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let v = unhex(s)?;
    v.try_into().ok()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// Whether `s` is a public key id (64 lowercase hex digits).
pub fn is_key_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The fingerprint of a key id: the first 8 bytes of its SHA-256, 16 hex digits.
pub fn fingerprint(key_id: &str) -> String {
    let d = Sha256::digest(key_id.as_bytes());
    hex(&d[..8])
}

/// The fingerprint in groups of four, to read aloud ("1a2b 3c4d 5e6f 7a8b").
pub fn spoken(key_id: &str) -> String {
    let f = fingerprint(key_id);
    f.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect::<Vec<_>>().join(" ")
}

/// A fingerprint as typed by a person: spaces dropped, lower case.
pub fn normalise_fingerprint(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// Whether `sig` (hex) is a valid signature of `msg` by the key `key_id` (hex).
pub fn verify(key_id: &str, msg: &[u8], sig: &str) -> bool {
    let (Some(k), Some(s)) = (unhex32(key_id), unhex(sig)) else { return false };
    let Ok(k) = VerifyingKey::from_bytes(&k) else { return false };
    let Ok(s) = <[u8; 64]>::try_from(s.as_slice()) else { return false };
    k.verify(msg, &Signature::from_bytes(&s)).is_ok()
}

/// Verifies many signatures, on every core: a merge checks each revision
/// new here, and one signature costs more than the rest of its checks.
pub fn verify_all(items: &[(&str, &[u8], &str)]) -> Vec<bool> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let chunk = items.len().div_ceil(threads).max(256);
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(|(k, m, sig)| verify(k, m, sig)).collect::<Vec<bool>>()))
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a verifying thread panicked")).collect()
    })
}

/// The message a signature covers: a domain tag, then each part with its length.
pub fn message(tag: &str, parts: &[&str]) -> Vec<u8> {
    let mut m = Vec::with_capacity(64 + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    m.extend_from_slice(tag.as_bytes());
    m.push(0);
    for p in parts {
        m.extend_from_slice(&(p.len() as u64).to_le_bytes());
        m.extend_from_slice(p.as_bytes());
    }
    m
}

/// A crew card read from a file: (name, key id).
pub fn read_card(path: &Path) -> Result<(String, String), IdentityError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let bad = || IdentityError::BadCard { path: path.to_path_buf() };
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines().map(str::trim);
    if lines.next() != Some(CARD_HEADER) {
        return Err(bad());
    }
    let (mut name, mut key) = (None, None);
    for line in lines {
        if let Some(v) = line.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("key:") {
            key = Some(v.trim().to_ascii_lowercase());
        }
    }
    match (name, key) {
        (Some(n), Some(k)) if name_ok(&n) && is_key_id(&k) && unhex32(&k).is_some() => Ok((n, k)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifying_many_on_every_core_finds_each_bad_signature_in_place() {
        let a = Identity::generate("a");
        let b = Identity::generate("b");
        let msgs: Vec<Vec<u8>> = (0..700).map(|i| message("t", &[&i.to_string()])).collect();
        let mut items: Vec<(String, String)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let id = if i % 2 == 0 { &a } else { &b };
                (id.key_id(), id.sign(m))
            })
            .collect();
        // One signed by the wrong key, one signature of another message.
        items[300].0 = b.key_id();
        items[650].1 = a.sign(b"other");
        let refs: Vec<(&str, &[u8], &str)> =
            items.iter().zip(&msgs).map(|((k, s), m)| (k.as_str(), m.as_slice(), s.as_str())).collect();
        let ok = verify_all(&refs);
        let bad: Vec<usize> = ok.iter().enumerate().filter(|(_, ok)| !**ok).map(|(i, _)| i).collect();
        assert_eq!(bad, vec![300, 650]);
        assert!(verify_all(&[]).is_empty());
    }

    #[test]
    fn keys_persist_and_sign() {
        let dir = tempfile::tempdir().unwrap();
        let a = Identity::load_or_create(dir.path()).unwrap();
        let b = Identity::load_or_create(dir.path()).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        let other = Identity::generate("x");
        assert_ne!(a.key_id(), other.key_id());
        let msg = message("t", &["a", "b"]);
        let sig = a.sign(&msg);
        assert!(verify(&a.key_id(), &msg, &sig));
        assert!(!verify(&other.key_id(), &msg, &sig));
        assert!(!verify(&a.key_id(), &message("t", &["ab", ""]), &sig));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn names_and_cards_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Identity::set_name(dir.path(), " "), Err(IdentityError::BadName)));
        let id = Identity::set_name(dir.path(), "攸县 3 组").unwrap();
        assert_eq!(Identity::load_or_create(dir.path()).unwrap().name(), "攸县 3 组");
        let card = dir.path().join("card.txt");
        std::fs::write(&card, id.card()).unwrap();
        assert_eq!(read_card(&card).unwrap(), ("攸县 3 组".to_string(), id.key_id()));
        assert_eq!(spoken(&id.key_id()).len(), 19);
    }
}
