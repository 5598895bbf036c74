//! Encryption at rest by envelope encryption.
//!
//! Every session gets a random 256-bit data key (DEK) when it is created. Applicant data,
//! images, face chips, check details quoting document data and screening records of the
//! session are sealed with it ([`SessionVault::seal`], XChaCha20-Poly1305, a fresh random
//! 192-bit nonce per blob). The DEK itself is stored only wrapped (the same AEAD) under a
//! key-encryption key (KEK) from the configuration ([`KeyRing`]): the first KEK of the ring
//! wraps, the others still unwrap, so a KEK can be rotated by re-wrapping the DEKs
//! ([`keys::rotate`]) without touching the data.
//!
//! Associated data binds every blob to its tenant, session and purpose (e.g. the image's
//! SHA-256), so a blob copied into another session or another column does not open
//! ([`VaultError::Decrypt`]). Destroying the wrapped DEK ([`keys::destroy`]) makes every copy
//! of the session's blobs unreadable, in the image store and in backups alike
//! (crypto-shredding).

pub mod keys;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::config::ServiceSecret;
use crate::domain::random_bytes;

/// The first bytes of every sealed blob (format version 1).
pub const MAGIC: &[u8; 4] = b"TCV1";

/// The prefix of a sealed value kept in a text column (`tcv1.` + base64url of the blob).
pub const TEXT_PREFIX: &str = "tcv1.";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Longest KEK id, in characters.
pub const MAX_KEK_ID_CHARS: usize = 32;

/// Why sealing, opening or key handling failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The KEK configuration is malformed.
    #[error("KEK configuration: {0}")]
    Config(String),
    /// A wrapped data key names a KEK the ring does not hold (retired too early?).
    #[error("no KEK with id {0:?} is configured")]
    UnknownKek(String),
    /// The bytes are not a sealed blob of this format (truncated or foreign).
    #[error("not a sealed blob")]
    Malformed,
    /// Authentication failed: wrong key, or the blob belongs to another session, tenant
    /// or purpose, or it was altered.
    #[error("the sealed blob does not open with this key and binding")]
    Decrypt,
    /// The session has no data key (it was erased): its blobs can no longer be opened.
    #[error("the session's data key was destroyed")]
    Erased,
}

/// What a sealed blob holds; part of its associated data, so a blob cannot be moved to
/// another place of the same session either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'a> {
    /// The applicant data given at session creation (JSON text).
    Applicant,
    /// A captured image, by its plaintext SHA-256 (hex).
    CaptureImage(&'a str),
    /// A file a check produced (a face chip): round, check name, file name.
    Artifact(i64, &'a str, &'a str),
    /// The details of a check result: round and check name.
    CheckDetails(i64, &'a str),
    /// The screening query (the applicant's name, birth date, nationality).
    ScreeningQuery,
    /// The screening hits (names of listed parties and of the applicant's matched parts).
    ScreeningHits,
}

impl Purpose<'_> {
    fn label(&self) -> String {
        match self {
            Self::Applicant => "applicant".into(),
            Self::CaptureImage(sha) => format!("capture_image/{sha}"),
            Self::Artifact(round, check, name) => format!("artifact/{round}/{check}/{name}"),
            Self::CheckDetails(round, check) => format!("check_details/{round}/{check}"),
            Self::ScreeningQuery => "screening_query".into(),
            Self::ScreeningHits => "screening_hits".into(),
        }
    }
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(p);
    }
    out
}

fn seal_with(cipher: &XChaCha20Poly1305, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = random_bytes();
    // XChaCha20-Poly1305 only fails for messages beyond 256 GiB, which never reach here.
    let sealed = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad }).unwrap_or_default();
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn open_with(cipher: &XChaCha20Poly1305, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>, VaultError> {
    let rest = blob.strip_prefix(MAGIC.as_slice()).ok_or(VaultError::Malformed)?;
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed);
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad }).map_err(|_| VaultError::Decrypt)
}

