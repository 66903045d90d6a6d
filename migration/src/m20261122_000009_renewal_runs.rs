//! Renewal runs (R-1..R-6) and the constraint that bills a subscription once per term.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_contacts::Contacts;
use crate::m20261122_000006_billing_cycles::BillingCycles;
use crate::m20261122_000007_invoices::{InvoiceLines, Invoices};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum RenewalRuns {
    Table,
    Id,
    CycleId,
    EffectiveDate,
    Status,
    RunBy,
    StartedAt,
    FinishedAt,
    Considered,
    Billed,
    Skipped,
    TotalCents,
    LastContactId,
    Error,
}

#[derive(DeriveIden)]
pub enum RenewalRunSkips {
    Table,
    RunId,
    ContactId,
    Reason,
}

#[derive(DeriveIden)]
enum Added {
    RenewalRunId,
    BilledTerm,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RenewalRuns as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(big_pk_auto(R::Id))
                    .col(big_integer(R::CycleId))
                    .col(date(R::EffectiveDate))
                    .col(string_len(R::Status, 12))
                    .col(big_integer(R::RunBy))
                    .col(timestamp_with_time_zone(R::StartedAt))
                    .col(timestamp_with_time_zone_null(R::FinishedAt))
                    .col(big_integer(R::Considered).default(0))
                    .col(big_integer(R::Billed).default(0))
                    .col(big_integer(R::Skipped).default(0))
                    .col(big_integer(R::TotalCents).default(0))
                    .col(big_integer(R::LastContactId).default(0))
                    .col(string_len_null(R::Error, 500))
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::CycleId)
                            .to(BillingCycles::Table, BillingCycles::Id),
                    )
                    .to_owned(),
            )
            .await?;
        use RenewalRunSkips as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_integer(S::RunId))
                    .col(big_integer(S::ContactId))
                    .col(string_len(S::Reason, 200))
                    .primary_key(Index::create().col(S::RunId).col(S::ContactId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::RunId)
                            .to(R::Table, R::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(S::Table, S::ContactId)
                            .to(Contacts::Table, Contacts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .add_column(big_integer_null(Added::RenewalRunId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invoices_renewal_run")
                    .table(Invoices::Table)
                    .col(Added::RenewalRunId)
                    .col(Invoices::Id)
                    .to_owned(),
            )
            .await?;
        // A live billing of a subscription for a term: set while the line's invoice is open
        // or paid, cleared when it is voided or cancelled. Unique, so no run, retry or second
        // server can bill one subscription twice for one term.
        manager
            .alter_table(
                Table::alter()
                    .table(InvoiceLines::Table)
                    .add_column(date_null(Added::BilledTerm))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_invoice_lines_billed_term")
                    .table(InvoiceLines::Table)
                    .col(InvoiceLines::SubscriptionId)
                    .col(Added::BilledTerm)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_invoice_lines_billed_term")
                    .table(InvoiceLines::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(InvoiceLines::Table)
                    .drop_column(Added::BilledTerm)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_invoices_renewal_run")
                    .table(Invoices::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .drop_column(Added::RenewalRunId)
                    .to_owned(),
            )
            .await?;
        for t in [
            RenewalRunSkips::Table.into_iden(),
            RenewalRuns::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
