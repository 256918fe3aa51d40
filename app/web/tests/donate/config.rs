//! The donation flags of `payments serve`: a bad value is one line and
//! exit 2; good values change the page.

use crate::process::{Server, http, run, stderr};

#[test]
fn bad_donation_settings_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--donation-min", "0"],
            "--donation-min must be above zero",
        ),
        (
            &["--donation-min", "lots"],
            "--donation-min: \"lots\" must be an amount",
        ),
        (&["--donation-max", "5"], "preset amounts must be between"),
        (
            &["--donation-presets-monthly", "5,,10"],
            "--donation-presets-monthly",
        ),
        (&["--donation-fee-percent", "60"], "must be below 50"),
        (
            &["--donation-fee-fixed=-1"],
            "--donation-fee-percent/--donation-fee-fixed",
        ),
        (
            &["--donation-currencies", "usd"],
            "--donation-currencies: \"usd\" must be a three-letter",
        ),
        (
            &[
                "--donation-currencies",
                "USD,JPY",
                "--donation-presets-once",
                "2.50",
            ],
            "more decimals than JPY",
        ),
        (
            &["--org-name", " "],
            "--org-name must be 1 to 100 characters",
        ),
        (
            &[
                "--stripe-checkout-origin",
                "https://checkout.stripe.com/pay",
            ],
            "must be an origin",
        ),
        (
            &["--stripe-checkout-origin", "ftp://x"],
            "must be an origin",
        ),
    ];
    for (flags, message) in cases {
        let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
        args.extend_from_slice(flags);
        let out = run(&args, dir.path());
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
        assert_eq!(lines.len(), 1, "{flags:?}: {err}");
        assert!(
            lines[0].contains(message),
            "{flags:?}: {:?} lacks {message:?}",
            lines[0]
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn the_page_follows_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--org-name",
            "Example News",
            "--donation-currencies",
            "EUR,USD",
            "--donation-presets-once",
            "3,7.50",
            "--donation-fee-percent",
            "1.5",
            "--donation-fee-fixed",
            "0.25",
            "--stripe-checkout-origin",
            "http://127.0.0.1:9",
            "--donation-rate-limit",
            "1",
        ],
    );
    let (status, body) = http(server.addr, "GET", "/donate", &[], "");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<title>Donate · Example News</title>"),
        "{body}"
    );
    assert!(
        body.contains("<select id=\"currency\" name=\"currency\""),
        "a choice of currency"
    );
    assert!(
        body.contains("<option value=\"EUR\" selected>EUR</option>"),
        "the first is the default"
    );
    assert!(
        body.contains("id=\"amount-once-750\" name=\"amount\" value=\"7.50\" checked"),
        "{body}"
    );
    // ceil((750 + 25) / 0.985) − 750 = 37.
    assert!(
        body.contains("<span class=\"fee\">0.37 EUR</span>"),
        "{body}"
    );
    assert!(body.contains("1.5% + 0.25 EUR"));
    // One form a minute: the limit is counted before anything else.
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (first, _) = http(server.addr, "POST", "/donate", &form, "amount=5");
    assert_eq!(first, 403, "no CSRF token");
    let (second, body) = http(server.addr, "POST", "/donate", &form, "amount=5");
    assert_eq!(second, 429, "{body}");
}
