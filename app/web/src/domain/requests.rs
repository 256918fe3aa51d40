//! What a client may ask for, one type per request. Each type is at once the
//! parser (`from_json`, one error per bad field) and, through its derived
//! schema, the documentation: its field types carry their own limits.

use serde_json::Value;
use utoipa::ToSchema;

use super::money::Currency;
use super::payment::{Method, RefundReason, Status, Timestamp};
use super::validate::{FieldError, Fields, Invalid};
use super::values::{
    CampaignName, Description, Email, ExternalRef, FromField, Metadata, MetadataLimits, MinorUnits,
    PastTimestamp, PayerName, Scalar,
};

/// An optional field's value once [`Fields::finish`] has found no error.
fn parsed<T>(field: Result<T, Invalid>) -> Result<T, Vec<FieldError>> {
    field.map_err(|Invalid| vec![FieldError::new("body", "is incomplete")])
}

/// The payer of a new payment.
#[derive(Clone, Debug, PartialEq, ToSchema)]
#[schema(as = PayerInput)]
#[serde(deny_unknown_fields)]
pub struct NewPayer {
    #[schema(schema_with = PayerName::schema)]
    pub name: PayerName,
    #[schema(schema_with = Email::schema)]
    pub email: Email,
}

impl FromField for NewPayer {
    fn from_field(value: Value, path: &str, errors: &mut Vec<FieldError>) -> Option<Self> {
        let mut f = match Fields::new(path, value) {
            Ok(f) => f,
            Err(mine) => {
                errors.extend(mine);
                return None;
            }
        };
        let name = f.required("name");
        let email = f.required("email");
        f.finish_into(errors).then_some(())?;
        Some(NewPayer {
            name: name?,
            email: email?,
        })
    }
}

/// Status a payment may be recorded with (refunds set the others).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[schema(as = InitialStatus)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    Pending,
    Succeeded,
    Failed,
}

impl InitialStatus {
    pub fn status(self) -> Status {
        match self {
            InitialStatus::Pending => Status::Pending,
            InitialStatus::Succeeded => Status::Succeeded,
            InitialStatus::Failed => Status::Failed,
        }
    }
}

impl Scalar for InitialStatus {
    fn from_value(value: Value) -> Result<Self, String> {
        match Status::from_value(value)? {
            Status::Pending => Ok(InitialStatus::Pending),
            Status::Succeeded => Ok(InitialStatus::Succeeded),
            Status::Failed => Ok(InitialStatus::Failed),
            _ => Err("must be one of: pending, succeeded, failed (refunds set the others)".into()),
        }
    }
}

/// Body of `POST /api/v1/payments`. Unknown fields are refused.
#[derive(Clone, Debug, PartialEq, ToSchema)]
#[schema(as = CreatePayment)]
#[serde(deny_unknown_fields)]
pub struct NewPayment {
    /// In the currency's minor unit (cents for USD, yen for JPY).
    #[schema(schema_with = MinorUnits::schema)]
    pub amount: MinorUnits,
    #[schema(schema_with = Currency::schema)]
    pub currency: Currency,
    pub payer: NewPayer,
    pub method: Method,
    /// Default `succeeded`.
    pub status: Option<InitialStatus>,
    #[schema(schema_with = CampaignName::nullable_schema)]
    pub campaign: Option<CampaignName>,
    #[schema(schema_with = Description::nullable_schema)]
    pub description: Option<Description>,
    /// The processor's id; unique.
    #[schema(schema_with = ExternalRef::nullable_schema)]
    pub external_ref: Option<ExternalRef>,
    /// Empty when absent.
    #[schema(schema_with = MetadataLimits::nullable_schema, required = false)]
    pub metadata: Metadata,
    #[schema(schema_with = PastTimestamp::schema)]
    pub created_at: Option<Timestamp>,
    /// Mail the payer a receipt (only for a `succeeded` payment). Default
    /// false, so imports and relays mail no one.
    #[schema(default = false, required = false)]
    pub send_receipt: bool,
}

impl NewPayment {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let amount = f.required("amount");
        let currency = f.required("currency");
        let payer = f.required("payer");
        let method = f.required("method");
        let status = f.optional::<InitialStatus>("status");
        let campaign = f.optional("campaign");
        let description = f.optional("description");
        let external_ref = f.optional("external_ref");
        let metadata = f.optional("metadata");
        let created_at = f.optional::<PastTimestamp>("created_at");
        let send_receipt = f.optional::<bool>("send_receipt");
        f.finish()?;
        // finish() returned Ok: every field parsed.
        let incomplete = || vec![FieldError::new("body", "is incomplete")];
        Ok(NewPayment {
            amount: amount.ok_or_else(incomplete)?,
            currency: currency.ok_or_else(incomplete)?,
            payer: payer.ok_or_else(incomplete)?,
            method: method.ok_or_else(incomplete)?,
            status: parsed(status)?,
            campaign: parsed(campaign)?,
            description: parsed(description)?,
            external_ref: parsed(external_ref)?,
            metadata: parsed(metadata)?.unwrap_or_default(),
            created_at: parsed(created_at)?.map(|t| t.0),
            send_receipt: parsed(send_receipt)?.unwrap_or(false),
        })
    }

    /// The status it is recorded with.
    pub fn initial_status(&self) -> Status {
        self.status.map_or(Status::Succeeded, InitialStatus::status)
    }
}

