//! Printing: one invoice, or every printable invoice of a renewal run (N-4) in batches read by
//! key, each batch's pages handed out as soon as they are drawn.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use entity::billing_cycle as bc;
use entity::invoice as i;
use entity::renewal_run as rr;

use crate::access::Actor;
use crate::billing::invoices::{self, CANCELLED, VOID};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::settings;

use super::invoice::{self, InvoiceDocument, Issuer, Lines, ProductNames};
use super::layout;
use super::pdf::PdfStream;

/// Invoices read and drawn per step of a run's print.
const BATCH: u64 = 250;

/// One invoice as a PDF. Members get only their own (SEC-1: another's is not found).
pub async fn invoice_pdf(
    conn: &impl ConnectionTrait,
    actor: Actor,
    id: i64,
    pays_online: bool,
) -> Result<Vec<u8>> {
    let view = invoices::get(conn, actor, id).await?;
    let issuer = Issuer::new(&settings::get(conn).await?, pays_online);
    let names = invoice::product_names(conn).await?;
    let docs = invoice::load(conn, vec![view], &names, Lines::default()).await?;
    Ok(whole(&issuer, &docs))
}

/// `docs` as one PDF, made at once.
pub fn whole(issuer: &Issuer, docs: &[InvoiceDocument]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pdf = PdfStream::start(&mut out);
    for doc in docs {
        for page in layout::pages(issuer, doc) {
            pdf.page(&mut out, &page);
        }
    }
    pdf.finish(&mut out);
    out
}

/// A renewal run's invoices as one PDF, produced part by part (`next`). Void and cancelled
/// invoices are left out, and so are zero-total invoices unless the run's cycle prints zero
/// balances (B-10); zero-amount lines are left out when asked.
pub struct RunPrint {
    /// One snapshot for the whole print, so that its pages show one state of the run.
    snapshot: Option<DatabaseTransaction>,
    run_id: i64,
    print_zero_totals: bool,
    lines: Lines,
    issuer: Issuer,
    names: ProductNames,
    after_id: i64,
    pdf: Option<PdfStream>,
    done: bool,
}

impl RunPrint {
    /// The print of run `run_id`; not found when there is no such run.
    pub async fn new(db: &Db, run_id: i64, lines: Lines, pays_online: bool) -> Result<RunPrint> {
        let snapshot = db.snapshot().await?;
        let run = rr::Entity::find_by_id(run_id)
            .one(&snapshot)
            .await?
            .ok_or_else(|| Error::not_found("renewal run", run_id))?;
        let print_zero_totals = bc::Entity::find_by_id(run.cycle_id)
            .one(&snapshot)
            .await?
            .is_some_and(|c| c.print_zero_balance);
        let issuer = Issuer::new(&settings::get(&snapshot).await?, pays_online);
        let names = invoice::product_names(&snapshot).await?;
        Ok(RunPrint {
            snapshot: Some(snapshot),
            run_id,
            print_zero_totals,
            lines,
            issuer,
            names,
            after_id: 0,
            pdf: None,
            done: false,
        })
    }

