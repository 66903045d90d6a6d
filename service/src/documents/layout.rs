//! How an invoice is set on US Letter pages (N-4): the association and the invoice's number at
//! the top, bill-to, the lines with their terms, totals, paid and balance, the instalment plan,
//! and how to pay. Lines that do not fit continue on further pages.

use chrono::NaiveDate;
use pdf_writer::{Content, Str};

use super::fonts::{Font, encode};
use super::invoice::{InvoiceDocument, Issuer};
use super::pdf::{PAGE_HEIGHT, PAGE_WIDTH};
use crate::money;

const LEFT: f32 = 54.0;
const RIGHT: f32 = PAGE_WIDTH - 54.0;
const TOP: f32 = PAGE_HEIGHT - 54.0;
const BOTTOM: f32 = 72.0;
const TERM_X: f32 = 330.0;
const LABEL_RIGHT: f32 = 470.0;
const ROW: f32 = 15.0;
/// What the totals and "how to pay" need below the last line.
const CLOSING_SPACE: f32 = 230.0;

/// The content streams of `doc`'s pages, in order.
pub fn pages(issuer: &Issuer, doc: &InvoiceDocument) -> Vec<Vec<u8>> {
    let mut pages = Vec::new();
    let mut page = Page::new();
    let mut y = header(&mut page, issuer, doc);
    y = parties(&mut page, doc, y);
    y = table_head(&mut page, issuer, y);
    for line in &doc.lines {
        if y - ROW < BOTTOM + 20.0 {
            pages.push(page);
            page = Page::new();
            y = continued(&mut page, issuer, doc);
            y = table_head(&mut page, issuer, y);
        }
        y = line_row(&mut page, line, y);
    }
    if y - CLOSING_SPACE < BOTTOM {
        pages.push(page);
        page = Page::new();
        y = continued(&mut page, issuer, doc);
    }
    y = totals(&mut page, doc, y - 8.0);
    y = plan(&mut page, doc, y);
    how_to_pay(&mut page, issuer, doc, y);
    pages.push(page);
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(k, mut p)| {
            footer(&mut p, issuer, doc, k + 1, count);
            p.finish()
        })
        .collect()
}

/// The association on the left, the invoice's number, date and term on the right.
fn header(page: &mut Page, issuer: &Issuer, doc: &InvoiceDocument) -> f32 {
    page.text(
        LEFT,
        TOP,
        Font::Bold,
        16.0,
        &fit(&issuer.name, Font::Bold, 16.0, 300.0),
    );
    let mut y = TOP - 16.0;
    for line in &issuer.address {
        page.text(
            LEFT,
            y,
            Font::Regular,
            9.0,
            &fit(line, Font::Regular, 9.0, 300.0),
        );
        y -= 11.0;
    }
    if let Some(reply_to) = &issuer.reply_to {
        page.text(
            LEFT,
            y,
            Font::Regular,
            9.0,
            &fit(reply_to, Font::Regular, 9.0, 300.0),
        );
        y -= 11.0;
    }
    page.text_right(RIGHT, TOP, Font::Bold, 20.0, "INVOICE");
    let mut right = TOP - 20.0;
    let mut facts = vec![
        format!("Invoice no. {}", doc.id),
        format!("Issued {}", doc.issued_on),
    ];
    if let Some((begin, end)) = doc.term {
        facts.push(format!("Term {}", span(begin, end)));
    }
    if let Some(status) = status_label(&doc.status) {
        facts.push(status.to_owned());
    }
    for fact in facts {
        page.text_right(RIGHT, right, Font::Regular, 10.0, &fact);
        right -= 13.0;
    }
    y.min(right) - 24.0
}

fn status_label(status: &str) -> Option<&'static str> {
    match status {
        "paid" => Some("PAID"),
        "void" => Some("VOID"),
        "cancelled" => Some("CANCELLED"),
        "written_off" => Some("WRITTEN OFF"),
        "draft" => Some("DRAFT"),
        _ => None,
    }
}

/// Bill-to on the left; on the right, the member it is for when someone else pays.
fn parties(page: &mut Page, doc: &InvoiceDocument, top: f32) -> f32 {
    let mut y = top;
    page.text(LEFT, y, Font::Bold, 10.0, "Bill to");
    y -= 14.0;
    let mut block = vec![doc.bill_to.name.clone()];
    block.extend(doc.bill_to.address.iter().cloned());
    block.extend(doc.bill_to.email.iter().cloned());
    for line in block {
        page.text(
            LEFT,
            y,
            Font::Regular,
            10.0,
            &fit(&line, Font::Regular, 10.0, 260.0),
        );
        y -= 12.0;
    }
    let mut right = top;
    match &doc.member {
        Some(member) => {
            page.text(TERM_X, right, Font::Bold, 10.0, "For member");
            right -= 14.0;
            page.text(
                TERM_X,
                right,
                Font::Regular,
                10.0,
                &fit(&member.name, Font::Regular, 10.0, 220.0),
            );
            right -= 12.0;
            page.text(
                TERM_X,
                right,
                Font::Regular,
                10.0,
                &format!("Member no. {}", member.id),
            );
        }
        None => {
            page.text(TERM_X, right, Font::Bold, 10.0, "Member no.");
            right -= 14.0;
            page.text(
                TERM_X,
                right,
                Font::Regular,
                10.0,
                &doc.bill_to.id.to_string(),
            );
        }
    }
    right -= 12.0;
    y.min(right) - 18.0
}

