//! Reusable KYC credentials for approved applicants.
//!
//! The SD-JWT VC format (salted disclosures, Ed25519 signature, verification) lives in
//! `trustcap-credential`; this module decides what an approved session may state and holds
//! the deployment's issuer key.
//!
//! A credential states only what the checks established, never the data they read: "document
//! verified", the document type, age bands ("over 18", "over 21") computed from the MRZ birth
//! date, "face matched", "liveness passed", "not on sanctions lists on <date>", "address
//! verified", and the date of the verification. No name, birth date or document number is in
//! it, so the holder can prove "over 18" without showing who they are.
//!
//! The issuer key is one Ed25519 key per deployment, derived from the service secret; its
//! public half is published at `/.well-known/jwt-vc-issuer` and `/v1/credentials/jwks`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::Row as _;
use trustcap_credential::{Credential, CredentialError, CredentialRequest, IssuerKey, IssuerPublicKey, Verified};
use trustcap_document::mrz::Date;

use crate::db::Db;
use crate::error::AppError;

/// The credential type (`vct`) of a TrustCap KYC credential.
pub const VCT: &str = "urn:trustcap:vct:kyc:1";

/// The deployment's credential issuer: its signing key and its public URL (`iss`).
pub struct Issuer {
    key: IssuerKey,
    url: String,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("url", &self.url).field("kid", &self.key.public_key().kid()).finish()
    }
}

impl Issuer {
    /// An issuer signing with the Ed25519 key of `seed`, named `url` in its credentials.
    pub fn new(seed: [u8; 32], url: impl Into<String>) -> Self {
        Self { key: IssuerKey::from_seed(seed), url: url.into().trim_end_matches('/').to_owned() }
    }

    /// The issuer identifier (`iss`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The public key relying parties verify with.
    pub fn public_key(&self) -> IssuerPublicKey {
        self.key.public_key()
    }

    /// The JWK set: `{"keys": [jwk]}`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_key().to_jwk()] })
    }

    /// The SD-JWT VC issuer metadata served at `/.well-known/jwt-vc-issuer`.
    pub fn metadata(&self) -> Value {
        json!({ "issuer": self.url, "jwks": self.jwks() })
    }

    /// Signs a credential stating `facts`, valid for `validity_days` from `now` (Unix seconds).
    pub fn issue(&self, facts: &Facts, now: i64, validity_days: u32) -> Result<Credential, CredentialError> {
        let request = CredentialRequest {
            issuer: self.url.clone(),
            vct: VCT.to_owned(),
            subject: None,
            issued_at: now,
            expires_at: now.saturating_add(i64::from(validity_days) * 86_400),
            claims: facts.claims(),
        };
        Credential::issue(&self.key, &request)
    }

    /// Verifies a presentation against this issuer's key at `now`.
    pub fn verify(&self, presentation: &str, now: i64) -> Result<Verified, CredentialError> {
        trustcap_credential::verify(presentation, &self.public_key(), now)
    }
}

/// What an approved session's checks established, without personal data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The day of the approval (UTC).
    pub verified_on: Option<Date>,
    /// The `document` check passed.
    pub document_verified: bool,
    /// `passport`, `id_card` or `visa`, from the MRZ format.
    pub document_type: Option<&'static str>,
    /// Age bands from the document's birth date: `18 → true` means "at least 18".
    pub age_over: BTreeMap<u8, bool>,
    /// The `face_match` check passed.
    pub face_matched: bool,
    /// The `liveness` check passed.
    pub liveness_passed: bool,
    /// The day the `screening` check found no sanctions or PEP match.
    pub sanctions_clear_on: Option<Date>,
    /// The `address` (proof of address) check passed.
    pub address_verified: bool,
}

/// One stored check result as [`Facts::from_checks`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheck {
    /// The check's name (`document`, `face_match`, ...).
    pub name: String,
    /// `passed`, `failed`, `inconclusive` or `error`.
    pub outcome: String,
    /// The check's details (no personal data by construction).
    pub details: Value,
    /// When the result was stored (Unix seconds).
    pub created_at: i64,
}

impl Facts {
    /// The facts of a session approved at `decided_at`, from its round's check results.
    pub fn from_checks(checks: &[StoredCheck], decided_at: i64) -> Self {
        let passed = |name: &str| checks.iter().find(|c| c.name == name && c.outcome == "passed");
        let mut facts = Facts { verified_on: day_of(decided_at), ..Facts::default() };
        if let Some(document) = passed("document") {
            facts.document_verified = true;
            facts.document_type = match document.details.pointer("/mrz/format").and_then(Value::as_str) {
                Some("Td3") => Some("passport"),
                Some("Td1" | "Td2") => Some("id_card"),
                Some("MrvA" | "MrvB") => Some("visa"),
                _ => None,
            };
        }
        // Age bands are facts about the document even if another document check failed
        // (an approved session has passed all required checks anyway).
        if let Some(bands) = checks.iter().find(|c| c.name == "document").and_then(|c| c.details.get("age_over")) {
            for band in crate::checks::document::AGE_BANDS {
                if let Some(over) = bands.get(band.to_string()).and_then(Value::as_bool) {
                    facts.age_over.insert(band, over);
                }
            }
        }
        facts.face_matched = passed("face_match").is_some();
        facts.liveness_passed = passed("liveness").is_some();
        facts.sanctions_clear_on = passed("screening").and_then(|c| day_of(c.created_at));
        facts.address_verified = passed("address").is_some();
        facts
    }

