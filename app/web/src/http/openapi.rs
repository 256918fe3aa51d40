//! The OpenAPI 3.1 document, generated from the handlers and types.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "payments.themarkup.org API",
        description = "Record, list and refund reader payments. Money is an integer amount in the \
                       currency's minor unit plus an ISO 4217 code. Errors are RFC 9457 problem details.",
        version = "1"
    ),
    paths(
        api::create_payment,
        api::list_payments,
        api::get_payment,
        api::update_payment,
        api::create_refund,
        api::summary,
        super::people::list_donors,
        super::people::get_donor,
        super::people::list_memberships,
        super::people::get_membership,
    ),
    components(schemas(
        crate::domain::Payment,
        crate::domain::Refund,
        crate::domain::Summary,
        crate::domain::FieldError,
        super::error::Problem,
        api::PaymentList,
        crate::domain::Donor,
        crate::domain::GiftTotals,
        crate::domain::Membership,
        crate::domain::MembershipStatus,
        crate::domain::Interval,
        super::people::DonorList,
        super::people::MembershipList,
        crate::domain::NewPayment,
        crate::domain::PaymentPatch,
        crate::domain::NewRefund,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "payments", description = "Reader payments"),
        (name = "refunds", description = "Money given back"),
        (name = "summary", description = "Totals from the daily rollups"),
        (name = "donors", description = "Readers who have given, one per email"),
        (name = "memberships", description = "Recurring gifts"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token: `payments token create`"))
                    .build(),
            ),
        );
    }
}

/// The generated document plus the problem responses every operation
/// shares (see [`add_shared_responses`]). Built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        add_shared_responses(&mut doc);
        doc
    })
}

/// The problem responses that depend only on what kind of operation it is,
/// so that each handler lists just its own: every operation needs a token
/// and a database; one with a JSON body also needs the write scope and a
/// well-formed body; one with query parameters, a valid query string.
fn add_shared_responses(doc: &mut Value) {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }}
        })
    };
    for op in operations_mut(doc) {
        let has_body = op.get("requestBody").is_some();
        let has_query = op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|params| params.iter().any(|p| p["in"] == "query"));
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        let mut shared = vec![
            ("401", "No valid token"),
            (
                "503",
                "The database is unreachable or the server is shutting down; retry",
            ),
        ];
        if has_body {
            shared.extend([
                ("400", "Malformed JSON"),
                ("403", "Token lacks write scope"),
                ("413", "Body over 64 KiB"),
                ("415", "Body is not JSON"),
                ("422", "Invalid fields"),
            ]);
        }
        if has_query {
            shared.extend([
                ("400", "Malformed query string"),
                ("422", "Invalid parameters"),
            ]);
        }
        for (status, description) in shared {
            responses
                .entry(status)
                .or_insert_with(|| problem(description));
        }
    }
}

/// Every operation (get, post, …) of every path in the document.
fn operations_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> + '_ {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
}

pub async fn openapi_json() -> Json<&'static Value> {
    Json(document())
}
