//! M-4..M-6, M-8: credit notes (numbered from their own sequence) that lower what an invoice
//! asks, line by line; each contact's credit balance (never below zero, checked by the
//! database) and its movements; write-offs of accrual invoices as bad debt; a line's quantity
//! and the reason for a price given by hand (one-off invoices).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_contacts::Contacts;
use crate::m20261122_000007_invoices::{InvoiceLines, Invoices, Payments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum InvoicesAdded {
    CreditedCents,
    WrittenOffCents,
    WrittenOffReason,
    WrittenOffAt,
}

#[derive(DeriveIden)]
enum LinesAdded {
    CreditedCents,
    Quantity,
    PriceReason,
}

#[derive(DeriveIden)]
enum CreditNotes {
    Table,
    Id,
    Number,
    InvoiceId,
    ContactId,
    AmountCents,
    ToCreditCents,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CreditNoteLines {
    Table,
    Id,
    CreditNoteId,
    InvoiceLineId,
    Product,
    AmountCents,
}

#[derive(DeriveIden)]
enum CreditBalances {
    Table,
    ContactId,
    BalanceCents,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CreditMovements {
    Table,
    Id,
    ContactId,
    AmountCents,
    Kind,
    InvoiceId,
    PaymentId,
    CreditNoteId,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        widen_status(manager, 20).await?;
        add_columns(manager).await?;
        create_credit_notes(manager).await?;
        create_credit(manager).await?;
        let db = manager.get_connection();
        db.execute_unprepared("INSERT INTO counters (name, value) VALUES ('credit_note', 0)")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_invoices_written_off ON invoices (written_off_at) \
             WHERE written_off_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX idx_invoices_written_off")
            .await?;
        db.execute_unprepared("DELETE FROM counters WHERE name = 'credit_note'")
            .await?;
        for t in [
            CreditMovements::Table.into_iden(),
            CreditBalances::Table.into_iden(),
            CreditNoteLines::Table.into_iden(),
            CreditNotes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        for col in [
            LinesAdded::CreditedCents,
            LinesAdded::Quantity,
            LinesAdded::PriceReason,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(InvoiceLines::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        use InvoicesAdded as A;
        for col in [
            A::CreditedCents,
            A::WrittenOffCents,
            A::WrittenOffReason,
            A::WrittenOffAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Invoices::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        widen_status(manager, 10).await
    }
}

/// `written_off` is longer than the statuses before it. SQLite does not enforce lengths.
async fn widen_status(manager: &SchemaManager<'_>, length: u32) -> Result<(), DbErr> {
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE invoices ALTER COLUMN status TYPE VARCHAR({length})"
            ))
            .await?;
    }
    Ok(())
}

/// One column per statement: SQLite alters one at a time.
async fn add_columns(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use InvoicesAdded as A;
    let zero = |c: A| {
        ColumnDef::new(c)
            .big_integer()
            .not_null()
            .default(0)
            .to_owned()
    };
    for col in [
        zero(A::CreditedCents),
        zero(A::WrittenOffCents),
        ColumnDef::new(A::WrittenOffReason)
            .string_len(200)
            .null()
            .to_owned(),
        ColumnDef::new(A::WrittenOffAt)
            .timestamp_with_time_zone()
            .null()
            .to_owned(),
    ] {
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
    }
    for col in [
        ColumnDef::new(LinesAdded::CreditedCents)
            .big_integer()
            .not_null()
            .default(0)
            .to_owned(),
        ColumnDef::new(LinesAdded::Quantity)
            .integer()
            .not_null()
            .default(1)
            .to_owned(),
        ColumnDef::new(LinesAdded::PriceReason)
            .string_len(200)
            .null()
            .to_owned(),
    ] {
        manager
            .alter_table(
                Table::alter()
                    .table(InvoiceLines::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn create_credit_notes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use CreditNoteLines as L;
    use CreditNotes as N;
    manager
        .create_table(
            Table::create()
                .table(N::Table)
                .col(big_pk_auto(N::Id))
                .col(big_integer(N::Number).unique_key())
                .col(big_integer(N::InvoiceId))
                .col(big_integer(N::ContactId))
                .col(big_integer(N::AmountCents))
                .col(big_integer(N::ToCreditCents))
                .col(string_len(N::Reason, 200))
                .col(big_integer_null(N::CreatedBy))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .check(Expr::cust("amount_cents > 0"))
                .foreign_key(
                    ForeignKey::create()
                        .from(N::Table, N::InvoiceId)
                        .to(Invoices::Table, Invoices::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(N::Table, N::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .to_owned(),
        )
        .await?;
    for (name, column) in [
        ("idx_credit_notes_invoice", N::InvoiceId),
        ("idx_credit_notes_contact", N::ContactId),
        ("idx_credit_notes_created", N::CreatedAt),
    ] {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(N::Table)
                    .col(column)
                    .col(N::Id)
                    .to_owned(),
            )
            .await?;
    }
    manager
        .create_table(
            Table::create()
                .table(L::Table)
                .col(big_pk_auto(L::Id))
                .col(big_integer(L::CreditNoteId))
                .col(big_integer(L::InvoiceLineId))
                .col(string_len(L::Product, 40))
                .col(big_integer(L::AmountCents))
                .foreign_key(
                    ForeignKey::create()
                        .from(L::Table, L::CreditNoteId)
                        .to(N::Table, N::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_credit_note_lines_note")
                .table(L::Table)
                .col(L::CreditNoteId)
                .to_owned(),
        )
        .await
}

async fn create_credit(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use CreditBalances as B;
    use CreditMovements as M;
    manager
        .create_table(
            Table::create()
                .table(B::Table)
                .col(big_integer(B::ContactId).primary_key())
                .col(big_integer(B::BalanceCents))
                .col(timestamp_with_time_zone(B::UpdatedAt))
                .check(Expr::cust("balance_cents >= 0"))
                .foreign_key(
                    ForeignKey::create()
                        .from(B::Table, B::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(M::Table)
                .col(big_pk_auto(M::Id))
                .col(big_integer(M::ContactId))
                .col(big_integer(M::AmountCents))
                .col(string_len(M::Kind, 20))
                .col(big_integer_null(M::InvoiceId))
                .col(big_integer_null(M::PaymentId))
                .col(big_integer_null(M::CreditNoteId))
                .col(big_integer_null(M::CreatedBy))
                .col(timestamp_with_time_zone(M::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::InvoiceId)
                        .to(Invoices::Table, Invoices::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::CreditNoteId)
                        .to(CreditNotes::Table, CreditNotes::Id),
                )
                .to_owned(),
        )
        .await?;
    for (name, column) in [
        ("idx_credit_movements_contact", M::ContactId),
        ("idx_credit_movements_invoice", M::InvoiceId),
    ] {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(M::Table)
                    .col(column)
                    .col(M::Id)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
