//! `/campaigns`: every campaign with its progress; for admins, a form to
//! create one and a form to edit each.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Timelike;
use serde::Deserialize;

use super::session::{Admin, Staff};
use super::view::{Notice, NoticeQuery, money, when};
use super::{Chrome, DashError, render};
use crate::domain::{Campaign, CampaignInput, Timestamp, parse_slug, to_major_units};
use crate::http::AppState;
use crate::storage::StoreError;

/// A campaign's fields as the forms send them (the create form adds `slug`).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CampaignForm {
    csrf: String,
    slug: String,
    name: String,
    goal: String,
    currency: String,
    match_ratio: String,
    match_cap: String,
    ends: String,
}

impl CampaignForm {
    /// The form's values for a campaign as it stands.
    fn of(c: &Campaign) -> CampaignForm {
        let code = c.currency.code();
        let amount = |v: Option<i64>| v.map(|v| to_major_units(v, code)).unwrap_or_default();
        CampaignForm {
            slug: c.slug.clone(),
            name: c.name.clone(),
            goal: amount(c.goal),
            currency: code.to_owned(),
            // Hundredths, shown as the decimal typed in: 150 → "1.5".
            match_ratio: c
                .match_ratio
                .map(|r| {
                    let text = to_major_units(r, "USD");
                    text.trim_end_matches('0').trim_end_matches('.').to_owned()
                })
                .unwrap_or_default(),
            match_cap: amount(c.match_cap),
            ends: c.ends_at.map(end_text).unwrap_or_default(),
            csrf: String::new(),
        }
    }

    fn input(&self) -> CampaignInput<'_> {
        CampaignInput {
            name: &self.name,
            goal: Some(&self.goal),
            currency: Some(&self.currency),
            match_ratio: Some(&self.match_ratio),
            match_cap: Some(&self.match_cap),
            ends: Some(&self.ends),
        }
    }
}

/// An end as the form takes it back: the date when it is a midnight UTC
/// (what a date in the form means), else the exact time.
fn end_text(at: Timestamp) -> String {
    let dt = at.to_datetime();
    if dt.num_seconds_from_midnight() == 0 && dt.nanosecond() == 0 {
        dt.format("%Y-%m-%d").to_string()
    } else {
        at.to_rfc3339()
    }
}

/// One input of a campaign form.
struct FieldView {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    kind: &'static str,
    inputmode: &'static str,
    placeholder: &'static str,
    value: String,
    error: Option<String>,
}

/// A create or edit form: its inputs, and whether to show it open.
struct FormView {
    /// Makes the inputs' ids unique on the page.
    prefix: String,
    action: String,
    fields: Vec<FieldView>,
    open: bool,
    /// How many fields need attention (the summary above the form).
    invalid: usize,
}

impl FormView {
    fn new(
        prefix: String,
        action: String,
        values: &CampaignForm,
        with_slug: bool,
        errors: &[(&str, String)],
    ) -> FormView {
        let error = |field: &str| {
            let found: Vec<&str> = errors
                .iter()
                .filter(|(f, _)| *f == field)
                .map(|(_, m)| m.as_str())
                .collect();
            (!found.is_empty()).then(|| found.join("; "))
        };
        let field = |name, label, hint, kind, inputmode, placeholder, value: &String| FieldView {
            name,
            label,
            hint,
            kind,
            inputmode,
            placeholder,
            value: value.clone(),
            error: error(name),
        };
        let mut fields = Vec::with_capacity(7);
        if with_slug {
            fields.push(field(
                "slug",
                "Slug",
                "In links and on payments; cannot be changed later.",
                "text",
                "text",
                "2026-year-end",
                &values.slug,
            ));
        }
        let ends_kind = if values.ends.is_empty() || values.ends.len() == 10 {
            "date"
        } else {
            "text"
        };
        fields.extend([
            field(
                "name",
                "Name",
                "",
                "text",
                "text",
                "Year-end drive",
                &values.name,
            ),
            field(
                "goal",
                "Goal",
                "Optional; in the campaign's currency.",
                "text",
                "decimal",
                "100,000",
                &values.goal,
            ),
            field(
                "currency",
                "Currency",
                "Gifts in other currencies do not count.",
                "text",
                "text",
                "USD",
                &values.currency,
            ),
            field(
                "match_ratio",
                "Match ratio",
                "Optional: 1 matches dollar for dollar, 2 doubles.",
                "text",
                "decimal",
                "1",
                &values.match_ratio,
            ),
            field(
                "match_cap",
                "Match cap",
                "Optional: the most the matcher gives.",
                "text",
                "decimal",
                "50,000",
                &values.match_cap,
            ),
            field(
                "ends",
                "Ends (UTC)",
                "Optional: gifts count until the start of this day.",
                ends_kind,
                "text",
                "2027-01-01",
                &values.ends,
            ),
        ]);
        FormView {
            prefix,
            action,
            invalid: fields.iter().filter(|f| f.error.is_some()).count(),
            open: !errors.is_empty(),
            fields,
        }
    }
}

struct CampaignView {
    slug: String,
    name: String,
    currency: String,
    count: i64,
    raised: String,
    goal: Option<String>,
    percent: Option<u8>,
    /// "31,200.00 USD of 50,000.00 USD matched (1×)", or None without a match.
    matched: Option<String>,
    ends: String,
    open: bool,
    edit: FormView,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    chrome: Chrome,
    notice: Option<Notice>,
    create: Option<FormView>,
    campaigns: Vec<CampaignView>,
}

/// A form sent back with its errors: the create form, or one campaign's.
enum Failed<'a> {
    Create(&'a CampaignForm, &'a [(&'a str, String)]),
    Edit(&'a str, &'a CampaignForm, &'a [(&'a str, String)]),
}

