//! The credential end to end: issue, present selectively, verify; and every way a
//! presentation can be wrong.

use proptest::prelude::*;
use serde_json::{Value, json};
use trustcap_credential::{Credential, CredentialError, CredentialRequest, IssuerKey, IssuerPublicKey, verify};

const NOW: i64 = 1_790_000_000;

fn request() -> CredentialRequest {
    CredentialRequest {
        issuer: "https://verifier.example".into(),
        vct: "https://trustcap.dev/vct/kyc/v1".into(),
        subject: Some("sub_4f2a".into()),
        issued_at: NOW,
        expires_at: NOW + 86_400,
        claims: vec![
            ("age_over_18".into(), json!(true)),
            ("document_verified".into(), json!(true)),
            ("sanctions_screened_on".into(), json!("2026-11-26")),
        ],
    }
}

fn issued() -> (IssuerKey, Credential) {
    let key = IssuerKey::from_seed([9; 32]);
    let credential = Credential::issue(&key, &request()).unwrap();
    (key, credential)
}

#[test]
fn verifies_with_the_published_key() {
    let (key, credential) = issued();
    // The relying party only has the JWK.
    let published = IssuerPublicKey::from_jwk(&key.public_key().to_jwk()).unwrap();
    let v = verify(&credential.to_sd_jwt(), &published, NOW + 10).unwrap();
    assert_eq!(v.issuer, "https://verifier.example");
    assert_eq!(v.subject.as_deref(), Some("sub_4f2a"));
    assert_eq!(v.claims.len(), 3);
    assert_eq!(v.claims["age_over_18"], json!(true));
    assert_eq!(v.claims["sanctions_screened_on"], json!("2026-11-26"));
}

#[test]
fn selective_disclosure_reveals_only_the_chosen_claims() {
    let (key, credential) = issued();
    let shown = credential.present(&["age_over_18"]);
    let v = verify(&shown, &key.public_key(), NOW).unwrap();
    assert_eq!(v.claims.keys().collect::<Vec<_>>(), ["age_over_18"]);
    // The hidden claims are not in the presentation in any form: the signed payload holds
    // only digests, and their disclosures are not sent.
    for hidden in ["document_verified", "sanctions_screened_on", "2026-11-26"] {
        let decoded: String = shown
            .split(['~', '.'])
            .filter_map(|p| {
                use base64::Engine as _;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok()
            })
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        assert!(!decoded.contains(hidden), "{hidden} leaked");
    }
    // Nothing disclosed is valid too: the holder proves only that the issuer signed something.
    assert!(verify(&credential.present(&[]), &key.public_key(), NOW).unwrap().claims.is_empty());
}

#[test]
fn a_changed_claim_fails() {
    let (key, credential) = issued();
    // The holder swaps in a disclosure of their own making ("over 18" when the issuer said otherwise).
    let forged = trustcap_credential::Disclosure::new([3; 16], "age_over_21", json!(true)).unwrap();
    let presentation = format!("{}~{}~", credential.jwt, forged.encoded);
    assert_eq!(verify(&presentation, &key.public_key(), NOW), Err(CredentialError::UnknownDisclosure));
    // Changing the value inside a real disclosure changes its digest.
    let real = &credential.disclosures[0];
    let edited = trustcap_credential::Disclosure::new([0; 16], &real.name, json!(false)).unwrap();
    let presentation = format!("{}~{}~", credential.jwt, edited.encoded);
    assert_eq!(verify(&presentation, &key.public_key(), NOW), Err(CredentialError::UnknownDisclosure));
    // Editing the signed payload breaks the signature.
    let mut segments: Vec<String> = credential.jwt.split('.').map(str::to_owned).collect();
    let payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut p: Value = serde_json::from_slice(&engine.decode(&segments[1]).unwrap()).unwrap();
        p["exp"] = json!(NOW + 10 * 365 * 86_400);
        engine.encode(p.to_string())
    };
    segments[1] = payload;
    let presentation = format!("{}~", segments.join("."));
    assert_eq!(verify(&presentation, &key.public_key(), NOW), Err(CredentialError::BadSignature));
}

#[test]
fn a_wrong_key_fails() {
    let (_, credential) = issued();
    let other = IssuerKey::from_seed([10; 32]).public_key();
    // The header names the issuer's key id, so another key is refused before the signature...
    assert_eq!(
        verify(&credential.to_sd_jwt(), &other, NOW),
        Err(CredentialError::UnsupportedHeader("kid names another key"))
    );
    // ...and without a kid the signature itself fails.
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut segments: Vec<String> = credential.jwt.split('.').map(str::to_owned).collect();
    segments[0] = engine.encode(json!({"alg": "EdDSA", "typ": "dc+sd-jwt"}).to_string());
    assert_eq!(verify(&format!("{}~", segments.join(".")), &other, NOW), Err(CredentialError::BadSignature));
}

#[test]
fn dates_and_duplicates() {
    let (key, credential) = issued();
    let public = key.public_key();
    assert_eq!(verify(&credential.to_sd_jwt(), &public, NOW + 86_400), Err(CredentialError::Expired));
    assert_eq!(verify(&credential.to_sd_jwt(), &public, NOW - 3_600), Err(CredentialError::Expired));
    let d = &credential.disclosures[0].encoded;
    assert_eq!(verify(&format!("{}~{d}~{d}~", credential.jwt), &public, NOW), Err(CredentialError::Duplicate));
    let mut twice = request();
    twice.claims.push(("age_over_18".into(), json!(false)));
    assert_eq!(Credential::issue(&key, &twice), Err(CredentialError::Duplicate));
}

#[test]
fn malformed_presentations_get_typed_errors() {
    let (key, credential) = issued();
    let public = key.public_key();
    for bad in [
        String::new(),
        "~".into(),
        credential.jwt.clone(),                          // no trailing ~
        format!("{}~x~", credential.jwt),                // disclosure is not JSON
        "a.b~".into(),                                   // two segments
        format!("{}~", "a".repeat(70_000)),              // too long
        format!("{}{}", credential.jwt, "~".repeat(70)), // too many (empty) disclosures
    ] {
        let err = verify(&bad, &public, NOW).unwrap_err();
        assert!(err.code().starts_with("credential_"), "{bad:.40}: {err}");
    }
}

proptest! {
    #[test]
    fn never_panics_on_garbage(text in "[A-Za-z0-9_.~-]{0,400}") {
        let (key, _) = issued();
        let _ = verify(&text, &key.public_key(), NOW);
    }

    #[test]
    fn any_subset_discloses_exactly_that_subset(mask in 0u8..8) {
        let (key, credential) = issued();
        let names = ["age_over_18", "document_verified", "sanctions_screened_on"];
        let chosen: Vec<&str> = names.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| *n).collect();
        let v = verify(&credential.present(&chosen), &key.public_key(), NOW).unwrap();
        prop_assert_eq!(v.claims.keys().map(String::as_str).collect::<Vec<_>>(), chosen);
    }
}
