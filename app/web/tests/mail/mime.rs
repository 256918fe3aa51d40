//! Reading a delivered message's MIME parts (what lettre writes: one
//! `multipart/alternative` with a `text/plain` and a `text/html` part, each
//! 7bit or quoted-printable).

use super::smtp_server::Delivered;

/// One part: its content type and its decoded body.
#[derive(Debug)]
pub struct Part {
    pub content_type: String,
    pub body: String,
}

fn header_of(head: &str, name: &str) -> Option<String> {
    let fake = Delivered {
        from: String::new(),
        to: Vec::new(),
        data: format!("{head}\r\n\r\n"),
        tls: false,
    };
    fake.header(name)
}

fn decode(body: &str, encoding: Option<&str>) -> String {
    match encoding.map(str::to_ascii_lowercase).as_deref() {
        None | Some("7bit" | "8bit") => body.to_owned(),
        Some("quoted-printable") => {
            let joined = body.replace("=\r\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'='
                    && let Some(hex) = joined.get(i + 1..i + 3)
                    && let Ok(b) = u8::from_str_radix(hex, 16)
                {
                    out.push(b);
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        }
        Some(other) => panic!("unexpected transfer encoding {other}"),
    }
}

/// The parts of `m`, which must be `multipart/alternative`.
pub fn parts(m: &Delivered) -> Vec<Part> {
    let content_type = m.header("Content-Type").expect("a Content-Type");
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a boundary")
        .trim_matches('"')
        .to_owned();
    let body = m.data.split_once("\r\n\r\n").unwrap().1;
    body.split(&format!("--{boundary}"))
        .skip(1)
        .filter(|chunk| !chunk.starts_with("--"))
        .map(|chunk| {
            let chunk = chunk.trim_start_matches("\r\n");
            let (head, body) = chunk.split_once("\r\n\r\n").unwrap();
            Part {
                content_type: header_of(head, "Content-Type").unwrap_or_default(),
                body: decode(
                    body.trim_end_matches("\r\n"),
                    header_of(head, "Content-Transfer-Encoding").as_deref(),
                ),
            }
        })
        .collect()
}

/// The text and the HTML part of `m`.
pub fn text_and_html(m: &Delivered) -> (String, String) {
    let parts = parts(m);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert!(parts[0].content_type.starts_with("text/plain"), "{parts:?}");
    assert!(parts[1].content_type.starts_with("text/html"), "{parts:?}");
    (parts[0].body.clone(), parts[1].body.clone())
}