async fn campaigns_page(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    failed: Option<Failed<'_>>,
) -> Result<CampaignsPage, DashError> {
    let now = Timestamp::now();
    let mut views = Vec::new();
    // One read per campaign: a newsroom runs tens, and each is a range of
    // the monthly rollups.
    for c in state.store.campaigns().await? {
        let p = state.store.campaign_progress(&c).await?;
        let code = c.currency.code();
        let edit = match &failed {
            Some(Failed::Edit(slug, values, errors)) if *slug == c.slug => (*values, *errors),
            _ => (&CampaignForm::of(&c), &[][..]),
        };
        let edit = FormView::new(
            format!("edit-{}", c.slug),
            // The fragment brings the browser back to this card after a refusal.
            format!("/campaigns/{0}#campaign-{0}", c.slug),
            edit.0,
            false,
            edit.1,
        );
        views.push(CampaignView {
            matched: c.match_label().map(|label| match c.match_cap {
                Some(cap) => format!(
                    "{} of {} matched ({label})",
                    money(p.matched, code),
                    money(cap, code)
                ),
                None => format!("{} matched ({label}, no cap)", money(p.matched, code)),
            }),
            percent: p.percent_of_goal(&c),
            goal: c.goal.map(|g| money(g, code)),
            raised: money(p.raised, code),
            count: p.count,
            ends: c.ends_at.map_or_else(|| "no end date".into(), when),
            open: c.is_open(now),
            currency: code.to_owned(),
            slug: c.slug,
            name: c.name,
            edit,
        });
    }
    let create = staff.is_admin().then(|| {
        let (values, errors) = match &failed {
            Some(Failed::Create(values, errors)) => (*values, *errors),
            _ => (&CampaignForm::default(), &[][..]),
        };
        FormView::new(
            "new".into(),
            "/campaigns#new-campaign".into(),
            values,
            true,
            errors,
        )
    });
    Ok(CampaignsPage {
        chrome: Chrome::new(staff, "campaigns"),
        notice,
        create,
        campaigns: views,
    })
}

/// `/campaigns`: read-only for viewers.
pub async fn campaigns(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, DashError> {
    Ok(render(
        &campaigns_page(&state, &staff, q.notice(), None).await?,
    ))
}

async fn refused(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    failed: Failed<'_>,
) -> Result<Response, DashError> {
    let page = campaigns_page(state, staff, None, Some(failed)).await?;
    Ok((status, render(&page)).into_response())
}

/// `POST /campaigns`: a new campaign, then back to the list.
pub async fn create_campaign(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Form(form): Form<CampaignForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    let slug = form.slug.trim();
    let mut errors = Vec::new();
    if let Err(m) = parse_slug(slug) {
        errors.push(("slug", m));
    }
    let spec = form.input().parse().map_err(|e| errors.extend(e)).ok();
    let Some(spec) = spec.filter(|_| errors.is_empty()) else {
        let failed = Failed::Create(&form, &errors);
        return refused(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, failed).await;
    };
    match state
        .store
        .create_campaign(&staff.actor(), slug, &spec)
        .await
    {
        Ok(_) => Ok(Redirect::to("/campaigns?notice=campaign-created").into_response()),
        Err(StoreError::Conflict(_)) => {
            let errors = [(
                "slug",
                format!("is taken: a campaign {slug} already exists; choose another"),
            )];
            refused(
                &state,
                &staff,
                StatusCode::CONFLICT,
                Failed::Create(&form, &errors),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /campaigns/{slug}`: new values for a campaign, then back to the list.
pub async fn update_campaign(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(slug): Path<String>,
    Form(form): Form<CampaignForm>,
) -> Result<Response, DashError> {
    staff.check_csrf(&form.csrf)?;
    let slug = parse_slug(&slug).map_err(|_| DashError::NotFound)?;
    // Looked up first, so a form for no campaign is a 404, not errors on no form.
    state
        .store
        .campaign(&slug)
        .await?
        .ok_or(DashError::NotFound)?;
    let spec = match form.input().parse() {
        Ok(spec) => spec,
        Err(errors) => {
            let failed = Failed::Edit(&slug, &form, &errors);
            return refused(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, failed).await;
        }
    };
    state
        .store
        .update_campaign(&staff.actor(), &slug, &spec)
        .await?;
    Ok(Redirect::to(&format!("/campaigns?notice=campaign-saved#campaign-{slug}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn a_campaign_fills_its_form_with_what_parses_back_to_it() {
        let c = Campaign {
            slug: "2026-year-end".into(),
            name: "Year-end".into(),
            goal: Some(10_000_000),
            currency: Currency::USD,
            match_ratio: Some(150),
            match_cap: Some(5_000_000),
            ends_at: Some(Timestamp(1_798_761_600_000_000)),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let form = CampaignForm::of(&c);
        assert_eq!(
            (
                form.goal.as_str(),
                form.match_ratio.as_str(),
                form.ends.as_str()
            ),
            ("100000.00", "1.5", "2027-01-01")
        );
        let spec = form.input().parse().unwrap();
        assert_eq!(
            (spec.goal, spec.match_ratio, spec.match_cap, spec.ends_at),
            (c.goal, c.match_ratio, c.match_cap, c.ends_at)
        );
        assert_eq!(
            CampaignForm::of(&Campaign {
                match_ratio: Some(200),
                ..c.clone()
            })
            .match_ratio,
            "2"
        );
        assert_eq!(end_text(Timestamp(1_798_761_600_000_001)).len(), 27);
    }
}