    /// The next part of the file: the header first, then a batch of invoices' pages at a
    /// time, then the end of the file; `None` once the file is complete.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        let mut out = Vec::new();
        if self.done {
            return Ok(None);
        }
        if self.pdf.is_none() {
            self.pdf = Some(PdfStream::start(&mut out));
            return Ok(Some(out));
        }
        let Some(snapshot) = self.snapshot.as_ref() else {
            return Ok(None);
        };
        let batch = invoices::with_lines(snapshot, self.batch(snapshot).await?).await?;
        let docs = invoice::load(snapshot, batch, &self.names, self.lines).await?;
        let Some(pdf) = self.pdf.as_mut() else {
            return Ok(None);
        };
        let Some(last) = docs.last().map(|d| d.id) else {
            if pdf.page_count() == 0 {
                pdf.page(
                    &mut out,
                    &layout::nothing_to_print(&self.issuer, self.run_id),
                );
            }
            if let Some(pdf) = self.pdf.take() {
                pdf.finish(&mut out);
            }
            if let Some(snapshot) = self.snapshot.take() {
                snapshot.commit().await?;
            }
            self.done = true;
            return Ok(Some(out));
        };
        self.after_id = last;
        for doc in &docs {
            for page in layout::pages(&self.issuer, doc) {
                pdf.page(&mut out, &page);
            }
        }
        Ok(Some(out))
    }

    async fn batch(&self, snapshot: &DatabaseTransaction) -> Result<Vec<i::Model>> {
        let mut q = i::Entity::find()
            .filter(i::Column::RenewalRunId.eq(self.run_id))
            .filter(i::Column::Id.gt(self.after_id))
            .filter(i::Column::Status.is_not_in([VOID, CANCELLED]));
        if !self.print_zero_totals {
            q = q.filter(i::Column::TotalCents.ne(0));
        }
        Ok(q.order_by_asc(i::Column::Id)
            .limit(BATCH)
            .all(snapshot)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::documents::invoice::{Line, Party};

    fn date(s: &str) -> NaiveDate {
        crate::dates::parse(s).unwrap_or_default()
    }

    fn document(lines: usize) -> InvoiceDocument {
        let party = Party {
            id: 7,
            name: "Zoë Example".into(),
            address: vec!["1 Rue de la Paix".into()],
            email: None,
            autopay: false,
        };
        InvoiceDocument {
            id: 41,
            kind: "renewal".into(),
            status: "open".into(),
            issued_on: date("2026-11-01"),
            term: Some((date("2027-01-01"), date("2027-12-31"))),
            bill_to: party,
            member: None,
            lines: (0..lines)
                .map(|k| Line {
                    description: format!("Section {k}"),
                    term_begin: date("2027-01-01"),
                    term_end: date("2027-12-31"),
                    quantity: 1,
                    amount_cents: 1_000,
                })
                .collect(),
            subtotal_cents: 1_000 * lines as i64,
            credited_cents: 0,
            total_cents: 1_000 * lines as i64,
            paid_cents: 0,
            written_off_cents: 0,
            balance_cents: 1_000 * lines as i64,
            instalments: Vec::new(),
        }
    }

    fn issuer() -> Issuer {
        Issuer {
            name: "Society".into(),
            address: vec!["1 Main Street".into()],
            reply_to: None,
            currency: "USD".into(),
            pays_online: true,
        }
    }

    /// Every entry of the cross-reference table points at its object.
    fn assert_xref_points_at_objects(pdf: &[u8]) {
        // One character per byte, so that offsets into the text are offsets into the file.
        let text: String = pdf
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '.' })
            .collect();
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_default();
        let table = &text[start..];
        assert!(
            table.starts_with("xref\n0 "),
            "startxref points at the table"
        );
        for (id, entry) in table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .enumerate()
        {
            let offset: usize = entry[..10].parse().unwrap_or_default();
            let expected = format!("{} 0 obj", id + 1);
            assert!(
                text[offset..].starts_with(&expected),
                "object {} is at {offset}",
                id + 1
            );
        }
    }

    #[test]
    fn n4_a_long_invoice_continues_on_further_pages_of_a_well_formed_pdf() {
        let pdf = whole(&issuer(), &[document(3), document(80)]);
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        assert_xref_points_at_objects(&pdf);
        let pages = String::from_utf8_lossy(&pdf)
            .matches("/Type /Page\n")
            .count();
        assert!(
            pages >= 3,
            "one page for the short invoice, more for the long one: {pages}"
        );
        assert!(String::from_utf8_lossy(&pdf).contains(&format!("/Count {pages}")));
    }

    #[test]
    fn n4_how_to_pay_follows_what_the_association_offers() {
        let doc = document(1);
        let online = layout::payment_instructions(&issuer(), &doc).join(" ");
        assert!(online.contains("Online: sign in") && online.contains("By cheque"));
        let offline = Issuer {
            pays_online: false,
            ..issuer()
        };
        let text = layout::payment_instructions(&offline, &doc).join(" ");
        assert!(!text.contains("Online") && text.contains("mailed to 1 Main Street"));
        let paid = InvoiceDocument {
            status: "paid".into(),
            balance_cents: 0,
            ..doc
        };
        assert_eq!(
            layout::payment_instructions(&offline, &paid),
            ["Paid in full. Thank you."]
        );
    }
}
