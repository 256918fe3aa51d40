//! Logs and metrics.

use std::cell::RefCell;
use std::fmt;
use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, readable text when it is.
    Auto,
    /// One JSON object per line (containers).
    Json,
    /// Readable text.
    Text,
}

/// Installs the global subscriber. Level from `PAYMENTS_LOG` (an env-filter
/// directive), default `info`.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_env("PAYMENTS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = if json {
        builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines::new(SystemTime))
            .try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests): keep the first.
    let _ = result;
}

/// One JSON object per line, byte for byte what tracing-subscriber's JSON
/// format writes with `flatten_event(true)`, `with_current_span(true)`,
/// `with_span_list(false)` and no target: `timestamp`, `level`, the event's
/// fields, then `span` (the current span's fields and its `name`).
///
/// Written directly instead: the span's fields, rendered as a JSON object by
/// [`JsonFields`] when the span was created, are copied into each line as
/// they are, where tracing-subscriber parses them into a `serde_json::Value`
/// and serializes it again for every event (every request's log line).
pub struct JsonLines<T> {
    timer: T,
}

impl<T: FormatTime> JsonLines<T> {
    pub fn new(timer: T) -> Self {
        JsonLines { timer }
    }
}

impl<S, N, T> FormatEvent<S, N> for JsonLines<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        thread_local! {
            static LINE: RefCell<(String, Vec<u8>)> = const { RefCell::new((String::new(), Vec::new())) };
        }
        LINE.with(|cell| {
            // A field whose formatting logs would find the buffers in use.
            let mut fresh = Default::default();
            let mut borrowed = cell.try_borrow_mut();
            let (timestamp, line) = match &mut borrowed {
                Ok(buffers) => &mut **buffers,
                Err(_) => &mut fresh,
            };
            timestamp.clear();
            line.clear();
            self.timer.format_time(&mut Writer::new(timestamp))?;
            line.extend_from_slice(b"{\"timestamp\":");
            json(line, timestamp.as_str());
            line.extend_from_slice(b",\"level\":\"");
            line.extend_from_slice(level_name(event.metadata().level()).as_bytes());
            line.push(b'"');
            event.record(&mut JsonEntries(line));
            let span = event
                .parent()
                .and_then(|id| ctx.span(id))
                .or_else(|| ctx.lookup_current());
            if let Some(span) = span {
                line.extend_from_slice(b",\"span\":");
                let extensions = span.extensions();
                let fields = extensions
                    .get::<FormattedFields<N>>()
                    .map_or("", |f| f.fields.as_str());
                // `{"a":1,"b":2}` is continued with `,"name":…}`; `{}` with `"name":…}`.
                match fields.strip_suffix('}') {
                    Some(open) if open.len() > 1 => {
                        line.extend_from_slice(open.as_bytes());
                        line.push(b',');
                    }
                    _ => line.push(b'{'),
                }
                line.extend_from_slice(b"\"name\":");
                json(line, span.metadata().name());
                line.push(b'}');
            }
            line.extend_from_slice(b"}\n");
            writer.write_str(std::str::from_utf8(line).map_err(|_| fmt::Error)?)
        })
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// Appends a value as compact JSON (as serde_json writes it).
fn json(line: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    // Writing into a Vec fails only for maps with non-string keys: none here.
    let _ = serde_json::to_writer(line, value);
}

/// The event's fields as `,"name":value` entries, each value as
/// tracing-serde records it (Debug values as strings).
struct JsonEntries<'a>(&'a mut Vec<u8>);

impl JsonEntries<'_> {
    fn entry(&mut self, field: &Field, value: &(impl Serialize + ?Sized)) {
        self.0.push(b',');
        json(self.0, field.name());
        self.0.push(b':');
        json(self.0, value);
    }
}

impl Visit for JsonEntries<'_> {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, &value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, &value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, &value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.entry(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.entry(field, &format_args!("{value:?}"));
    }
}

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            metrics::describe_counter!(
                "http_requests_total",
                "HTTP requests by method, route and status"
            );
            metrics::describe_histogram!(
                "http_request_duration_seconds",
                metrics::Unit::Seconds,
                "HTTP request latency by method, route and status"
            );
            metrics::describe_counter!("payments_created_total", "Payments recorded");
            metrics::describe_counter!("refunds_created_total", "Refunds made");
            metrics::describe_gauge!("db_pool_connections", "Open database connections");
            metrics::describe_gauge!("db_pool_idle_connections", "Idle database connections");
            metrics::describe_gauge!("db_pool_max_connections", "Database pool size limit");
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The same instant in every line, so that lines can be compared.
    struct FixedTime;

    impl FormatTime for FixedTime {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("2026-12-03T13:48:48.770428Z")
        }
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Events of every kind the service logs, and a few it might.
    fn log_everything() {
        tracing::info!("listening");
        tracing::info!(addr = %"127.0.0.1:8080", n = 5u64, neg = -3i64, ok = true, ratio = 0.25, "starting");
        tracing::warn!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            big = u128::MAX,
            small = i128::MIN,
            "odd numbers"
        );
        let error = io::Error::other("disk \"full\"");
        tracing::error!(error = %error, debug = ?error, cause = &error as &(dyn std::error::Error + 'static), "failed");
        tracing::debug!(text = "quote \" backslash \\ newline \n tab \t é ✓ \u{1} \u{7f}", list = ?vec![1, 2], "escapes");
        tracing::trace!(r#type = "raw", "raw identifier");
        tracing::info!(only = 1);
        let request = tracing::info_span!("request", method = %"GET", route = %"/api/v1/payments", request_id = %"3b70-\"x\"");
        request.in_scope(|| {
            tracing::info!(status = 200u16, latency_ms = 8.576585, "request");
            let inner = tracing::info_span!("create_payment", actor = "token:tok_1", attempt = 2);
            inner.in_scope(|| tracing::warn!(error = "deadlock", "retrying"));
            let empty = tracing::info_span!("empty");
            empty.in_scope(|| tracing::info!("inside a span without fields"));
        });
        tracing::info!(parent: &request, "explicit parent");
        let late = tracing::info_span!("late", first = 1, second = tracing::field::Empty);
        late.record("second", "recorded later");
        late.in_scope(|| tracing::info!("after a record"));
    }

    #[test]
    fn json_lines_are_what_tracing_subscribers_json_format_writes() {
        let reference = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let lines = reference.clone();
                move || lines.clone()
            })
            .with_max_level(Level::TRACE)
            .with_timer(FixedTime)
            .with_target(false)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .finish();
        tracing::subscriber::with_default(subscriber, log_everything);

        let ours = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let lines = ours.clone();
                move || lines.clone()
            })
            .with_max_level(Level::TRACE)
            .with_target(false)
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines::new(FixedTime))
            .finish();
        tracing::subscriber::with_default(subscriber, log_everything);

        let (expected, got) = (reference.text(), ours.text());
        assert_eq!(expected.lines().count(), 12, "{expected}");
        for (expected, got) in expected.lines().zip(got.lines()) {
            assert_eq!(got, expected);
        }
        assert_eq!(got, expected);
        // And what the request line looks like, written out.
        assert!(expected.contains(
            r#"{"timestamp":"2026-12-03T13:48:48.770428Z","level":"INFO","message":"request","status":200,"latency_ms":8.576585,"span":{"method":"GET","request_id":"3b70-\"x\"","route":"/api/v1/payments","name":"request"}}"#
        ), "{expected}");
    }
}
