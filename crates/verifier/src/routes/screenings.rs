//! `POST /v1/screenings`: screening without a capture session, for customers who screen
//! names from their own systems (API key, tenant-scoped). The tenant's rules give the
//! default mode and threshold; the request may override both. Names, dates and hits are
//! never logged.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use trustcap_screening::{BirthDate, Country, EntityKind, Mode, Query};

use crate::error::AppError;
use crate::extract::{ApiJson, TenantAuth};
use crate::pipeline::load_rules;
use crate::screening::{MAX_NAME_CHARS, result_json};
use crate::startup::AppState;

/// Body of `POST /v1/screenings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRequest {
    /// The full name to screen (1-200 characters).
    pub name: String,
    /// Birth date: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
    #[serde(default)]
    pub birth_date: Option<String>,
    /// Nationality: ISO 3166 alpha-2 or alpha-3 code, or a country name.
    #[serde(default)]
    pub nationality: Option<String>,
    /// `default` or `ofac_parity` (default: the tenant's rules).
    #[serde(default)]
    pub mode: Option<String>,
    /// Report hits scoring at least this, 0-1 (default: the tenant's rules, else the mode's).
    #[serde(default)]
    pub threshold: Option<f64>,
}

fn invalid(code: &'static str, message: &str) -> AppError {
    AppError::Invalid { code, message: message.to_owned() }
}

fn iso_date(text: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match text.split('-').collect::<Vec<_>>().as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    }
}

impl ScreeningRequest {
    /// Parses the request into a query and the screening configuration.
    fn parse(self, rules: &crate::rules::RuleSet) -> Result<(Query, trustcap_screening::ScreeningConfig), AppError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(invalid("name_empty", "name must not be empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid("name_too_long", "name must be at most 200 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid("name_invalid", "name must not contain control characters"));
        }
        let birth_date = match self.birth_date.as_deref() {
            None => None,
            Some(text) => {
                let parsed = iso_date(text).then(|| BirthDate::parse(text)).flatten();
                Some(parsed.ok_or_else(|| {
                    invalid("birth_date_invalid", "birth_date must be a real date as YYYY-MM-DD, YYYY-MM or YYYY")
                })?)
            }
        };
        let nationalities = match self.nationality.as_deref() {
            None => Vec::new(),
            Some(text) => {
                let country = Country::parse(text).filter(|c| c.iso2().is_some());
                vec![country.ok_or_else(|| invalid("nationality_invalid", "nationality is not a known country"))?]
            }
        };
        let mut settings = rules.screening.clone();
        if let Some(mode) = self.mode.as_deref() {
            settings.mode = match mode {
                "default" => Mode::Default,
                "ofac_parity" => Mode::OfacParity,
                _ => return Err(invalid("mode_invalid", "mode must be default or ofac_parity")),
            };
            if self.threshold.is_none() && rules.screening.mode != settings.mode {
                settings.threshold = None; // The mode's own threshold.
            }
        }
        if let Some(t) = self.threshold {
            if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
                return Err(invalid("threshold_invalid", "threshold must be within 0..1"));
            }
            settings.threshold = Some(t as f32);
        }
        let query =
            Query { name: name.to_owned(), kind: EntityKind::Person, birth_date, nationalities, ..Query::default() };
        Ok((query, settings.config()))
    }
}

/// `POST /v1/screenings`: screens one name against the loaded sanctions and PEP lists.
/// Answers the hits (with score, list, list version, entity id and an explanation of the
/// matched name parts) and every list version screened against.
#[utoipa::path(post, path = "/v1/screenings", request_body = ScreeningRequest,
    responses((status = 200, description = "Hits and the list versions screened against"),
        (status = 400, description = "name_empty, name_too_long, name_invalid, birth_date_invalid, nationality_invalid, mode_invalid, threshold_invalid or invalid_json"),
        (status = 401), (status = 503, description = "screening_unavailable: no list is loaded")),
    security(("api_key" = [])))]
pub async fn screen(
    State(state): State<AppState>,
    auth: TenantAuth,
    ApiJson(body): ApiJson<ScreeningRequest>,
) -> Result<Json<Value>, AppError> {
    let (_, rules) = load_rules(&state.db, auth.tenant.as_str()).await?;
    let (query, config) = body.parse(&rules)?;
    let unavailable =
        || AppError::Unavailable { code: "screening_unavailable", message: "no screening list is loaded".into() };
    let lists = state.screening.as_ref().ok_or_else(unavailable)?;
    let set = lists.current().await.map_err(AppError::internal)?.ok_or_else(unavailable)?;
    let result =
        tokio::task::spawn_blocking(move || set.screener.screen(&query, &config)).await.map_err(AppError::internal)?;
    metrics::counter!("trustcap_screenings_total", "hit" => if result.hits.is_empty() { "no" } else { "yes" })
        .increment(1);
    tracing::info!(tenant_id = %auth.tenant, hits = result.hits.len(), "screened");
    let mut body = result_json(&result);
    body["screened_at"] = json!(state.now());
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn req(name: &str) -> ScreeningRequest {
        ScreeningRequest { name: name.into(), birth_date: None, nationality: None, mode: None, threshold: None }
    }

    fn code(r: ScreeningRequest) -> &'static str {
        r.parse(&RuleSet::default()).unwrap_err().code()
    }

    #[test]
    fn typed_errors_for_bad_input() {
        assert_eq!(code(req("  ")), "name_empty");
        assert_eq!(code(req(&"a".repeat(201))), "name_too_long");
        assert_eq!(code(req("a\u{7}b")), "name_invalid");
        for bad in ["1990-02-30", "31.01.1990", "1990-1-1", "circa 1990", ""] {
            assert_eq!(
                code(ScreeningRequest { birth_date: Some(bad.into()), ..req("Jo") }),
                "birth_date_invalid",
                "{bad}"
            );
        }
        assert_eq!(code(ScreeningRequest { nationality: Some("Atlantis".into()), ..req("Jo") }), "nationality_invalid");
        assert_eq!(code(ScreeningRequest { mode: Some("strict".into()), ..req("Jo") }), "mode_invalid");
        assert_eq!(code(ScreeningRequest { threshold: Some(1.5), ..req("Jo") }), "threshold_invalid");
        assert_eq!(code(ScreeningRequest { threshold: Some(f64::NAN), ..req("Jo") }), "threshold_invalid");
    }

    #[test]
    fn good_input_and_mode_defaults() {
        let r = ScreeningRequest {
            birth_date: Some("1970-03".into()),
            nationality: Some("RUS".into()),
            mode: Some("ofac_parity".into()),
            ..req(" Ivan Petrov ")
        };
        let (q, c) = r.parse(&RuleSet::default()).unwrap();
        assert_eq!(q.name, "Ivan Petrov");
        assert!(q.birth_date.is_some());
        assert_eq!((c.mode, c.threshold), (Mode::OfacParity, trustcap_screening::config::OFAC_PARITY_THRESHOLD));
        let (_, c) = ScreeningRequest { threshold: Some(0.5), ..req("Jo") }.parse(&RuleSet::default()).unwrap();
        assert_eq!((c.mode, c.threshold), (Mode::Default, 0.5));
        let mut rules = RuleSet::default();
        rules.screening.threshold = Some(0.9);
        let (_, c) = req("Jo").parse(&rules).unwrap();
        assert_eq!(c.threshold, 0.9);
    }
}