/// True if `bytes` look like a sealed blob (they start with [`MAGIC`]); images and text
/// written before encryption at rest do not.
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// A 256-bit data key; wiped from memory when dropped.
pub struct DataKey([u8; 32]);

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(random_bytes())
    }
}

impl Drop for DataKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A data key as stored: the id of the KEK that wrapped it and the sealed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The wrapping KEK's id.
    pub kek_id: String,
    /// `MAGIC ‖ nonce ‖ AEAD(DEK)`, bound to tenant, session and KEK id.
    pub blob: Vec<u8>,
}

/// One key-encryption key.
struct Kek {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The configured KEKs: the first wraps new and re-wrapped data keys, every one unwraps.
#[derive(Clone)]
pub struct KeyRing {
    keks: std::sync::Arc<Vec<Kek>>,
    derived: bool,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("ids", &self.ids().collect::<Vec<_>>()).finish()
    }
}

fn valid_kek_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_KEK_ID_CHARS
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl KeyRing {
    /// The ring of `(id, key)` pairs, newest (the wrapping one) first. Ids are 1-32
    /// characters of `A-Z a-z 0-9 - _ .`, distinct.
    pub fn new(keks: Vec<(String, [u8; 32])>) -> Result<Self, VaultError> {
        if keks.is_empty() {
            return Err(VaultError::Config("at least one KEK is needed".into()));
        }
        let mut ring: Vec<Kek> = Vec::with_capacity(keks.len());
        for (id, key) in keks {
            if !valid_kek_id(&id) {
                return Err(VaultError::Config(format!(
                    "KEK ids are 1-{MAX_KEK_ID_CHARS} characters of A-Z a-z 0-9 - _ ."
                )));
            }
            if ring.iter().any(|k| k.id == id) {
                return Err(VaultError::Config(format!("KEK id {id:?} is listed twice")));
            }
            ring.push(Kek { id, cipher: XChaCha20Poly1305::new(Key::from_slice(&key)) });
        }
        Ok(Self { keks: std::sync::Arc::new(ring), derived: false })
    }

    /// Parses `id:base64key[,id:base64key...]` (newest first; each key 32 bytes in standard
    /// or URL-safe base64), the form of `TRUSTCAP_KEK`.
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let mut keks = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, b64) =
                item.split_once(':').ok_or_else(|| VaultError::Config("each KEK is written id:base64key".into()))?;
            let bytes = STANDARD
                .decode(b64.trim())
                .or_else(|_| URL_SAFE_NO_PAD.decode(b64.trim().trim_end_matches('=')))
                .map_err(|_| VaultError::Config(format!("KEK {:?} is not base64", id.trim())))?;
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::Config(format!("KEK {:?} must be 32 bytes", id.trim())))?;
            keks.push((id.trim().to_owned(), key));
        }
        Self::new(keks)
    }

    /// The development ring: one KEK (id `dev`) derived from the service secret under its
    /// own label. Anyone holding the secret file can read the data; production
    /// deployments configure `TRUSTCAP_KEK` (and `TRUSTCAP_REQUIRE_KEK=true`).
    pub fn derived_from(secret: &ServiceSecret) -> Self {
        let key = secret.derive_key(b"trustcap/at-rest-kek/dev/v1");
        let ring = Self::new(vec![("dev".to_owned(), key)]).unwrap_or_else(|_| unreachable!("a valid literal id"));
        Self { derived: true, ..ring }
    }

    /// True for the development ring of [`KeyRing::derived_from`].
    pub fn is_derived(&self) -> bool {
        self.derived
    }

    /// The id of the KEK that wraps.
    pub fn current_id(&self) -> &str {
        self.keks.first().map_or("", |k| k.id.as_str())
    }

    /// Every KEK id, newest first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keks.iter().map(|k| k.id.as_str())
    }

    fn wrap_aad(tenant: &str, session: &str, kek_id: &str) -> Vec<u8> {
        join(&[b"trustcap/dek/v1", tenant.as_bytes(), session.as_bytes(), kek_id.as_bytes()])
    }

    /// Wraps `key` for `session` of `tenant` under the current KEK.
    pub fn wrap(&self, tenant: &str, session: &str, key: &DataKey) -> WrappedKey {
        let kek = self.keks.first().unwrap_or_else(|| unreachable!("a ring is never empty"));
        let aad = Self::wrap_aad(tenant, session, &kek.id);
        WrappedKey { kek_id: kek.id.clone(), blob: seal_with(&kek.cipher, &aad, &key.0) }
    }

    /// Unwraps a stored data key of `session` of `tenant`.
    pub fn unwrap_key(&self, tenant: &str, session: &str, wrapped: &WrappedKey) -> Result<DataKey, VaultError> {
        let kek = self
            .keks
            .iter()
            .find(|k| k.id == wrapped.kek_id)
            .ok_or_else(|| VaultError::UnknownKek(wrapped.kek_id.clone()))?;
        let aad = Self::wrap_aad(tenant, session, &kek.id);
        let mut plain = open_with(&kek.cipher, &aad, &wrapped.blob)?;
        let key: Result<[u8; 32], _> = plain.as_slice().try_into();
        zeroize::Zeroize::zeroize(&mut plain);
        key.map(DataKey).map_err(|_| VaultError::Malformed)
    }

    /// A new data key for `session` and its wrapped form.
    pub fn new_key(&self, tenant: &str, session: &str) -> (SessionVault, WrappedKey) {
        let key = DataKey::generate();
        let wrapped = self.wrap(tenant, session, &key);
        (SessionVault::new(tenant, session, &key), wrapped)
    }

    /// The vault of `session` from its stored wrapped key.
    pub fn vault(&self, tenant: &str, session: &str, wrapped: &WrappedKey) -> Result<SessionVault, VaultError> {
        let key = self.unwrap_key(tenant, session, wrapped)?;
        Ok(SessionVault::new(tenant, session, &key))
    }
}

