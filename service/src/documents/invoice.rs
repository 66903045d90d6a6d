//! What an invoice document shows (N-4), for a batch of invoices read with their lines and
//! plans: the contacts they name are read in one query, the products' names once per print.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use entity::contact as c;
use entity::product as pr;

use crate::billing::invoices::InvoiceView;
use crate::contacts;
use crate::error::Result;
use crate::settings::Settings;

/// The association, as the top of every invoice shows it.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub name: String,
    pub address: Vec<String>,
    pub reply_to: Option<String>,
    pub currency: String,
    /// Members can pay online from their account (G-2).
    pub pays_online: bool,
}

impl Issuer {
    pub fn new(s: &Settings, pays_online: bool) -> Issuer {
        Issuer {
            name: s
                .association_name
                .clone()
                .unwrap_or_else(|| "Your association".into()),
            address: s
                .association_address
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            reply_to: s.reply_to.clone(),
            currency: s.currency.clone(),
            pays_online,
        }
    }
}

/// A contact as an address block.
#[derive(Debug, Clone)]
pub struct Party {
    pub id: i64,
    pub name: String,
    pub address: Vec<String>,
    pub email: Option<String>,
    pub autopay: bool,
}

impl Party {
    fn of(m: &c::Model) -> Party {
        // "Springfield, IL 62701"
        let mut city_line = m.city.clone().unwrap_or_default();
        for (separator, part) in [(", ", &m.region), (" ", &m.postal_code)] {
            if let Some(part) = part.as_deref().filter(|p| !p.trim().is_empty()) {
                if !city_line.is_empty() {
                    city_line.push_str(separator);
                }
                city_line.push_str(part);
            }
        }
        let address = [
            m.address_line1.clone(),
            m.address_line2.clone(),
            Some(city_line),
            m.country.clone(),
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .collect();
        Party {
            id: m.id,
            name: contacts::display_name(
                m.first_name.as_deref(),
                m.last_name.as_deref(),
                m.organization_name.as_deref(),
            ),
            address,
            email: m.email.clone(),
            autopay: m.autopay,
        }
    }

    fn unknown(id: i64) -> Party {
        Party {
            id,
            name: format!("Contact {id}"),
            address: Vec::new(),
            email: None,
            autopay: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    pub description: String,
    pub term_begin: NaiveDate,
    pub term_end: NaiveDate,
    pub quantity: i32,
    pub amount_cents: i64,
}

#[derive(Debug, Clone)]
pub struct Part {
    pub number: i32,
    pub due_on: NaiveDate,
    pub amount_cents: i64,
}

/// One invoice, ready to be laid out.
#[derive(Debug, Clone)]
pub struct InvoiceDocument {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub issued_on: NaiveDate,
    pub term: Option<(NaiveDate, NaiveDate)>,
    pub bill_to: Party,
    /// The member the invoice is for, when someone else pays it (S-10).
    pub member: Option<Party>,
    pub lines: Vec<Line>,
    /// What the lines came to before credit notes lowered the invoice (M-4).
    pub subtotal_cents: i64,
    pub credited_cents: i64,
    pub total_cents: i64,
    pub paid_cents: i64,
    pub written_off_cents: i64,
    pub balance_cents: i64,
    pub instalments: Vec<Part>,
}

/// Which lines a document shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lines {
    /// Leave out lines of no amount (N-4, asked by a print run).
    pub suppress_zero: bool,
}

/// The documents of `invoices`, in their order.
pub async fn load(
    conn: &impl ConnectionTrait,
    invoices: Vec<InvoiceView>,
    names: &ProductNames,
    which: Lines,
) -> Result<Vec<InvoiceDocument>> {
    let parties = parties_of(conn, &invoices).await?;
    Ok(invoices
        .into_iter()
        .map(|view| document(view, &parties, names, which))
        .collect())
}

fn document(
    view: InvoiceView,
    parties: &HashMap<i64, Party>,
    names: &ProductNames,
    which: Lines,
) -> InvoiceDocument {
    let InvoiceView {
        invoice: inv,
        lines,
        instalments: plan,
    } = view;
    let party = |id: i64| {
        parties
            .get(&id)
            .cloned()
            .unwrap_or_else(|| Party::unknown(id))
    };
    let lines = lines
        .into_iter()
        .filter(|l| !(which.suppress_zero && l.amount_cents == 0))
        .map(|l| Line {
            description: match names.get(&l.product) {
                Some(name) if name != &l.product => format!("{name} ({})", l.product),
                _ => l.product.clone(),
            },
            term_begin: l.term_begin,
            term_end: l.term_end,
            quantity: l.quantity,
            amount_cents: l.amount_cents,
        })
        .collect();
    InvoiceDocument {
        id: inv.id,
        kind: inv.kind.as_str().to_owned(),
        status: inv.status.clone(),
        issued_on: inv.created_at.date_naive(),
        term: inv.term_begin.zip(inv.term_end),
        bill_to: party(inv.bill_to_id),
        member: (inv.contact_id != inv.bill_to_id).then(|| party(inv.contact_id)),
        lines,
        subtotal_cents: inv.total_cents + inv.credited_cents,
        credited_cents: inv.credited_cents,
        total_cents: inv.total_cents,
        paid_cents: inv.paid_cents,
        written_off_cents: inv.written_off_cents,
        balance_cents: inv.total_cents - inv.paid_cents - inv.written_off_cents,
        instalments: plan
            .into_iter()
            .map(|p| Part {
                number: p.number,
                due_on: p.due_on,
                amount_cents: p.amount_cents,
            })
            .collect(),
    }
}

async fn parties_of(
    conn: &impl ConnectionTrait,
    invoices: &[InvoiceView],
) -> Result<HashMap<i64, Party>> {
    let mut ids: Vec<i64> = invoices
        .iter()
        .flat_map(|v| [v.invoice.bill_to_id, v.invoice.contact_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(c::Entity::find()
        .filter(c::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .iter()
        .map(|m| (m.id, Party::of(m)))
        .collect())
}

/// Product names by code.
pub type ProductNames = HashMap<String, String>;

/// Every product's name by code: a short table, read once per print.
pub async fn product_names(conn: &impl ConnectionTrait) -> Result<ProductNames> {
    Ok(pr::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect())
}
