//! `/payments.csv`: the filtered payments as a spreadsheet-safe CSV file.

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::DashError;
use super::payments::PaymentsForm;
use super::session::Staff;
use crate::domain::{Cursor, exponent_of, write_major_units};
use crate::http::AppState;
use crate::storage::payments::ExportRow;

/// Prefixes text cells that a spreadsheet would run as a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "created_at",
    "amount",
    "currency",
    "amount_refunded",
    "status",
    "method",
    "payer_name",
    "payer_email",
    "campaign",
    "description",
    "external_ref",
    "metadata",
];
const CSV_BATCH: i64 = 5000;

fn csv_rows(rows: &[ExportRow], header: bool) -> Result<Bytes, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 320));
    if header {
        w.write_record(CSV_HEADER)?;
    }
    // Rows come in runs of a few currencies: remember the last exponent
    // rather than look the code up twice a row.
    let mut last: Option<(&str, u32)> = None;
    let (mut amount, mut refunded) = (String::new(), String::new());
    for r in rows {
        let exponent = match last {
            Some((code, exponent)) if code == r.currency() => exponent,
            _ => {
                let exponent = exponent_of(r.currency());
                last = Some((r.currency(), exponent));
                exponent
            }
        };
        amount.clear();
        write_major_units(&mut amount, r.amount(), exponent);
        refunded.clear();
        write_major_units(&mut refunded, r.amount_refunded(), exponent);
        w.write_record([
            r.id(),
            &r.created_at().to_rfc3339(),
            &amount,
            r.currency(),
            &refunded,
            r.status(),
            r.method(),
            &neutralise(r.payer_name()),
            &neutralise(r.payer_email()),
            &neutralise(r.campaign()),
            &neutralise(r.description()),
            &neutralise(r.external_ref()),
            &neutralise(r.metadata_json()),
        ])?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// `/payments.csv`: the filtered set, streamed in keyset batches so memory
/// stays constant whatever the size.
pub async fn payments_csv(
    State(state): State<AppState>,
    // Not read: extracting it is what sends anyone not logged in to /login.
    _staff: Staff,
    Query(form): Query<PaymentsForm>,
) -> Result<Response, DashError> {
    let filter = match form.filter() {
        Ok(f) => f,
        Err(errors) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, errors.join("\n")).into_response());
        }
    };
    // Two stages, so the next batch is read while this one is written out:
    // the database reader feeds batches to the CSV writer, which feeds the body.
    let (batches_tx, mut batches_rx) = tokio::sync::mpsc::channel::<Vec<ExportRow>>(2);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let store = state.store.clone();
    let reader_tx = tx.clone();
    tokio::spawn(async move {
        let mut after: Option<Cursor> = None;
        loop {
            // One more row than a batch: it tells whether another batch follows.
            let mut rows = match store.export_rows(&filter, after, CSV_BATCH + 1).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed");
                    let _ = reader_tx
                        .send(Err(std::io::Error::other("export failed")))
                        .await;
                    return;
                }
            };
            let more = rows.len() as i64 > CSV_BATCH;
            rows.truncate(CSV_BATCH as usize);
            after = rows.last().filter(|_| more).map(|last| Cursor {
                created_at: last.created_at().0,
                id: last.id().to_owned(),
            });
            if batches_tx.send(rows).await.is_err() {
                return; // the writer stopped: the client went away
            }
            if after.is_none() {
                return;
            }
        }
    });
    tokio::spawn(async move {
        let mut first = true;
        while let Some(batch) = batches_rx.recv().await {
            let chunk = csv_rows(&batch, first).map_err(|e| std::io::Error::other(e.to_string()));
            first = false;
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    let filename = format!(
        "attachment; filename=\"payments-{}.csv\"",
        Utc::now().format("%Y%m%d-%H%M%S")
    );
    let mut response =
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (input, out) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("ok", "ok"),
            ("", ""),
        ] {
            assert_eq!(neutralise(input), out);
        }
    }
}
