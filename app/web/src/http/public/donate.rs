//! `GET /donate` (the form, filled in from the query) and `POST /donate`
//! (validate, then off to Stripe Checkout). Nothing is stored here: the
//! ledger hears of a gift from Stripe's events.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::PrivateCookieJar;

use super::campaign::{CampaignView, open_campaign};
use super::{DONATE_COOKIE, page};
use crate::domain::donation::{DonationConfig, DonationForm, Frequency, NO_SUCH_CAMPAIGN};
use crate::domain::{Currency, FieldError, format_amount, parse_major_units, to_major_units};
use crate::http::AppState;
use crate::http::dashboard::ASSET_VERSION;
use crate::http::dashboard::session::{self, RequestSource};
use crate::stripe::StripeError;
use crate::stripe::checkout::session_params;

/// A form's CSRF cookie lasts a day: a page left open over lunch still works.
const FORM_COOKIE_AGE: time::Duration = time::Duration::hours(24);

#[derive(Template)]
#[template(path = "donate.html")]
struct DonatePage {
    org_name: String,
    asset_version: &'static str,
    configured: bool,
    csrf: String,
    nonce: String,
    campaign: Option<CampaignView>,
    /// The campaign slug sent on with the form.
    campaign_slug: String,
    frequencies: Vec<FrequencyChoice>,
    groups: Vec<PresetGroup>,
    custom_amount: String,
    currency: &'static str,
    currencies: Vec<CurrencyChoice>,
    cover_fees: bool,
    fee: String,
    fee_rate: String,
    total: String,
    bounds: String,
    /// For the script: `CODE:exponent:fixed fee in minor units`, space-separated.
    currency_data: String,
    fee_percent_milli: i64,
    errors: Vec<FieldError>,
    amount_error: Option<String>,
    frequency_error: Option<String>,
    currency_error: Option<String>,
    campaign_error: Option<String>,
    notice: Option<String>,
}

struct FrequencyChoice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// The preset amounts of one frequency; the stylesheet shows only the
/// group of the checked frequency.
struct PresetGroup {
    frequency: &'static str,
    presets: Vec<PresetChoice>,
}

struct PresetChoice {
    id: String,
    value: String,
    label: String,
    checked: bool,
}

struct CurrencyChoice {
    value: &'static str,
    selected: bool,
}

/// What a page shows besides the form's own values.
#[derive(Default)]
struct Outcome {
    errors: Vec<FieldError>,
    notice: Option<String>,
    campaign: Option<CampaignView>,
}

/// An amount as a preset button shows it: "$25", "€7.50", "2,500 JPY";
/// only the number when the reader may change the currency.
fn preset_label(minor: i64, currency: Currency, one_currency: bool) -> String {
    let text = format_amount(minor, currency.code());
    let number = text.trim_end_matches(currency.code()).trim_end();
    let number = number
        .strip_suffix(".00")
        .or_else(|| number.strip_suffix(".000"))
        .unwrap_or(number);
    match currency.code() {
        _ if !one_currency => number.to_owned(),
        "USD" => format!("${number}"),
        "EUR" => format!("€{number}"),
        "GBP" => format!("£{number}"),
        code => format!("{number} {code}"),
    }
}