/// Seals and opens one session's data with its data key.
#[derive(Clone)]
pub struct SessionVault {
    tenant: String,
    session: String,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SessionVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionVault").field("session", &self.session).finish_non_exhaustive()
    }
}

impl SessionVault {
    /// The vault of `session` of `tenant` with this data key.
    pub fn new(tenant: &str, session: &str, key: &DataKey) -> Self {
        Self {
            tenant: tenant.to_owned(),
            session: session.to_owned(),
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key.0)),
        }
    }

    /// The session this vault belongs to.
    pub fn session(&self) -> &str {
        &self.session
    }

    fn aad(&self, purpose: Purpose<'_>) -> Vec<u8> {
        join(&[b"trustcap/at-rest/v1", self.tenant.as_bytes(), self.session.as_bytes(), purpose.label().as_bytes()])
    }

    /// `MAGIC ‖ nonce ‖ AEAD(plain)`, bound to this tenant, session and `purpose`.
    pub fn seal(&self, purpose: Purpose<'_>, plain: &[u8]) -> Vec<u8> {
        seal_with(&self.cipher, &self.aad(purpose), plain)
    }

    /// The plaintext of a blob sealed by [`SessionVault::seal`] with the same binding.
    pub fn open(&self, purpose: Purpose<'_>, blob: &[u8]) -> Result<Vec<u8>, VaultError> {
        open_with(&self.cipher, &self.aad(purpose), blob)
    }

    /// Like [`SessionVault::open`], but bytes that are not a sealed blob (stored before
    /// encryption at rest) are returned as they are.
    pub fn open_or_legacy(&self, purpose: Purpose<'_>, bytes: Vec<u8>) -> Result<Vec<u8>, VaultError> {
        if is_sealed(&bytes) { self.open(purpose, &bytes) } else { Ok(bytes) }
    }

    /// The sealed form of `text` for a text column: `tcv1.` + base64url of the blob.
    pub fn seal_text(&self, purpose: Purpose<'_>, text: &str) -> String {
        format!("{TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.seal(purpose, text.as_bytes())))
    }

    /// The text sealed by [`SessionVault::seal_text`]; text without the `tcv1.` prefix
    /// (stored before encryption at rest) is returned as it is.
    pub fn open_text(&self, purpose: Purpose<'_>, stored: &str) -> Result<String, VaultError> {
        let Some(b64) = stored.strip_prefix(TEXT_PREFIX) else { return Ok(stored.to_owned()) };
        let blob = URL_SAFE_NO_PAD.decode(b64).map_err(|_| VaultError::Malformed)?;
        String::from_utf8(self.open(purpose, &blob)?).map_err(|_| VaultError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(ids: &[(&str, u8)]) -> KeyRing {
        KeyRing::new(ids.iter().map(|(id, b)| ((*id).to_owned(), [*b; 32])).collect()).unwrap()
    }

    #[test]
    fn round_trip_and_binding() {
        let ring = ring(&[("k1", 1)]);
        let (vault, wrapped) = ring.new_key("ten_a", "ses_a");
        let blob = vault.seal(Purpose::Applicant, b"Jane Tester");
        assert!(is_sealed(&blob));
        assert!(!blob.windows(11).any(|w| w == b"Jane Tester"));
        assert_eq!(vault.open(Purpose::Applicant, &blob).unwrap(), b"Jane Tester");
        // Fresh nonce each time.
        assert_ne!(vault.seal(Purpose::Applicant, b"Jane Tester"), blob);
        // Wrong purpose, session or tenant: typed failure.
        assert_eq!(vault.open(Purpose::ScreeningQuery, &blob), Err(VaultError::Decrypt));
        let same_key = ring.vault("ten_a", "ses_a", &wrapped).unwrap();
        assert_eq!(same_key.open(Purpose::Applicant, &blob).unwrap(), b"Jane Tester");
        let key = ring.unwrap_key("ten_a", "ses_a", &wrapped).unwrap();
        let moved = SessionVault::new("ten_a", "ses_b", &key);
        assert_eq!(moved.open(Purpose::Applicant, &blob), Err(VaultError::Decrypt));
        let other_tenant = SessionVault::new("ten_b", "ses_a", &key);
        assert_eq!(other_tenant.open(Purpose::Applicant, &blob), Err(VaultError::Decrypt));
        // Wrong data key.
        let (other, _) = ring.new_key("ten_a", "ses_a");
        assert_eq!(other.open(Purpose::Applicant, &blob), Err(VaultError::Decrypt));
        // Tampering and truncation.
        let mut bad = blob.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(vault.open(Purpose::Applicant, &bad), Err(VaultError::Decrypt));
        assert_eq!(vault.open(Purpose::Applicant, &blob[..20]), Err(VaultError::Malformed));
        assert_eq!(vault.open(Purpose::Applicant, b"\xff\xd8jpeg"), Err(VaultError::Malformed));
        // Image purposes are bound to the image hash.
        let img = vault.seal(Purpose::CaptureImage("aa"), b"img");
        assert_eq!(vault.open(Purpose::CaptureImage("bb"), &img), Err(VaultError::Decrypt));
    }

    #[test]
    fn text_and_legacy() {
        let ring = ring(&[("k1", 1)]);
        let (vault, _) = ring.new_key("ten_a", "ses_a");
        let sealed = vault.seal_text(Purpose::Applicant, r#"{"family_name":"Tester"}"#);
        assert!(sealed.starts_with(TEXT_PREFIX) && !sealed.contains("Tester"));
        assert_eq!(vault.open_text(Purpose::Applicant, &sealed).unwrap(), r#"{"family_name":"Tester"}"#);
        assert_eq!(vault.open_text(Purpose::Applicant, "{}").unwrap(), "{}");
        assert_eq!(vault.open_text(Purpose::Applicant, "tcv1.@@"), Err(VaultError::Malformed));
        assert_eq!(vault.open_or_legacy(Purpose::CaptureImage("x"), b"\xff\xd8".to_vec()).unwrap(), b"\xff\xd8");
    }

    #[test]
    fn wrapping_rotation_and_unknown_keks() {
        let old = ring(&[("k1", 1)]);
        let (vault, wrapped) = old.new_key("ten_a", "ses_a");
        assert_eq!(wrapped.kek_id, "k1");
        let blob = vault.seal(Purpose::Applicant, b"x");
        // The new ring wraps with k2 and still unwraps k1.
        let both = ring(&[("k2", 2), ("k1", 1)]);
        assert_eq!(both.current_id(), "k2");
        let key = both.unwrap_key("ten_a", "ses_a", &wrapped).unwrap();
        let rewrapped = both.wrap("ten_a", "ses_a", &key);
        assert_eq!(rewrapped.kek_id, "k2");
        // After rotation the old KEK can go: the data opens unchanged.
        let new_only = ring(&[("k2", 2)]);
        assert_eq!(
            new_only.vault("ten_a", "ses_a", &rewrapped).unwrap().open(Purpose::Applicant, &blob).unwrap(),
            b"x"
        );
        assert_eq!(new_only.unwrap_key("ten_a", "ses_a", &wrapped).unwrap_err(), VaultError::UnknownKek("k1".into()));
        // A KEK of the same id but other bytes does not unwrap.
        let impostor = ring(&[("k1", 9)]);
        assert_eq!(impostor.unwrap_key("ten_a", "ses_a", &wrapped).unwrap_err(), VaultError::Decrypt);
        // A wrapped key moved to another session does not unwrap.
        assert_eq!(old.unwrap_key("ten_a", "ses_b", &wrapped).unwrap_err(), VaultError::Decrypt);
    }

    proptest::proptest! {
        /// Any plaintext round-trips; flipping any bit of the sealed blob, or truncating it,
        /// is refused with a typed error (never a panic, never other plaintext).
        #[test]
        fn sealed_blobs_round_trip_and_resist_tampering(
            plain in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            flip in proptest::num::usize::ANY,
            cut in proptest::num::usize::ANY,
        ) {
            let ring = ring(&[("k1", 1)]);
            let (vault, _) = ring.new_key("ten_a", "ses_a");
            let blob = vault.seal(Purpose::CaptureImage("ab"), &plain);
            proptest::prop_assert_eq!(vault.open(Purpose::CaptureImage("ab"), &blob).unwrap(), plain);
            let mut bad = blob.clone();
            let at = flip % (bad.len() * 8);
            bad[at / 8] ^= 1 << (at % 8);
            proptest::prop_assert!(vault.open(Purpose::CaptureImage("ab"), &bad).is_err());
            let short = &blob[..cut % blob.len()];
            proptest::prop_assert!(vault.open(Purpose::CaptureImage("ab"), short).is_err());
        }

        /// Arbitrary bytes never panic the opener.
        #[test]
        fn arbitrary_bytes_do_not_open(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let ring = ring(&[("k1", 1)]);
            let (vault, _) = ring.new_key("ten_a", "ses_a");
            let mut with_magic = MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            proptest::prop_assert!(vault.open(Purpose::Applicant, &bytes).is_err());
            proptest::prop_assert!(vault.open(Purpose::Applicant, &with_magic).is_err());
            let text = format!("{TEXT_PREFIX}{}", String::from_utf8_lossy(&bytes));
            proptest::prop_assert!(vault.open_text(Purpose::Applicant, &text).is_err());
        }
    }

    #[test]
    fn parsing() {
        let k1 = STANDARD.encode([1u8; 32]);
        let k2 = URL_SAFE_NO_PAD.encode([2u8; 32]);
        let ring = KeyRing::parse(&format!("2025-06:{k2}, 2025-01:{k1}")).unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["2025-06", "2025-01"]);
        assert!(!ring.is_derived());
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse(&format!("a:{k1},a:{k2}")).is_err());
        assert!(KeyRing::parse("a:c2hvcnQ=").is_err());
        assert!(KeyRing::parse(&format!("bad id:{k1}")).is_err());
        assert!(KeyRing::parse(&k1).is_err());
        let dev = KeyRing::derived_from(&ServiceSecret::new([7; 32]));
        assert!(dev.is_derived());
        assert_eq!(dev.current_id(), "dev");
        assert!(!format!("{dev:?}").contains("cipher"));
    }
}
