//! N-3: delivering notices by email. Each tick claims the due notices by moving their next
//! attempt forward (a lease: several servers on one database never send one notice twice at
//! once, and a server that dies mid-send leaves it to be retried when the lease ends), renders
//! each from its kind's template and sends it over one reused SMTP connection. A failure is
//! retried on a backoff, then recorded as failed; it never undoes what caused the notice.
//! Without a mail server, notices are recorded as `not_sent`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use entity::notice as n;

use crate::access::Actor;
use crate::error::Result;
use crate::{clock, db::Db, documents, settings};

use super::render::{self, About, Parts};
use super::templates;
use crate::notices::{self, FAILED, NOT_SENT, PENDING, REMINDER, RENEWAL_NOTICE, SENT};

/// The kinds whose message carries its invoice as a PDF (N-4).
const WITH_INVOICE_PDF: [&str; 2] = [RENEWAL_NOTICE, REMINDER];

/// Connections to the mail server a deliverer uses at most (the pool's size).
const CONNECTIONS: usize = 8;

/// Where and how notices are sent.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// From `AMS_SMTP_URL` (`smtp://`, `smtps://`, `?tls=required`) and `AMS_MAIL_FROM`; a
    /// clear error for either that cannot be used.
    pub fn new(smtp_url: &str, from: &str) -> std::result::Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("AMS_SMTP_URL is not a usable SMTP URL ({e}); for example smtp://127.0.0.1:25 or smtps://user:pass@mail.example.org"))?
            .timeout(Some(Duration::from_secs(20)))
            .pool_config(PoolConfig::new().max_size(CONNECTIONS as u32))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("AMS_MAIL_FROM is not an address ({e}); for example \"Society <membership@example.org>\""))?;
        Ok(Mailer { transport, from })
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Delay before each retry; a notice gets one attempt more than there are delays.
    pub retry_delays: Vec<Duration>,
    /// Notices claimed per tick.
    pub batch: u64,
    /// How long a claimed notice is left to the server sending it.
    pub lease: Duration,
    /// Attached invoices say members can pay online (G-2 is configured).
    pub pays_online: bool,
    /// Messages sent at once. The SMTP client waits about 40 ms after each message on a
    /// connection (it ends the message in a write of its own, held back until the server
    /// acknowledges the body), so one connection carries about 23 messages a second; several
    /// carry that many times more.
    pub connections: usize,
}