/// Body of `PATCH /api/v1/payments/{id}`: at least one field; the fields
/// left out stay as they are.
#[derive(Clone, Debug, Default, PartialEq, ToSchema)]
#[schema(as = UpdatePayment, min_properties = 1)]
#[serde(deny_unknown_fields)]
pub struct PaymentPatch {
    /// Allowed: pending → succeeded, pending → failed.
    #[schema(nullable = false)]
    pub status: Option<Status>,
    /// Null clears it.
    #[schema(schema_with = Description::nullable_schema)]
    pub description: Option<Option<Description>>,
    /// Replaces the whole map.
    #[schema(schema_with = MetadataLimits::schema)]
    pub metadata: Option<Metadata>,
}

impl PaymentPatch {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let status = f.optional("status");
        let description = f.nullable("description");
        let metadata = f.optional("metadata");
        f.finish()?;
        let patch = PaymentPatch {
            status: parsed(status)?,
            description: parsed(description)?,
            metadata: parsed(metadata)?,
        };
        if patch == PaymentPatch::default() {
            return Err(vec![FieldError::new(
                "body",
                "must change at least one of: status, description, metadata",
            )]);
        }
        Ok(patch)
    }
}

/// Body of `POST /api/v1/payments/{id}/refunds`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, ToSchema)]
#[schema(as = CreateRefund)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// Default: all that remains refundable.
    #[schema(schema_with = MinorUnits::nullable_schema)]
    pub amount: Option<MinorUnits>,
    /// Default `requested_by_customer`.
    pub reason: Option<RefundReason>,
}

impl NewRefund {
    pub fn from_json(body: Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new("", body)?;
        let amount = f.optional("amount");
        let reason = f.optional("reason");
        f.finish()?;
        Ok(NewRefund {
            amount: parsed(amount)?,
            reason: parsed(reason)?,
        })
    }

    pub fn reason(&self) -> RefundReason {
        self.reason.unwrap_or(RefundReason::RequestedByCustomer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({"amount": 2500, "currency": "USD", "method": "card",
               "payer": {"name": "Ada Reader", "email": "ada@example.org"}})
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn accepts_a_minimal_payment_with_defaults() {
        let p = NewPayment::from_json(valid()).unwrap();
        assert_eq!(p.amount.get(), 2500);
        assert_eq!(p.currency.code(), "USD");
        assert_eq!(p.initial_status(), Status::Succeeded);
        assert_eq!(p.payer.email.as_str(), "ada@example.org");
        assert!(p.metadata.is_empty());
        assert_eq!(p.created_at, None);
    }

    #[test]
    fn reports_every_bad_field() {
        let errors = NewPayment::from_json(json!({
            "amount": 0, "currency": "usd", "method": "bitcoin", "status": "refunded",
            "payer": {"name": "", "email": "nope", "age": 3},
            "campaign": "", "description": "d".repeat(501), "external_ref": 5,
            "metadata": {"k": 1}, "created_at": "yesterday", "colour": "green",
        }))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "amount",
                "currency",
                "payer.name",
                "payer.email",
                "payer.age",
                "method",
                "status",
                "campaign",
                "description",
                "external_ref",
                "metadata.k",
                "created_at",
                "colour",
            ]
        );
        let missing = NewPayment::from_json(json!({})).unwrap_err();
        assert_eq!(fields(&missing), ["amount", "currency", "payer", "method"]);
        assert!(missing.iter().all(|e| e.message == "is required"));
        assert_eq!(
            NewPayment::from_json(json!([1])).unwrap_err(),
            [FieldError::new("body", "must be a JSON object")]
        );
        let mut body = valid();
        body["payer"] = json!("Ada");
        assert_eq!(
            NewPayment::from_json(body).unwrap_err(),
            [FieldError::new("payer", "must be a JSON object")]
        );
    }

    #[test]
    fn optional_fields_and_null() {
        let mut body = valid();
        body["campaign"] = json!(null);
        body["status"] = json!("pending");
        body["metadata"] = json!({"batch": "7"});
        body["created_at"] = json!("2024-02-29T12:00:00.5+02:00");
        let p = NewPayment::from_json(body).unwrap();
        assert_eq!(p.campaign, None);
        assert_eq!(p.initial_status(), Status::Pending);
        assert_eq!(p.metadata["batch"], "7");
        assert_eq!(
            p.created_at.unwrap().to_rfc3339(),
            "2024-02-29T10:00:00.500000Z"
        );
    }

    #[test]
    fn patch_parsing() {
        let p = PaymentPatch::from_json(json!({"description": null})).unwrap();
        assert_eq!(p.description, Some(None));
        let p = PaymentPatch::from_json(json!({"status": "failed"})).unwrap();
        assert_eq!(p.status, Some(Status::Failed));
        for empty in [json!({}), json!({"status": null, "metadata": null})] {
            assert_eq!(
                PaymentPatch::from_json(empty).unwrap_err(),
                [FieldError::new(
                    "body",
                    "must change at least one of: status, description, metadata"
                )]
            );
        }
        let errors = PaymentPatch::from_json(json!({"status": "x", "amount": 5})).unwrap_err();
        assert_eq!(fields(&errors), ["status", "amount"]);
    }

    #[test]
    fn refund_parsing() {
        let r = NewRefund::from_json(json!({})).unwrap();
        assert_eq!(
            (r.amount, r.reason()),
            (None, RefundReason::RequestedByCustomer)
        );
        let r = NewRefund::from_json(json!({"amount": 300, "reason": "duplicate"})).unwrap();
        assert_eq!(r.amount.map(MinorUnits::get), Some(300));
        assert_eq!(r.reason(), RefundReason::Duplicate);
        let errors = NewRefund::from_json(json!({"amount": -1, "reason": "x"})).unwrap_err();
        assert_eq!(fields(&errors), ["amount", "reason"]);
    }
}
