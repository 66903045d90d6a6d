//! S-11: instalment plans. A part is paid when what its invoice received reaches the part's
//! end (`covers_from_cents + amount_cents`), so no part row changes on a payment and expiry
//! finds overdue parts in one query (an index on the due date). Cycles say whether members may
//! make plans themselves.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000007_invoices::Invoices;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instalments {
    Table,
    Id,
    InvoiceId,
    Number,
    DueOn,
    AmountCents,
    CoversFromCents,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BillingCycles {
    Table,
    MemberInstalments,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Instalments as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(big_pk_auto(I::Id))
                    .col(big_integer(I::InvoiceId))
                    .col(integer(I::Number))
                    .col(date(I::DueOn))
                    .col(big_integer(I::AmountCents))
                    .col(big_integer(I::CoversFromCents))
                    .col(timestamp_with_time_zone(I::CreatedAt))
                    .check(Expr::cust("amount_cents > 0"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(I::Table, I::InvoiceId)
                            .to(Invoices::Table, Invoices::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_instalments_invoice_number")
                    .table(I::Table)
                    .col(I::InvoiceId)
                    .col(I::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_instalments_due_on")
                    .table(I::Table)
                    .col(I::DueOn)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BillingCycles::Table)
                    .add_column(
                        ColumnDef::new(BillingCycles::MemberInstalments)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BillingCycles::Table)
                    .drop_column(BillingCycles::MemberInstalments)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Instalments::Table).to_owned())
            .await
    }
}