impl Default for Settings {
    /// At once, then after 1 min, 5 min, 30 min, 2 h and 6 h.
    fn default() -> Self {
        Settings {
            retry_delays: [60, 300, 1_800, 7_200, 21_600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
            batch: 100,
            lease: Duration::from_secs(300),
            pays_online: false,
            connections: CONNECTIONS,
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub attempted: u64,
    pub sent: u64,
    pub not_sent: u64,
}

pub struct Deliverer {
    db: Db,
    mailer: Option<Mailer>,
    settings: Settings,
}

impl Deliverer {
    pub fn new(db: Db, mailer: Option<Mailer>, settings: Settings) -> Self {
        Deliverer {
            db,
            mailer,
            settings,
        }
    }

    /// Claims the due notices and sends them, `connections` at a time, each over a pooled
    /// connection of its own. Each is recorded as soon as the mail server answers.
    pub async fn tick(&self) -> Result<Tick> {
        let claimed = self.claim().await?;
        let mut tick = Tick {
            attempted: claimed.len() as u64,
            ..Default::default()
        };
        let Some(mailer) = &self.mailer else {
            tick.not_sent = self.not_sent(&claimed).await?;
            return Ok(tick);
        };
        // Read once for the tick: every message of it goes with the same Reply-To.
        let reply_to = self.reply_to().await;
        let reply_to = &reply_to;
        let outcomes: Vec<Result<bool>> = futures_util::stream::iter(claimed)
            .map(|notice| async move { self.deliver(mailer, reply_to, &notice).await })
            .buffer_unordered(self.settings.connections.max(1))
            .collect()
            .await;
        for outcome in outcomes {
            if outcome? {
                tick.sent += 1;
            }
        }
        Ok(tick)
    }

    /// Sends one notice and records how it went; whether it was sent.
    async fn deliver(
        &self,
        mailer: &Mailer,
        reply_to: &Option<Mailbox>,
        notice: &n::Model,
    ) -> Result<bool> {
        match self.send(mailer, reply_to, notice).await {
            Ok(subject) => {
                self.sent(notice, &subject).await?;
                Ok(true)
            }
            Err(error) => {
                self.retry_or_fail(notice, &error).await?;
                Ok(false)
            }
        }
    }

    /// Runs ticks until the process ends, every `every`, logging failures.
    pub async fn run(self, every: Duration) {
        loop {
            match self.tick().await {
                Ok(t) if t.attempted >= self.settings.batch => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "notice delivery"),
            }
            tokio::time::sleep(every).await;
        }
    }

    async fn claim(&self) -> Result<Vec<n::Model>> {
        let now = clock::now();
        let due: Vec<i64> = n::Entity::find()
            .select_only()
            .column(n::Column::Id)
            .filter(n::Column::Status.eq(PENDING))
            .filter(n::Column::NextAttemptAt.lte(now))
            .order_by_asc(n::Column::NextAttemptAt)
            .order_by_asc(n::Column::Id)
            .limit(self.settings.batch)
            .into_tuple()
            .all(&self.db.conn)
            .await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let lease = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        // One statement claims them all: a notice another server claimed meanwhile is no
        // longer due, and is left to it.
        let mut claimed = n::Entity::update_many()
            .col_expr(n::Column::NextAttemptAt, Expr::val(lease))
            .filter(n::Column::Id.is_in(due))
            .filter(n::Column::Status.eq(PENDING))
            .filter(n::Column::NextAttemptAt.lte(now))
            .exec_with_returning(&self.db.conn)
            .await?;
        claimed.sort_by_key(|n| n.id);
        Ok(claimed)
    }

    /// Renders and sends one notice; the subject it went with, or why not.
    async fn send(
        &self,
        mailer: &Mailer,
        reply_to: &Option<Mailbox>,
        notice: &n::Model,
    ) -> std::result::Result<String, String> {
        let rendered = self.rendered(notice).await.map_err(|e| e.to_string())?;
        let invoice = self.invoice_pdf(notice).await.map_err(|e| e.to_string())?;
        let to = notice.to_address.as_deref().unwrap_or_default();
        let mut message = message(mailer, notice, to, &rendered, reply_to)?;
        if let Some(pdf) = invoice {
            message = message.attach(pdf);
        }
        let message = message.build()?;
        mailer
            .transport
            .send(message)
            .await
            .map_err(|e| format!("the mail server did not take it: {e}"))?;
        Ok(rendered.subject)
    }

    async fn rendered(&self, notice: &n::Model) -> Result<Parts> {
        let kind = notices::kind(&notice.kind)?;
        let template = templates::get(&self.db.conn, kind).await?;
        let about = About {
            kind,
            contact_id: notice.contact_id,
            invoice_id: notice.invoice_id,
            payment_id: notice.payment_id,
        };
        let ctx = render::context(&self.db.conn, about).await?;
        render::render(&template.parts, &ctx)
    }

    /// The invoice a renewal notice or reminder is about, as it stands when sent.
    async fn invoice_pdf(&self, notice: &n::Model) -> Result<Option<(String, Vec<u8>)>> {
        let Some(id) = notice
            .invoice_id
            .filter(|_| WITH_INVOICE_PDF.contains(&notice.kind.as_str()))
        else {
            return Ok(None);
        };
        let pdf =
            documents::invoice_pdf(&self.db.conn, Actor::Staff, id, self.settings.pays_online)
                .await?;
        Ok(Some((format!("invoice-{id}.pdf"), pdf)))
    }

    async fn reply_to(&self) -> Option<Mailbox> {
        let s = settings::get(&self.db.conn).await.ok()?;
        s.reply_to?.parse().ok()
    }

    /// No mail server: the claimed notices are recorded as not sent, in one statement.
    async fn not_sent(&self, claimed: &[n::Model]) -> Result<u64> {
        let res = n::Entity::update_many()
            .col_expr(n::Column::Status, Expr::val(NOT_SENT))
            .col_expr(
                n::Column::LastError,
                Expr::val("no mail server is configured (AMS_SMTP_URL)"),
            )
            .filter(n::Column::Id.is_in(claimed.iter().map(|n| n.id)))
            .exec(&self.db.conn)
            .await?;
        Ok(res.rows_affected)
    }

    async fn sent(&self, notice: &n::Model, subject: &str) -> Result<()> {
        n::Entity::update_many()
            .col_expr(n::Column::Status, Expr::val(SENT))
            .col_expr(n::Column::LastError, Expr::val(None::<String>))
            .col_expr(n::Column::Attempts, Expr::col(n::Column::Attempts).add(1))
            .col_expr(n::Column::SentAt, Expr::val(clock::now()))
            .col_expr(n::Column::Subject, Expr::val(subject.to_owned()))
            .filter(n::Column::Id.eq(notice.id))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }

    /// Another attempt after the next delay, or failed after the last.
    async fn retry_or_fail(&self, notice: &n::Model, error: &str) -> Result<()> {
        tracing::warn!(notice = notice.id, %error, "notice not delivered");
        let attempts = notice.attempts + 1;
        let delay = usize::try_from(notice.attempts)
            .ok()
            .and_then(|k| self.settings.retry_delays.get(k));
        let (status, next): (&str, DateTime<Utc>) = match delay {
            Some(d) => (
                PENDING,
                clock::now() + chrono::Duration::from_std(*d).unwrap_or_default(),
            ),
            None => (FAILED, clock::now()),
        };
        n::Entity::update_many()
            .col_expr(n::Column::Status, Expr::val(status))
            .col_expr(n::Column::Attempts, Expr::val(attempts))
            .col_expr(n::Column::NextAttemptAt, Expr::val(next))
            .col_expr(n::Column::LastError, Expr::val(truncate(error)))
            .filter(n::Column::Id.eq(notice.id))
            .exec(&self.db.conn)
            .await?;
        Ok(())
    }
}

/// The email: text and HTML alternatives, and any attachment. Names and subjects go into
/// headers only through the builder, which encodes them; line breaks in them were made spaces
/// before.
fn message(
    mailer: &Mailer,
    notice: &n::Model,
    to: &str,
    parts: &Parts,
    reply_to: &Option<Mailbox>,
) -> std::result::Result<Draft, String> {
    let address = to
        .parse()
        .map_err(|e| format!("{to:?} is not an email address: {e}"))?;
    let mut builder = Message::builder()
        .from(mailer.from.clone())
        .to(Mailbox::new(None, address))
        .subject(render::one_line(&parts.subject))
        .message_id(Some(format!(
            "<notice-{}-{}@{}>",
            notice.id,
            notice.created_at.timestamp(),
            mailer.from.email.domain()
        )));
    if let Some(r) = reply_to {
        builder = builder.reply_to(r.clone());
    }
    Ok(Draft {
        builder,
        body: MultiPart::alternative_plain_html(parts.text.clone(), parts.html.clone()),
        attachment: None,
    })
}

/// A message before it is built: its headers, its body and what it carries.
struct Draft {
    builder: lettre::message::MessageBuilder,
    body: MultiPart,
    attachment: Option<(String, Vec<u8>)>,
}

impl Draft {
    fn attach(self, file: (String, Vec<u8>)) -> Draft {
        Draft {
            attachment: Some(file),
            ..self
        }
    }

    fn build(self) -> std::result::Result<Message, String> {
        let body = match self.attachment {
            None => self.body,
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf")
                    .map_err(|e| format!("the attachment's type: {e}"))?;
                MultiPart::mixed()
                    .multipart(self.body)
                    .singlepart(Attachment::new(name).body(bytes, pdf))
            }
        };
        self.builder
            .multipart(body)
            .map_err(|e| format!("the message could not be built: {e}"))
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(500).collect()
}

/// Checks the mail configuration at start: a bad URL or address stops the server.
pub fn check_config(
    smtp_url: Option<&str>,
    from: &str,
) -> std::result::Result<Option<Mailer>, String> {
    smtp_url.map(|url| Mailer::new(url, from)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn n3_a_bad_mail_configuration_is_a_clear_error_at_start() {
        let bad_url = check_config(Some("mail.example.org:25"), "a@example.org").err();
        assert!(bad_url.is_some_and(|e| e.contains("AMS_SMTP_URL")));
        let bad_from = check_config(Some("smtp://127.0.0.1:25"), "not an address").err();
        assert!(bad_from.is_some_and(|e| e.contains("AMS_MAIL_FROM")));
        assert!(check_config(None, "a@example.org").is_ok_and(|m| m.is_none()));
    }
}