fn table_head(page: &mut Page, issuer: &Issuer, y: f32) -> f32 {
    page.text(LEFT, y, Font::Bold, 10.0, "Description");
    page.text(TERM_X, y, Font::Bold, 10.0, "Term");
    page.text_right(
        RIGHT,
        y,
        Font::Bold,
        10.0,
        &format!("Amount ({})", issuer.currency),
    );
    page.rule(y - 5.0, 0.8);
    y - 5.0 - ROW
}

fn line_row(page: &mut Page, line: &super::invoice::Line, y: f32) -> f32 {
    let description = if line.quantity > 1 {
        format!("{} x {}", line.quantity, line.description)
    } else {
        line.description.clone()
    };
    page.text(
        LEFT,
        y,
        Font::Regular,
        10.0,
        &fit(&description, Font::Regular, 10.0, TERM_X - LEFT - 12.0),
    );
    page.text(
        TERM_X,
        y,
        Font::Regular,
        10.0,
        &span(line.term_begin, line.term_end),
    );
    page.text_right(
        RIGHT,
        y,
        Font::Regular,
        10.0,
        &money::format_cents(line.amount_cents),
    );
    y - ROW
}

/// Subtotal and credit notes when a credit note lowered the invoice, then total, paid,
/// written off and the balance.
fn totals(page: &mut Page, doc: &InvoiceDocument, top: f32) -> f32 {
    page.rule(top + 12.0, 0.5);
    let mut rows: Vec<(&str, i64, Font)> = Vec::new();
    if doc.credited_cents != 0 {
        rows.push(("Subtotal", doc.subtotal_cents, Font::Regular));
        rows.push(("Credit notes", -doc.credited_cents, Font::Regular));
    }
    rows.push(("Total", doc.total_cents, Font::Bold));
    rows.push(("Paid", doc.paid_cents, Font::Regular));
    if doc.written_off_cents != 0 {
        rows.push(("Written off", doc.written_off_cents, Font::Regular));
    }
    rows.push(("Balance due", doc.balance_cents, Font::Bold));
    let mut y = top;
    for (label, cents, font) in rows {
        page.text_right(LABEL_RIGHT, y, font, 10.0, label);
        page.text_right(RIGHT, y, font, 10.0, &money::format_cents(cents));
        y -= ROW;
    }
    y - 10.0
}

/// The instalment parts (S-11), when the invoice is paid in parts.
fn plan(page: &mut Page, doc: &InvoiceDocument, top: f32) -> f32 {
    if doc.instalments.is_empty() {
        return top;
    }
    let mut y = top;
    page.text(LEFT, y, Font::Bold, 10.0, "Payment plan");
    y -= 14.0;
    for part in &doc.instalments {
        page.text(
            LEFT,
            y,
            Font::Regular,
            10.0,
            &format!("Part {} due {}", part.number, part.due_on),
        );
        page.text_right(
            LABEL_RIGHT,
            y,
            Font::Regular,
            10.0,
            &money::format_cents(part.amount_cents),
        );
        y -= 13.0;
    }
    y - 10.0
}

/// What the reader does next: how to pay an open balance, or that nothing is owed.
fn how_to_pay(page: &mut Page, issuer: &Issuer, doc: &InvoiceDocument, top: f32) {
    let mut y = top;
    let paragraphs = payment_instructions(issuer, doc);
    let heading = if doc.status == "open" && doc.balance_cents > 0 {
        "How to pay"
    } else {
        "Note"
    };
    page.text(LEFT, y, Font::Bold, 10.0, heading);
    y -= 14.0;
    for paragraph in paragraphs {
        for line in wrap(&paragraph, Font::Regular, 9.5, RIGHT - LEFT) {
            if y < BOTTOM {
                return;
            }
            page.text(LEFT, y, Font::Regular, 9.5, &line);
            y -= 12.0;
        }
        y -= 3.0;
    }
}

