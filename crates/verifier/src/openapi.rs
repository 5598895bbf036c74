//! The OpenAPI 3.1 document of the HTTP API (utoipa), served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("tck_...").build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "TrustCap verifier", description = "Sessions, signed capture intake, verification pipeline, decisions, webhooks and polling."),
    paths(
        routes::healthz,
        routes::readyz,
        routes::metrics,
        routes::sessions::create_session,
        routes::sessions::get_session,
        routes::erasure::erase_session,
        routes::erasure::get_retention,
        routes::erasure::put_retention,
        routes::rules::get_rules,
        routes::rules::put_rules,
        routes::screenings::screen,
        routes::webhooks::put_endpoint,
        routes::webhooks::get_endpoint,
        routes::webhooks::rotate_secret,
        routes::audit::verify_chain,
        routes::webhooks::session_events,
        routes::webhooks::redeliver,
        routes::credentials::issue,
        routes::credentials::issuer_metadata,
        routes::credentials::jwks,
        routes::credentials::verify,
    ),
    components(schemas(routes::sessions::CreateSessionRequest, routes::sessions::Applicant, routes::webhooks::PutEndpointRequest, routes::screenings::ScreeningRequest, routes::erasure::RetentionRequest)),
    modifiers(&Security)
)]
struct ApiDoc;

/// The document as JSON text.
pub fn document() -> String {
    ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn document_is_openapi_3_1_with_the_session_paths() {
        let doc: serde_json::Value = serde_json::from_str(&super::document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/v1/sessions"]["post"].is_object());
        assert!(doc["paths"]["/v1/sessions/{id}"]["get"].is_object());
        assert!(doc["paths"]["/v1/screenings"]["post"].is_object());
        assert!(doc["components"]["schemas"]["ScreeningRequest"].is_object());
        assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    }
}
