//! N-2: what a notice's template sees, and rendering it. Templates are strict: a name that is
//! not in the context is an error, never an empty string.

use minijinja::{Environment, UndefinedBehavior};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use entity::charge_attempt as a;
use entity::contact as c;
use entity::payment as p;

use crate::access::Actor;
use crate::billing::invoices::{self, InvoiceView};
use crate::error::{Error, Result};
use crate::{contacts, money, settings};

use crate::notices::{self, PASSWORD_RESET, PAYMENT_FAILED, RECEIPT};

/// A template's three parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a notice is about.
#[derive(Debug, Clone, Copy)]
pub struct About {
    pub kind: &'static str,
    pub contact_id: i64,
    pub invoice_id: Option<i64>,
    pub payment_id: Option<i64>,
}

/// The template context of a notice: `association`, `contact`, and `invoice`, `payment`,
/// `charge` where the notice is about them.
pub async fn context(conn: &impl ConnectionTrait, about: About) -> Result<Value> {
    let s = settings::get(conn).await?;
    let contact = c::Entity::find_by_id(about.contact_id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::not_found("contact", about.contact_id))?;
    let mut ctx = json!({
        "association": {
            "name": s.association_name.clone().unwrap_or_else(|| "Your association".into()),
            "address": s.association_address.clone().unwrap_or_default(),
            "reply_to": s.reply_to.clone().unwrap_or_default(),
        },
        "contact": contact_context(&contact),
    });
    if let Some(invoice_id) = about.invoice_id {
        let view = invoices::get(conn, Actor::Staff, invoice_id).await?;
        ctx["invoice"] = invoice_context(&view, &s.currency);
        if about.kind == PAYMENT_FAILED {
            ctx["charge"] = charge_context(conn, invoice_id).await?;
        }
    }
    if let Some(payment_id) = about.payment_id {
        let payment = p::Entity::find_by_id(payment_id)
            .one(conn)
            .await?
            .ok_or_else(|| Error::not_found("payment", payment_id))?;
        ctx["payment"] = json!({
            "id": payment.id,
            "amount": money::format_cents(payment.amount_cents),
            "receipt_number": payment.receipt_number,
            "paid_on": payment.paid_on,
            "method": payment.method,
        });
    }
    Ok(ctx)
}

fn contact_context(contact: &c::Model) -> Value {
    let name = contacts::display_name(
        contact.first_name.as_deref(),
        contact.last_name.as_deref(),
        contact.organization_name.as_deref(),
    );
    json!({
        "id": contact.id,
        "name": name,
        "first_name": contact.first_name.clone().unwrap_or_else(|| name.clone()),
        "last_name": contact.last_name.clone().unwrap_or_default(),
        "email": contact.email.clone().unwrap_or_default(),
        "customer_type": contact.customer_type,
        "join_date": contact.join_date,
        "paid_through": contact.paid_through,
    })
}

fn invoice_context(view: &InvoiceView, currency: &str) -> Value {
    let inv = &view.invoice;
    let lines: Vec<Value> = view
        .lines
        .iter()
        .map(|l| {
            json!({
                "product": l.product,
                "amount": money::format_cents(l.amount_cents),
                "term_begin": l.term_begin,
                "term_end": l.term_end,
            })
        })
        .collect();
    json!({
        "id": inv.id,
        "kind": inv.kind,
        "status": inv.status,
        "currency": currency,
        "total": money::format_cents(inv.total_cents),
        "paid": money::format_cents(inv.paid_cents),
        "balance": money::format_cents(view.balance()),
        "term_begin": inv.term_begin,
        "term_end": inv.term_end,
        "issued_on": inv.created_at.date_naive(),
        "lines": lines,
    })
}

async fn charge_context(conn: &impl ConnectionTrait, invoice_id: i64) -> Result<Value> {
    let last = a::Entity::find()
        .filter(a::Column::InvoiceId.eq(invoice_id))
        .order_by_desc(a::Column::Id)
        .one(conn)
        .await?;
    Ok(match last {
        Some(a) => json!({
            "attempts": a.attempt,
            "decline_code": a.decline_code.unwrap_or_default(),
        }),
        None => json!({"attempts": 0, "decline_code": ""}),
    })
}