/// The paragraphs of "how to pay", by what the invoice's state and the association allow.
pub fn payment_instructions(issuer: &Issuer, doc: &InvoiceDocument) -> Vec<String> {
    match doc.status.as_str() {
        "open" if doc.balance_cents > 0 => {}
        "open" | "paid" => return vec!["Paid in full. Thank you.".into()],
        "void" | "cancelled" => {
            return vec![format!(
                "This invoice was {} and is not payable.",
                doc.status
            )];
        }
        "written_off" => return vec!["The balance of this invoice was written off.".into()],
        _ => return vec!["This invoice is not final yet.".into()],
    }
    let amount = format!(
        "{} {}",
        issuer.currency,
        money::format_cents(doc.balance_cents)
    );
    let mut out = vec![format!(
        "Please pay {amount} quoting invoice number {}.",
        doc.id
    )];
    if doc.bill_to.autopay {
        out.push(
            "AutoPay: the card saved in your member account is charged on the due date.".into(),
        );
    }
    if issuer.pays_online {
        out.push(format!(
            "Online: sign in to your member account and pay invoice {} by card.",
            doc.id
        ));
    }
    let mut cheque = format!("By cheque: payable to {}", issuer.name);
    if !issuer.address.is_empty() {
        cheque.push_str(&format!(", mailed to {}", issuer.address.join(", ")));
    }
    cheque.push_str(&format!(", with invoice number {} on the cheque.", doc.id));
    out.push(cheque);
    if let Some(reply_to) = &issuer.reply_to {
        out.push(format!("Questions: {reply_to}"));
    }
    out
}

/// The one page of a run's print that has no invoice to print.
pub fn nothing_to_print(issuer: &Issuer, run_id: i64) -> Vec<u8> {
    let mut page = Page::new();
    page.text(
        LEFT,
        TOP,
        Font::Bold,
        16.0,
        &fit(&issuer.name, Font::Bold, 16.0, RIGHT - LEFT),
    );
    page.text(
        LEFT,
        TOP - 30.0,
        Font::Regular,
        11.0,
        &format!("Renewal run {run_id} has no invoices to print."),
    );
    page.finish()
}

fn continued(page: &mut Page, issuer: &Issuer, doc: &InvoiceDocument) -> f32 {
    page.text(
        LEFT,
        TOP,
        Font::Bold,
        12.0,
        &fit(&issuer.name, Font::Bold, 12.0, 300.0),
    );
    page.text_right(
        RIGHT,
        TOP,
        Font::Bold,
        12.0,
        &format!("Invoice no. {} (continued)", doc.id),
    );
    TOP - 36.0
}

fn footer(page: &mut Page, issuer: &Issuer, doc: &InvoiceDocument, number: usize, count: usize) {
    let text = format!(
        "{} - invoice {} - page {number} of {count}",
        issuer.name, doc.id
    );
    page.text(
        LEFT,
        40.0,
        Font::Regular,
        8.0,
        &fit(&text, Font::Regular, 8.0, RIGHT - LEFT),
    );
}

fn span(begin: NaiveDate, end: NaiveDate) -> String {
    format!("{begin} to {end}")
}

/// `text` cut with an ellipsis to fit `width`.
fn fit(text: &str, font: Font, size: f32, width: f32) -> String {
    if font.width(text, size) <= width {
        return text.to_owned();
    }
    let mut cut: String = text.to_owned();
    while !cut.is_empty() && font.width(&format!("{cut}..."), size) > width {
        cut.pop();
    }
    format!("{}...", cut.trim_end())
}

/// `text` in lines no wider than `width`, broken between words.
fn wrap(text: &str, font: Font, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if font.width(&candidate, size) <= width || line.is_empty() {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
        .into_iter()
        .map(|l| fit(&l, font, size, width))
        .collect()
}

/// One page's drawing operators.
struct Page {
    content: Content,
}

impl Page {
    fn new() -> Page {
        Page {
            content: Content::new(),
        }
    }

    fn text(&mut self, x: f32, y: f32, font: Font, size: f32, text: &str) {
        self.content
            .begin_text()
            .set_font(font.resource(), size)
            .next_line(x, y)
            .show(Str(&encode(text)))
            .end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, font: Font, size: f32, text: &str) {
        self.text(right - font.width(text, size), y, font, size, text);
    }

    /// A horizontal line across the text column.
    fn rule(&mut self, y: f32, width: f32) {
        self.content
            .set_line_width(width)
            .move_to(LEFT, y)
            .line_to(RIGHT, y)
            .stroke();
    }

    fn finish(self) -> Vec<u8> {
        self.content.finish().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n4_long_text_is_cut_or_wrapped_to_its_column() {
        let long = "Annual dues for the Society of Example Physicians and its regional sections";
        let cut = fit(long, Font::Regular, 10.0, 120.0);
        assert!(cut.ends_with("...") && Font::Regular.width(&cut, 10.0) <= 120.0);
        let lines = wrap(long, Font::Regular, 10.0, 150.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| Font::Regular.width(l, 10.0) <= 150.0));
        assert_eq!(lines.join(" "), long);
    }
}
