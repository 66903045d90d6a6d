//! M-1..M-3, M-7: payments carry receipt numbers (from a counter row, so two servers never hand
//! out one number twice), who recorded them and what was refunded; refunds and reversals are
//! their own rows; what paying an invoice in full changed is kept, so a refund that reopens the
//! invoice can put every field back. Payments recorded before keep their id as receipt number.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000007_invoices::{Invoices, Payments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentsAdded {
    ReceiptNumber,
    RecordedBy,
    RefundedCents,
    Reversed,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Counters {
    Table,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    PaymentId,
    InvoiceId,
    Kind,
    AmountCents,
    FromCreditCents,
    Reason,
    Method,
    Reopened,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PaymentEffects {
    Table,
    InvoiceId,
    PaymentId,
    Effects,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_payment_columns(manager).await?;
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE payments SET receipt_number = id, updated_at = created_at")
            .await?;
        for (name, cols) in [
            ("idx_payments_receipt_number", "receipt_number"),
            ("idx_payments_updated", "updated_at, id"),
            ("idx_payments_method", "method, id"),
        ] {
            let unique = if name == "idx_payments_receipt_number" {
                "UNIQUE "
            } else {
                ""
            };
            db.execute_unprepared(&format!("CREATE {unique}INDEX {name} ON payments ({cols})"))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Counters::Table)
                    .col(string_len(Counters::Name, 40).primary_key())
                    .col(big_integer(Counters::Value))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO counters (name, value) \
             SELECT 'receipt', COALESCE(MAX(receipt_number), 0) FROM payments",
        )
        .await?;
        create_refunds(manager).await?;
        create_payment_effects(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PaymentEffects::Table.into_iden(),
            Refunds::Table.into_iden(),
            Counters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        let db = manager.get_connection();
        for name in [
            "idx_payments_receipt_number",
            "idx_payments_updated",
            "idx_payments_method",
        ] {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        use PaymentsAdded as A;
        for col in [
            A::ReceiptNumber,
            A::RecordedBy,
            A::RefundedCents,
            A::Reversed,
            A::UpdatedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Payments::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// One column per statement: SQLite alters one at a time.
async fn add_payment_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use PaymentsAdded as A;
    for col in [
        ColumnDef::new(A::ReceiptNumber)
            .big_integer()
            .null()
            .to_owned(),
        ColumnDef::new(A::RecordedBy)
            .big_integer()
            .null()
            .to_owned(),
        ColumnDef::new(A::RefundedCents)
            .big_integer()
            .not_null()
            .default(0)
            .to_owned(),
        ColumnDef::new(A::Reversed)
            .boolean()
            .not_null()
            .default(false)
            .to_owned(),
        ColumnDef::new(A::UpdatedAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
    ] {
        manager
            .alter_table(
                Table::alter()
                    .table(Payments::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn create_refunds(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Refunds as R;
    manager
        .create_table(
            Table::create()
                .table(R::Table)
                .col(big_pk_auto(R::Id))
                .col(big_integer(R::PaymentId))
                .col(big_integer(R::InvoiceId))
                .col(string_len(R::Kind, 10))
                .col(big_integer(R::AmountCents))
                .col(big_integer(R::FromCreditCents))
                .col(string_len(R::Reason, 200))
                .col(string_len_null(R::Method, 40))
                .col(boolean(R::Reopened))
                .col(big_integer_null(R::RecordedBy))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .check(Expr::cust("amount_cents > 0"))
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::InvoiceId)
                        .to(Invoices::Table, Invoices::Id),
                )
                .to_owned(),
        )
        .await?;
    for (name, column) in [
        ("idx_refunds_payment", R::PaymentId),
        ("idx_refunds_invoice", R::InvoiceId),
        ("idx_refunds_created", R::CreatedAt),
    ] {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(R::Table)
                    .col(column)
                    .col(R::Id)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn create_payment_effects(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use PaymentEffects as E;
    manager
        .create_table(
            Table::create()
                .table(E::Table)
                .col(big_integer(E::InvoiceId).primary_key())
                .col(big_integer(E::PaymentId))
                .col(text(E::Effects))
                .col(timestamp_with_time_zone(E::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(E::Table, E::InvoiceId)
                        .to(Invoices::Table, Invoices::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(E::Table, E::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .to_owned(),
        )
        .await
}
