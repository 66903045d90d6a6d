//! N-2: each kind's template (subject, text and HTML bodies): the default here until staff
//! save their own. A template that does not compile, or names a variable its kind does not
//! have, is refused with the line of the error.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde_json::Value;

use entity::notice_template as t;

use crate::clock;
use crate::db::Db;
use crate::error::{Errors, Result, check_version};

use super::render::{self, About, Parts};
use crate::notices::{
    self, EXPIRY, PASSWORD_RESET, PAYMENT_FAILED, RECEIPT, REMINDER, RENEWAL_NOTICE, WELCOME,
};

/// A kind's template as in force.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub kind: &'static str,
    pub parts: Parts,
    /// Not edited: the default.
    pub is_default: bool,
    pub version: i32,
}

/// Names a template may use besides its context: the engine's own.
const ENGINE_NAMES: [&str; 7] = [
    "range",
    "dict",
    "namespace",
    "debug",
    "loop",
    "self",
    "super",
];

pub async fn get(conn: &impl ConnectionTrait, kind: &str) -> Result<TemplateView> {
    let kind = notices::kind(kind)?;
    Ok(
        match t::Entity::find_by_id(kind.to_owned()).one(conn).await? {
            Some(m) => TemplateView {
                kind,
                parts: Parts {
                    subject: m.subject,
                    text: m.text,
                    html: m.html,
                },
                is_default: false,
                version: m.version,
            },
            None => TemplateView {
                kind,
                parts: default_of(kind),
                is_default: true,
                version: 0,
            },
        },
    )
}

