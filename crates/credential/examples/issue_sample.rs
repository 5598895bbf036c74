//! Issues a sample credential with a fixed key and prints the issuer's JWK, the full SD-JWT
//! and a presentation that shows only `age_over_18`:
//! `cargo run -p trustcap-credential --example issue_sample`.

use serde_json::json;
use trustcap_credential::{Credential, CredentialRequest, IssuerKey};

fn main() {
    let key = IssuerKey::from_seed([9; 32]);
    let request = CredentialRequest {
        issuer: "https://verifier.example".into(),
        vct: "https://trustcap.dev/vct/kyc/v1".into(),
        subject: Some("sub_sample".into()),
        issued_at: 1_790_000_000,
        expires_at: 1_790_086_400,
        claims: vec![
            ("age_over_18".into(), json!(true)),
            ("document_verified".into(), json!(true)),
            ("sanctions_screened_on".into(), json!("2026-11-26")),
        ],
    };
    let credential = match Credential::issue(&key, &request) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    println!("issuer JWK:   {}", key.public_key().to_jwk());
    println!("SD-JWT:       {}", credential.to_sd_jwt());
    println!("age_over_18:  {}", credential.present(&["age_over_18"]));
}
