//! The OpenAPI 3.1 document, generated from the handlers and types.

use axum::Json;
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
    ),
    components(schemas(
        crate::domain::Payment,
        crate::domain::Refund,
        crate::domain::Summary,
        crate::domain::FieldError,
        super::error::Problem,
        api::PaymentList,
        api::CreatePayment,
        api::UpdatePayment,
        api::CreateRefund,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "payments", description = "Reader payments"),
        (name = "refunds", description = "Money given back"),
        (name = "summary", description = "Totals from the daily rollups"),
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

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