/// A context with every name `kind`'s templates may use, each with an example value: what a
/// template is checked and previewed against.
pub fn sample(kind: &str) -> Value {
    let mut ctx = json!({
        "association": {
            "name": "Society of Example Physicians",
            "address": "1 Main Street\nSpringfield, IL 62701",
            "reply_to": "membership@example.org",
        },
        "contact": {
            "id": 1001, "name": "Pat Lee", "first_name": "Pat", "last_name": "Lee",
            "email": "pat@example.org", "customer_type": "M", "join_date": "2020-03-01",
            "paid_through": "2026-12-31",
        },
    });
    if kind == PASSWORD_RESET {
        ctx["reset"] = json!({"url": "https://members.example.org/reset?token=...",
            "expires_at": "2027-01-01T12:00:00Z"});
        return ctx;
    }
    if kind == notices::EXPIRY {
        return ctx;
    }
    ctx["invoice"] = json!({
        "id": 41, "kind": "renewal", "status": "open", "currency": "USD", "total": "540.00",
        "paid": "0.00", "balance": "540.00", "term_begin": "2027-01-01", "term_end": "2027-12-31",
        "issued_on": "2026-11-01",
        "lines": [{"product": "MDUES", "amount": "500.00", "term_begin": "2027-01-01",
            "term_end": "2027-12-31"}],
    });
    if kind == RECEIPT {
        ctx["payment"] = json!({"id": 7, "amount": "540.00", "receipt_number": 1042,
            "paid_on": "2026-12-01", "method": "card"});
    }
    if kind == PAYMENT_FAILED {
        ctx["charge"] = json!({"attempts": 4, "decline_code": "insufficient_funds"});
    }
    ctx
}

/// Renders the three parts with `ctx`. The subject is one line: line breaks a value might
/// carry are made spaces, so that no name can add a header.
pub fn render(parts: &Parts, ctx: &Value) -> Result<Parts> {
    let env = environment();
    let one = |name: &str, source: &str, auto_escape: bool| -> Result<String> {
        let mut env = env.clone();
        if auto_escape {
            env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        }
        env.render_str(source, ctx)
            .map_err(|e| Error::invalid(name, describe(&e)))
    };
    let subject = one("subject", &parts.subject, false)?;
    Ok(Parts {
        subject: one_line(&subject),
        text: one("text", &parts.text, false)?,
        html: one("html", &parts.html, true)?,
    })
}

/// Strict about undefined names, with no file loading.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// A template error as staff read it: the line, then what is wrong.
pub fn describe(e: &minijinja::Error) -> String {
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    match e.line() {
        Some(line) => format!("line {line}: {what}"),
        None => what,
    }
}

/// Control characters (line breaks, tabs) become spaces; the result is trimmed.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n2_a_name_with_a_line_break_renders_a_one_line_subject() {
        let parts = Parts {
            subject: "Welcome, {{ contact.first_name }}".into(),
            text: "Hello {{ contact.first_name }}".into(),
            html: "<p>{{ contact.first_name }}</p>".into(),
        };
        let ctx = json!({"contact": {"first_name": "Eve\r\nBcc: thief@example.org <b>"}});
        let out = render(&parts, &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.subject, "Welcome, Eve  Bcc: thief@example.org <b>");
        assert!(
            out.html.contains("&lt;b&gt;"),
            "HTML is escaped: {}",
            out.html
        );
        assert!(out.text.contains("<b>"), "text is not");
    }

    #[test]
    fn n2_undefined_names_are_errors_with_their_line() {
        let parts = Parts {
            subject: "ok".into(),
            text: "line one\n{{ contact.nickname }}".into(),
            html: "ok".into(),
        };
        let err = render(&parts, &json!({"contact": {}}))
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("line 2")));
    }
}
