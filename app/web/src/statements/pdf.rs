//! The statement as a PDF: US Letter pages in the standard fonts every PDF
//! reader has (Helvetica for text, Courier for the table so its columns
//! line up without font metrics), nothing embedded and nothing fetched.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::domain::format_amount;
use crate::domain::statement::Statement;

/// Who issues the statement: what a tax statement must name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Issuer {
    pub name: String,
    pub tax_id: Option<String>,
    pub address: Option<String>,
}

/// The sentence a US tax receipt needs.
pub const NO_GOODS: &str =
    "No goods or services were provided in exchange for these contributions.";

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 54.0;
const BOTTOM: f32 = 72.0;
const TABLE_SIZE: f32 = 8.5;
const LEADING: f32 = 12.0;
const HELVETICA: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const COURIER: Name<'static> = Name(b"F3");

/// Columns of the table, in Courier characters.
const DATE_COLS: usize = 10;
const WHAT_COLS: usize = 30;
const MONEY_COLS: usize = 17;

/// Text in the fonts' WinAnsi encoding: ASCII and Latin-1 as they are, the
/// usual typographic marks mapped, anything else as `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// At most `cols` characters, cut with an ellipsis.
fn fit(s: &str, cols: usize) -> String {
    if s.chars().count() <= cols {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(cols.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Words into lines of at most `cols` characters.
fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > cols {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A table row: date, description, then right-aligned money columns.
fn row(date: &str, what: &str, money: [&str; 3]) -> String {
    let mut s = format!(
        "{:<DATE_COLS$}  {:<WHAT_COLS$}",
        fit(date, DATE_COLS),
        fit(what, WHAT_COLS)
    );
    for m in money {
        s.push_str(&format!("{m:>MONEY_COLS$}"));
    }
    s
}

/// Pages being laid out top to bottom.
struct Layout {
    pages: Vec<Content>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        let mut l = Layout {
            pages: Vec::new(),
            y: 0.0,
        };
        l.new_page();
        l
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = HEIGHT - MARGIN;
    }

    /// Room for `lines` more lines on this page, or a new page.
    fn room(&mut self, lines: usize) {
        if self.y - LEADING * (lines as f32) < BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, font: Name<'_>, size: f32, text: &str) {
        let y = self.y;
        let page = self.pages.last_mut().expect("a page");
        page.begin_text();
        page.set_font(font, size);
        page.next_line(MARGIN, y);
        page.show(Str(&win_ansi(text)));
        page.end_text();
        self.y -= (size * 1.4).max(LEADING);
    }

    fn rule(&mut self) {
        let y = self.y + LEADING * 0.55;
        let page = self.pages.last_mut().expect("a page");
        page.set_line_width(0.5);
        page.move_to(MARGIN, y);
        page.line_to(WIDTH - MARGIN, y);
        page.stroke();
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }
}

fn table_header(l: &mut Layout) {
    l.text(
        COURIER,
        TABLE_SIZE,
        &row("Date", "Gift", ["Amount", "Refunded", "Net"]),
    );
    l.rule();
}

/// The statement as PDF bytes.
pub fn render(issuer: &Issuer, s: &Statement) -> Vec<u8> {
    let mut l = Layout::new();
    l.text(BOLD, 16.0, &issuer.name);
    if let Some(address) = &issuer.address {
        for line in address
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
        {
            l.text(HELVETICA, 10.0, line);
        }
    }
    if let Some(tax_id) = &issuer.tax_id {
        l.text(HELVETICA, 10.0, &format!("Tax id: {tax_id}"));
    }
    l.gap(12.0);
    l.text(BOLD, 13.0, &format!("Giving statement for {}", s.year));
    l.text(HELVETICA, 10.0, &s.donor_name);
    l.text(HELVETICA, 10.0, &s.donor_email);
    l.gap(6.0);
    let thanks = format!(
        "Thank you for supporting {} in {}. This statement lists every gift you made \
         that year (dates in UTC), less anything refunded to you.",
        issuer.name, s.year
    );
    for line in wrap(&thanks, 95) {
        l.text(HELVETICA, 10.0, &line);
    }
    l.gap(10.0);
    table_header(&mut l);
    for g in &s.gifts {
        if l.y - LEADING < BOTTOM {
            l.new_page();
            table_header(&mut l);
        }
        let refunded = if g.refunded > 0 {
            format_amount(g.refunded, &g.currency)
        } else {
            String::new()
        };
        l.text(
            COURIER,
            TABLE_SIZE,
            &row(
                &g.date().to_string(),
                &g.description,
                [
                    &format_amount(g.amount, &g.currency),
                    &refunded,
                    &format_amount(g.net(), &g.currency),
                ],
            ),
        );
    }
    if s.gifts.is_empty() {
        l.text(HELVETICA, 10.0, "No gifts this year.");
    }
    let totals = s.totals();
    l.room(totals.len() + 4);
    l.gap(4.0);
    l.rule();
    for (currency, t) in &totals {
        let gifts = if t.count == 1 { "gift" } else { "gifts" };
        let label = format!("Total {currency} ({} {gifts})", t.count);
        l.text(
            COURIER,
            TABLE_SIZE,
            &row(
                "",
                &label,
                [
                    &format_amount(t.gross, currency),
                    &format_amount(t.refunded, currency),
                    &format_amount(t.net, currency),
                ],
            ),
        );
    }
    l.gap(12.0);
    l.text(HELVETICA, 10.0, NO_GOODS);
    write(issuer, s, l.pages)
}

/// The document around the laid-out pages, each numbered.
fn write(issuer: &Issuer, s: &Statement, pages: Vec<Content>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [
        (HELVETICA, Ref::new(4), "Helvetica"),
        (BOLD, Ref::new(5), "Helvetica-Bold"),
        (COURIER, Ref::new(6), "Courier"),
    ];
    let first = 7;
    let count = pages.len();
    let page_ids: Vec<Ref> = (0..count).map(|i| Ref::new(first + 2 * i as i32)).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(count as i32);
    let title = format!("{} giving statement {}", issuer.name, s.year);
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("payments"));
    for (_, id, base) in fonts {
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for (i, mut content) in pages.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let footer = format!("Page {} of {count}", i + 1);
        content.begin_text();
        content.set_font(HELVETICA, 8.0);
        content.next_line(MARGIN, BOTTOM - 30.0);
        content.show(Str(&win_ansi(&footer)));
        content.end_text();
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut font_map = resources.fonts();
        for (name, id, _) in fonts {
            font_map.pair(name, id);
        }
        font_map.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(win_ansi("Zoë – 5 €"), b"Zo\xeb \x96 5 \x80".to_vec());
        assert_eq!(win_ansi("名"), b"?".to_vec());
    }

    #[test]
    fn columns_line_up_and_long_text_is_cut() {
        let a = row(
            "2026-01-02",
            "Year-end drive",
            ["50.00 USD", "", "50.00 USD"],
        );
        let b = row(
            "",
            &"x".repeat(80),
            ["1,234,567.00 USD", "1.00 USD", "1,234,566.00 USD"],
        );
        assert_eq!(a.chars().count(), b.chars().count());
        assert!(b.contains(&format!("{}…", "x".repeat(WHAT_COLS - 1))));
        assert!(a.ends_with("        50.00 USD"));
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
    }
}