/// Saves `kind`'s template once it compiles and names only its kind's variables.
pub async fn put(
    db: &Db,
    kind: &str,
    parts: Parts,
    expected_version: Option<i32>,
) -> Result<TemplateView> {
    let kind = notices::kind(kind)?;
    check(kind, &parts)?;
    let txn = db.write().await?;
    let current = get(&txn, kind).await?;
    check_version(expected_version, current.version)?;
    let now = clock::now();
    t::Entity::insert(t::ActiveModel {
        kind: Set(kind.to_owned()),
        subject: Set(parts.subject),
        text: Set(parts.text),
        html: Set(parts.html),
        version: Set(current.version + 1),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(t::Column::Kind)
            .update_columns([
                t::Column::Subject,
                t::Column::Text,
                t::Column::Html,
                t::Column::Version,
                t::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let saved = get(&txn, kind).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Back to the default.
pub async fn reset(db: &Db, kind: &str) -> Result<TemplateView> {
    let kind = notices::kind(kind)?;
    let txn = db.write().await?;
    t::Entity::delete_by_id(kind.to_owned()).exec(&txn).await?;
    txn.commit().await?;
    get(&db.conn, kind).await
}

/// The template in force rendered for a contact (and invoice), as the notice would be.
pub async fn preview(
    conn: &impl ConnectionTrait,
    kind: &str,
    contact_id: i64,
    invoice_id: Option<i64>,
) -> Result<Parts> {
    let view = get(conn, kind).await?;
    let about = About {
        kind: view.kind,
        contact_id,
        invoice_id,
        payment_id: None,
    };
    let mut ctx = render::context(conn, about).await?;
    // A preview shows a receipt or a failed charge with the example's payment or charge
    // where the invoice has none to show.
    let sample = render::sample(view.kind);
    for key in ["payment", "charge", "reset"] {
        if ctx.get(key).is_none()
            && let Some(v) = sample.get(key)
        {
            ctx[key] = v.clone();
        }
    }
    if ctx.get("invoice").is_none()
        && let Some(v) = sample.get("invoice")
    {
        ctx["invoice"] = v.clone();
    }
    render::render(&view.parts, &ctx)
}

/// The names `kind`'s templates may use, dotted (`invoice.lines` is a list of `product`,
/// `amount`, `term_begin`, `term_end`).
pub fn variables(kind: &str) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&name, v, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut out = Vec::new();
    walk("", &render::sample(kind), &mut out);
    out.sort();
    out
}

/// N-2: each part compiles, names only what its kind's context has, and renders with it.
pub fn check(kind: &str, parts: &Parts) -> Result<()> {
    let sample = render::sample(kind);
    let env = render::environment();
    let mut errors = Errors::new();
    for (field, source) in [
        ("subject", &parts.subject),
        ("text", &parts.text),
        ("html", &parts.html),
    ] {
        if source.trim().is_empty() || source.len() > 100_000 {
            errors.add(field, "must be 1 to 100000 characters");
            continue;
        }
        let template = match env.template_from_str(source) {
            Ok(t) => t,
            Err(e) => {
                errors.add(field, render::describe(&e));
                continue;
            }
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(true)
            .into_iter()
            .filter(|name| !ENGINE_NAMES.contains(&name.as_str()) && !resolves(&sample, name))
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            errors.add(
                field,
                format!("line {}: unknown variable {name}", line_of(source, name)),
            );
            continue;
        }
        if let Err(e) = template.render(&sample) {
            errors.add(field, render::describe(&e));
        }
    }
    errors.into_result()
}

/// Whether the dotted `name` is in `ctx`.
fn resolves(ctx: &Value, name: &str) -> bool {
    name.split('.').try_fold(ctx, |v, key| v.get(key)).is_some()
}

/// The line where `name` (or its last part) first appears; 1 when it cannot be told.
fn line_of(source: &str, name: &str) -> usize {
    let last = name.rsplit('.').next().unwrap_or(name);
    source
        .find(name)
        .or_else(|| source.find(last))
        .map_or(1, |at| source[..at].matches('\n').count() + 1)
}

/// The default template of each kind.
pub fn default_of(kind: &str) -> Parts {
    let (subject, text, html) = match kind {
        RENEWAL_NOTICE => (
            "Your {{ association.name }} membership renewal",
            RENEWAL_TEXT,
            RENEWAL_HTML,
        ),
        REMINDER => (
            "Reminder: your {{ association.name }} renewal is still open",
            REMINDER_TEXT,
            REMINDER_HTML,
        ),
        RECEIPT => (
            "Receipt {{ payment.receipt_number }} from {{ association.name }}",
            RECEIPT_TEXT,
            RECEIPT_HTML,
        ),
        PAYMENT_FAILED => (
            "We could not charge your card for invoice {{ invoice.id }}",
            FAILED_TEXT,
            FAILED_HTML,
        ),
        WELCOME => (
            "Welcome to {{ association.name }}",
            WELCOME_TEXT,
            WELCOME_HTML,
        ),
        EXPIRY => (
            "Your {{ association.name }} membership has ended",
            EXPIRY_TEXT,
            EXPIRY_HTML,
        ),
        PASSWORD_RESET => (
            "Choose a new password for {{ association.name }}",
            RESET_TEXT,
            RESET_HTML,
        ),
        _ => ("", "", ""),
    };
    Parts {
        subject: subject.into(),
        text: text
            .replace("{LINES}", LINES_TEXT)
            .replace("{SIGNATURE}", SIGNATURE_TEXT.trim_start()),
        html: html
            .replace("{LINES}", LINES_HTML)
            .replace("{SIGNATURE}", SIGNATURE_HTML),
    }
}

const SIGNATURE_TEXT: &str = "
{{ association.name }}
{% if association.address %}{{ association.address }}
{% endif %}{% if association.reply_to %}Questions? Reply to this email or write to {{ association.reply_to }}.
{% endif %}";

const SIGNATURE_HTML: &str = "<p>{{ association.name }}{% if association.address %}<br>{{ association.address | replace('\\n', ' · ') }}{% endif %}</p>
{% if association.reply_to %}<p>Questions? Reply to this email or write to <a href=\"mailto:{{ association.reply_to }}\">{{ association.reply_to }}</a>.</p>{% endif %}";

const LINES_TEXT: &str = "{% for line in invoice.lines %}  {{ line.product }}  {{ line.term_begin }} to {{ line.term_end }}  {{ line.amount }} {{ invoice.currency }}
{% endfor %}";

const LINES_HTML: &str = "<table>{% for line in invoice.lines %}<tr><td>{{ line.product }}</td><td>{{ line.term_begin }} to {{ line.term_end }}</td><td style=\"text-align:right\">{{ line.amount }} {{ invoice.currency }}</td></tr>{% endfor %}</table>";

const RENEWAL_TEXT: &str = "Dear {{ contact.first_name }},

It is time to renew your membership of {{ association.name }}. Invoice {{ invoice.id }} covers {{ invoice.term_begin }} to {{ invoice.term_end }}:

{LINES}
Total: {{ invoice.total }} {{ invoice.currency }}
Amount due: {{ invoice.balance }} {{ invoice.currency }}

You can pay online from your member account. Thank you for your continued membership.

Kind regards,
{SIGNATURE}";

const RENEWAL_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>It is time to renew your membership of {{ association.name }}. Invoice {{ invoice.id }} covers {{ invoice.term_begin }} to {{ invoice.term_end }}:</p>
{LINES}
<p>Total: <strong>{{ invoice.total }} {{ invoice.currency }}</strong><br>Amount due: <strong>{{ invoice.balance }} {{ invoice.currency }}</strong></p>
<p>You can pay online from your member account. Thank you for your continued membership.</p>
<p>Kind regards,</p>
{SIGNATURE}";

const REMINDER_TEXT: &str = "Dear {{ contact.first_name }},

Our records show that your renewal invoice {{ invoice.id }} is still open, with {{ invoice.balance }} {{ invoice.currency }} due. Your membership is paid through {{ contact.paid_through }}.

If you have already paid, please accept our thanks and disregard this reminder.

Kind regards,
{SIGNATURE}";

const REMINDER_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>Our records show that your renewal invoice {{ invoice.id }} is still open, with <strong>{{ invoice.balance }} {{ invoice.currency }}</strong> due. Your membership is paid through {{ contact.paid_through }}.</p>
<p>If you have already paid, please accept our thanks and disregard this reminder.</p>
<p>Kind regards,</p>
{SIGNATURE}";

const RECEIPT_TEXT: &str = "Dear {{ contact.first_name }},

Thank you for your payment of {{ payment.amount }} {{ invoice.currency }} on {{ payment.paid_on }} ({{ payment.method }}), receipt number {{ payment.receipt_number }}, for invoice {{ invoice.id }}.
{% if invoice.balance != \"0.00\" %}
The invoice's remaining balance is {{ invoice.balance }} {{ invoice.currency }}.
{% endif %}
Kind regards,
{SIGNATURE}";

const RECEIPT_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>Thank you for your payment of <strong>{{ payment.amount }} {{ invoice.currency }}</strong> on {{ payment.paid_on }} ({{ payment.method }}), receipt number {{ payment.receipt_number }}, for invoice {{ invoice.id }}.</p>
{% if invoice.balance != \"0.00\" %}<p>The invoice's remaining balance is {{ invoice.balance }} {{ invoice.currency }}.</p>{% endif %}
<p>Kind regards,</p>
{SIGNATURE}";

const FAILED_TEXT: &str = "Dear {{ contact.first_name }},

We tried {{ charge.attempts }} times to charge your saved card for invoice {{ invoice.id }} ({{ invoice.balance }} {{ invoice.currency }}), without success. We will not try again.

Please pay the invoice from your member account, or save a new card there, so that your membership continues without interruption.

Kind regards,
{SIGNATURE}";

const FAILED_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>We tried {{ charge.attempts }} times to charge your saved card for invoice {{ invoice.id }} (<strong>{{ invoice.balance }} {{ invoice.currency }}</strong>), without success. We will not try again.</p>
<p>Please pay the invoice from your member account, or save a new card there, so that your membership continues without interruption.</p>
<p>Kind regards,</p>
{SIGNATURE}";

const WELCOME_TEXT: &str = "Dear {{ contact.first_name }},

Welcome to {{ association.name }}. Your payment for invoice {{ invoice.id }} has been received and your membership is active, paid through {{ contact.paid_through }}.

Your member account lets you keep your details up to date, see your invoices and payments, and renew when the time comes.

We are glad to have you with us.

Kind regards,
{SIGNATURE}";

const WELCOME_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>Welcome to {{ association.name }}. Your payment for invoice {{ invoice.id }} has been received and your membership is active, paid through <strong>{{ contact.paid_through }}</strong>.</p>
<p>Your member account lets you keep your details up to date, see your invoices and payments, and renew when the time comes.</p>
<p>We are glad to have you with us.</p>
<p>Kind regards,</p>
{SIGNATURE}";

const EXPIRY_TEXT: &str = "Dear {{ contact.first_name }},

Your membership of {{ association.name }} was paid through {{ contact.paid_through }} and has now ended.

We would be glad to welcome you back: you can rejoin at any time from your member account.

Kind regards,
{SIGNATURE}";

const EXPIRY_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>Your membership of {{ association.name }} was paid through {{ contact.paid_through }} and has now ended.</p>
<p>We would be glad to welcome you back: you can rejoin at any time from your member account.</p>
<p>Kind regards,</p>
{SIGNATURE}";

const RESET_TEXT: &str = "Dear {{ contact.first_name }},

Someone asked to choose a new password for your {{ association.name }} account. To do so, open this link before {{ reset.expires_at }}:

{{ reset.url }}

If you did not ask for this, you can ignore this email: your password stays as it is.

Kind regards,
{SIGNATURE}";

const RESET_HTML: &str = "<p>Dear {{ contact.first_name }},</p>
<p>Someone asked to choose a new password for your {{ association.name }} account. To do so, open <a href=\"{{ reset.url }}\">this link</a> before {{ reset.expires_at }}.</p>
<p>If you did not ask for this, you can ignore this email: your password stays as it is.</p>
<p>Kind regards,</p>
{SIGNATURE}";