fn build_page(
    config: &DonationConfig,
    configured: bool,
    csrf: String,
    form: &DonationForm,
    outcome: Outcome,
) -> DonatePage {
    let frequency = Frequency::parse(&form.frequency).unwrap_or(Frequency::Once);
    let currency = config
        .currency(&form.currency)
        .unwrap_or_else(|| config.default_currency());
    let (min, max) = config.bounds(currency);
    let chosen = parse_major_units(form.chosen_amount(), currency.exponent())
        .ok()
        .filter(|a| (min..=max).contains(a));
    let presets_of = |f: Frequency| -> Vec<i64> {
        config
            .presets
            .of(f)
            .iter()
            .filter_map(|p| p.in_minor(currency))
            .collect()
    };
    // A preset is checked when the amount is one; a typed amount that is
    // not stays typed; no amount at all checks the second preset.
    let own = presets_of(frequency);
    let (checked, custom_amount) = match chosen {
        Some(a) if own.contains(&a) => (Some(a), String::new()),
        _ if !form.chosen_amount().is_empty() => (None, form.chosen_amount().to_owned()),
        _ => (own.get(1).or(own.first()).copied(), String::new()),
    };
    let groups = Frequency::ALL
        .iter()
        .map(|f| PresetGroup {
            frequency: f.as_str(),
            presets: presets_of(*f)
                .into_iter()
                .map(|minor| PresetChoice {
                    id: format!("amount-{}-{minor}", f.as_str()),
                    value: to_major_units(minor, currency.code()),
                    label: preset_label(minor, currency, config.currencies.len() == 1),
                    checked: *f == frequency && checked == Some(minor),
                })
                .collect(),
        })
        .collect();
    let shown = chosen.or(checked).unwrap_or(min);
    let fee = config.fee.cover(shown, currency);
    let total = shown + if form.cover_fees { fee } else { 0 };
    let error = |field: &str| {
        outcome
            .errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    };
    DonatePage {
        org_name: config.org_name.clone(),
        asset_version: ASSET_VERSION,
        configured,
        csrf,
        nonce: session::random_token(),
        campaign_slug: outcome
            .campaign
            .as_ref()
            .map_or_else(String::new, |c| c.slug.clone()),
        frequencies: Frequency::ALL
            .iter()
            .map(|f| FrequencyChoice {
                value: f.as_str(),
                label: match f {
                    Frequency::Once => "One time",
                    Frequency::Monthly => "Monthly",
                    Frequency::Yearly => "Yearly",
                },
                checked: *f == frequency,
            })
            .collect(),
        groups,
        custom_amount,
        currency: currency.code(),
        currencies: config
            .currencies
            .iter()
            .map(|c| CurrencyChoice {
                value: c.code(),
                selected: *c == currency,
            })
            .collect(),
        cover_fees: form.cover_fees,
        fee: format_amount(fee, currency.code()),
        fee_rate: config.fee.describe(currency),
        total: format!(
            "{}{}",
            format_amount(total, currency.code()),
            frequency.per()
        ),
        bounds: format!(
            "{} to {}",
            format_amount(min, currency.code()),
            format_amount(max, currency.code())
        ),
        currency_data: config
            .currencies
            .iter()
            .map(|c| {
                format!(
                    "{}:{}:{}",
                    c.code(),
                    c.exponent(),
                    config.fee.fixed_minor(*c)
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        fee_percent_milli: config.fee.percent_milli(),
        amount_error: error("amount"),
        frequency_error: error("frequency"),
        currency_error: error("currency"),
        campaign_error: error("campaign"),
        errors: outcome.errors,
        notice: outcome.notice,
        campaign: outcome.campaign,
    }
}

/// The page, with the form's CSRF cookie (the browser's own kept).
fn respond(
    state: &AppState,
    jar: PrivateCookieJar,
    source: &RequestSource,
    status: StatusCode,
    form: &DonationForm,
    outcome: Outcome,
) -> Response {
    let (jar, csrf) = session::form_cookie(jar, DONATE_COOKIE, FORM_COOKIE_AGE, source.over_https);
    let config = &state.donations;
    let page_data = build_page(config, state.stripe.is_some(), csrf, form, outcome);
    let mut response = page(status, &page_data, &config.checkout_origin);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = HeaderValue::from(state.donate_limiter.window_secs());
        response.headers_mut().insert(header::RETRY_AFTER, wait);
    }
    (jar, response).into_response()
}

const NOT_CONFIGURED: &str =
    "Online giving is not configured on this site yet. Nothing was charged.";
const UNREACHABLE: &str = "We could not reach our payment processor, so nothing was charged. \
                           Please try again in a moment.";
const REFUSED: &str = "Our payment processor could not start this payment, so nothing was \
                       charged. Please try again, or choose another amount.";

fn pairs_of(text: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(text).unwrap_or_default()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

pub async fn form(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
    source: RequestSource,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = pairs_of(query.unwrap_or_default().as_bytes());
    let mut form = DonationForm::from_pairs(&pairs);
    let mut outcome = Outcome::default();
    if !form.campaign.is_empty() {
        match open_campaign(&state.store, &form.campaign).await {
            Ok(found) => outcome.campaign = found,
            // The page works without the campaign's figures.
            Err(e) => tracing::warn!(error = %e, "campaign not read for the donation page"),
        }
    }
    if outcome.campaign.is_none() {
        form.campaign.clear();
    }
    if state.stripe.is_none() {
        outcome.notice = Some(NOT_CONFIGURED.into());
    }
    respond(&state, jar, &source, StatusCode::OK, &form, outcome)
}

pub async fn submit(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
    source: RequestSource,
    body: Bytes,
) -> Response {
    let pairs = pairs_of(&body);
    let form = DonationForm::from_pairs(&pairs);
    let again = |jar, status, outcome| respond(&state, jar, &source, status, &form, outcome);
    let notice = |text: &str| Outcome {
        notice: Some(text.to_owned()),
        ..Outcome::default()
    };
    if !state.donate_limiter.allow(source.ip) {
        let text = "Too many donation forms came from your network just now. Wait a minute \
                    and try again.";
        return again(jar, StatusCode::TOO_MANY_REQUESTS, notice(text));
    }
    if !session::form_token_matches(&jar, DONATE_COOKIE, field(&pairs, "csrf")) {
        let text = "This form had expired or did not come from this site. Check your gift \
                    and send it again.";
        return again(jar, StatusCode::FORBIDDEN, notice(text));
    }
    let Some(stripe) = state.stripe.clone() else {
        return again(jar, StatusCode::SERVICE_UNAVAILABLE, notice(NOT_CONFIGURED));
    };
    let config = state.donations.clone();
    let mut outcome = Outcome::default();
    let checked = form.validate(&config);
    let campaign_unreadable =
        matches!(&checked, Err(errors) if errors.iter().any(|e| e.field == "campaign"));
    if !form.campaign.is_empty() && !campaign_unreadable {
        match open_campaign(&state.store, &form.campaign).await {
            Ok(Some(found)) => outcome.campaign = Some(found),
            Ok(None) => outcome
                .errors
                .push(FieldError::new("campaign", NO_SUCH_CAMPAIGN)),
            Err(e) => {
                tracing::warn!(error = %e, "campaign not read for a donation");
                let text = "We could not check the campaign just now, so nothing was charged. \
                            Please try again in a moment.";
                return again(jar, StatusCode::SERVICE_UNAVAILABLE, notice(text));
            }
        }
    }
    let donation = match checked {
        Ok(d) if outcome.errors.is_empty() => d,
        Ok(_) => return again(jar, StatusCode::UNPROCESSABLE_ENTITY, outcome),
        Err(mut errors) => {
            errors.append(&mut outcome.errors);
            outcome.errors = errors;
            return again(jar, StatusCode::UNPROCESSABLE_ENTITY, outcome);
        }
    };
    let params = session_params(&donation, &config, &state.public_url);
    let nonce = field(&pairs, "nonce");
    // A nonce is what the page made (random_token: 48 hex digits); anything
    // else gets one of its own, so it can never collide with another form's.
    let nonce = if nonce.len() == 48 && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        nonce.to_owned()
    } else {
        session::random_token()
    };
    let key = donation.idempotency_key(&nonce);
    let failed = |outcome: Outcome, text: &str| Outcome {
        notice: Some(text.to_owned()),
        ..outcome
    };
    match stripe.client.create_checkout_session(&params, &key).await {
        Ok(created) => {
            let target = match (&created.url, created.status.as_deref()) {
                (Some(url), _) => Some(url.clone()),
                // The same form sent again after the reader had paid.
                (None, Some("complete")) => {
                    Some(format!("/donate/thanks?session_id={}", created.id))
                }
                _ => None,
            };
            match target.and_then(|t| HeaderValue::from_str(&t).ok()) {
                Some(location) => {
                    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
                }
                None => {
                    tracing::warn!(session = %created.id, "Checkout Session without a URL");
                    again(jar, StatusCode::BAD_GATEWAY, failed(outcome, UNREACHABLE))
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "Checkout Session not created");
            let text = match e {
                StripeError::Refused { .. } | StripeError::NotFound(_) => REFUSED,
                StripeError::Unavailable(_) => UNREACHABLE,
            };
            again(jar, StatusCode::BAD_GATEWAY, failed(outcome, text))
        }
    }
}
