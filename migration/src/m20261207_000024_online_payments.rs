//! G-2, G-3: the provider's payment intents, one per invoice and amount asked, with the payment
//! each recorded (set once: an intent pays once however often its event arrives), and the
//! provider events already handled, by their id.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000007_invoices::{Invoices, Payments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentIntents {
    Table,
    Id,
    InvoiceId,
    ProviderId,
    AmountCents,
    Currency,
    ClientSecret,
    PaymentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderEvents {
    Table,
    Id,
    Kind,
    Outcome,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PaymentIntents as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_pk_auto(P::Id))
                    .col(big_integer(P::InvoiceId))
                    .col(string_len(P::ProviderId, 255).unique_key())
                    .col(big_integer(P::AmountCents))
                    .col(string_len(P::Currency, 3))
                    .col(string_len(P::ClientSecret, 255))
                    .col(big_integer_null(P::PaymentId))
                    .col(timestamp_with_time_zone(P::CreatedAt))
                    .col(timestamp_with_time_zone(P::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(P::Table, P::InvoiceId)
                            .to(Invoices::Table, Invoices::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(P::Table, P::PaymentId)
                            .to(Payments::Table, Payments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_intents_invoice")
                    .table(P::Table)
                    .col(P::InvoiceId)
                    .col(P::Id)
                    .to_owned(),
            )
            .await?;
        use ProviderEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(string_len(E::Id, 255).primary_key())
                    .col(string_len(E::Kind, 100))
                    .col(string_len(E::Outcome, 200))
                    .col(timestamp_with_time_zone(E::ReceivedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProviderEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PaymentIntents::Table).to_owned())
            .await
    }
}