    /// The credential's claims: only what is established (a failed or absent check is left
    /// out rather than stated as `false`; age bands are stated either way).
    pub fn claims(&self) -> Vec<(String, Value)> {
        let mut claims = vec![("verified".to_owned(), Value::Bool(true))];
        if let Some(day) = &self.verified_on {
            claims.push(("verified_on".into(), Value::String(day.iso())));
        }
        if self.document_verified {
            claims.push(("document_verified".into(), Value::Bool(true)));
        }
        if let Some(kind) = self.document_type {
            claims.push(("document_type".into(), Value::String(kind.into())));
        }
        for (band, over) in &self.age_over {
            claims.push((format!("age_over_{band}"), Value::Bool(*over)));
        }
        if self.face_matched {
            claims.push(("face_matched".into(), Value::Bool(true)));
        }
        if self.liveness_passed {
            claims.push(("liveness_passed".into(), Value::Bool(true)));
        }
        if let Some(day) = &self.sanctions_clear_on {
            claims.push(("not_on_sanctions_lists_on".into(), Value::String(day.iso())));
        }
        if self.address_verified {
            claims.push(("address_verified".into(), Value::Bool(true)));
        }
        claims
    }
}

/// The UTC day of a Unix time.
fn day_of(unix_secs: i64) -> Option<Date> {
    Date::from_unix_days(unix_secs.div_euclid(86_400))
}

/// The check results of a session's `round` (details decrypted with the session's key).
pub async fn load_checks(db: &Db, tenant: &str, session_id: &str, round: i64) -> Result<Vec<StoredCheck>, AppError> {
    let vault = crate::vault::keys::session_vault(db, tenant, session_id).await?;
    let rows = sqlx::query(
        "SELECT check_name, outcome, details, created_at FROM check_results WHERE session_id = $1 AND round = $2",
    )
    .bind(session_id)
    .bind(round)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|row| {
            let name: String = row.try_get("check_name")?;
            let details: String = row.try_get("details")?;
            let details = vault.open_text(crate::vault::Purpose::CheckDetails(round, &name), &details)?;
            Ok(StoredCheck {
                name,
                outcome: row.try_get("outcome")?,
                details: serde_json::from_str(&details).unwrap_or(Value::Null),
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, outcome: &str, details: Value) -> StoredCheck {
        StoredCheck { name: name.into(), outcome: outcome.into(), details, created_at: 1_764_115_200 }
    }

    const NOV_26_2026: i64 = 1_795_651_200 + 6 * 3600;

    #[test]
    fn facts_state_only_passed_checks_and_age_bands() {
        let checks = [
            check("document", "passed", json!({"mrz": {"format": "Td3"}, "age_over": {"18": true, "21": false}})),
            check("face_match", "passed", json!({})),
            check("liveness", "failed", json!({})),
            check("screening", "passed", json!({})),
        ];
        let facts = Facts::from_checks(&checks, NOV_26_2026);
        let claims: BTreeMap<String, Value> = facts.claims().into_iter().collect();
        assert_eq!(
            Value::Object(claims.into_iter().collect()),
            json!({
                "verified": true,
                "verified_on": "2026-11-26",
                "document_verified": true,
                "document_type": "passport",
                "age_over_18": true,
                "age_over_21": false,
                "face_matched": true,
                "not_on_sanctions_lists_on": "2025-11-26",
            })
        );
    }

    #[test]
    fn a_session_without_checks_states_only_the_verification() {
        let facts = Facts::from_checks(&[], NOV_26_2026);
        let names: Vec<String> = facts.claims().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["verified", "verified_on"]);
    }

    #[test]
    fn an_issued_credential_verifies_with_the_published_jwk_only() {
        let issuer = Issuer::new([7; 32], "https://verify.example.com/");
        assert_eq!(issuer.url(), "https://verify.example.com");
        let facts = Facts {
            document_verified: true,
            age_over: [(18, true)].into_iter().collect(),
            ..Facts::from_checks(&[], NOV_26_2026)
        };
        let credential = issuer.issue(&facts, NOV_26_2026, 30).unwrap();
        let jwk = &issuer.jwks()["keys"][0];
        let key = IssuerPublicKey::from_jwk(jwk).unwrap();
        let shown = credential.present(&["age_over_18"]);
        let verified = trustcap_credential::verify(&shown, &key, NOV_26_2026 + 10).unwrap();
        assert_eq!(verified.claims.get("age_over_18"), Some(&json!(true)));
        assert!(!verified.claims.contains_key("document_verified"), "undisclosed claims stay hidden");
        assert_eq!(issuer.verify(&shown, NOV_26_2026 + 31 * 86_400).unwrap_err(), CredentialError::Expired);
        let other = Issuer::new([8; 32], "https://verify.example.com");
        // Another issuer's key: its key id differs from the one in the header.
        assert_eq!(other.verify(&shown, NOV_26_2026).unwrap_err().code(), "credential_unsupported");
    }
}
