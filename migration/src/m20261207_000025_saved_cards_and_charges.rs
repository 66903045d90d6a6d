//! G-4..G-7: the provider's customer of each contact and the cards saved there (provider ids,
//! brand, last four digits and expiry: never a card number); each AutoPay charge attempt with
//! its decline code and the day it is due (dunning); refunds asked of the provider, recorded
//! once it confirms them; the dunning schedule in the settings.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::MembershipSettings;
use crate::m20261122_000002_contacts::Contacts;
use crate::m20261122_000007_invoices::{Invoices, Payments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentCustomers {
    Table,
    ContactId,
    ProviderId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SavedPaymentMethods {
    Table,
    Id,
    ContactId,
    ProviderId,
    Brand,
    Last4,
    ExpMonth,
    ExpYear,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChargeAttempts {
    Table,
    Id,
    InvoiceId,
    Part,
    Attempt,
    PayerId,
    DueOn,
    Status,
    LeaseUntil,
    PaymentMethod,
    ProviderIntentId,
    AmountCents,
    DeclineCode,
    Message,
    PaymentId,
    CreatedAt,
    AttemptedAt,
}

#[derive(DeriveIden)]
enum ProviderRefunds {
    Table,
    Id,
    ProviderId,
    PaymentId,
    AmountCents,
    Status,
    Reason,
    RecordedBy,
    RefundId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SettingsAdded {
    DunningRetryDays,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        payment_customers(manager).await?;
        saved_payment_methods(manager).await?;
        charge_attempts(manager).await?;
        provider_refunds(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MembershipSettings::Table)
                    .add_column(text_null(SettingsAdded::DunningRetryDays))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(MembershipSettings::Table)
                    .drop_column(SettingsAdded::DunningRetryDays)
                    .to_owned(),
            )
            .await?;
        for table in [
            ProviderRefunds::Table.into_iden(),
            ChargeAttempts::Table.into_iden(),
            SavedPaymentMethods::Table.into_iden(),
            PaymentCustomers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn payment_customers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use PaymentCustomers as C;
    manager
        .create_table(
            Table::create()
                .table(C::Table)
                .col(big_integer(C::ContactId).primary_key())
                .col(string_len(C::ProviderId, 255).unique_key())
                .col(timestamp_with_time_zone(C::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .to_owned(),
        )
        .await
}

async fn saved_payment_methods(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use SavedPaymentMethods as M;
    manager
        .create_table(
            Table::create()
                .table(M::Table)
                .col(big_pk_auto(M::Id))
                .col(big_integer(M::ContactId))
                .col(string_len(M::ProviderId, 255).unique_key())
                .col(string_len(M::Brand, 40))
                .col(string_len(M::Last4, 4))
                .col(integer(M::ExpMonth))
                .col(integer(M::ExpYear))
                .col(boolean(M::IsDefault))
                .col(timestamp_with_time_zone(M::CreatedAt))
                .col(timestamp_with_time_zone(M::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(M::Table, M::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_saved_payment_methods_contact")
                .table(M::Table)
                .col(M::ContactId)
                .col(M::IsDefault)
                .to_owned(),
        )
        .await
}

async fn charge_attempts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use ChargeAttempts as A;
    manager
        .create_table(
            Table::create()
                .table(A::Table)
                .col(big_pk_auto(A::Id))
                .col(big_integer(A::InvoiceId))
                .col(integer(A::Part))
                .col(integer(A::Attempt))
                .col(big_integer(A::PayerId))
                .col(date(A::DueOn))
                .col(string_len(A::Status, 20))
                .col(timestamp_with_time_zone_null(A::LeaseUntil))
                .col(string_len_null(A::PaymentMethod, 255))
                .col(string_len_null(A::ProviderIntentId, 255))
                .col(big_integer_null(A::AmountCents))
                .col(string_len_null(A::DeclineCode, 100))
                .col(string_len_null(A::Message, 300))
                .col(big_integer_null(A::PaymentId))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .col(timestamp_with_time_zone_null(A::AttemptedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::InvoiceId)
                        .to(Invoices::Table, Invoices::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::PayerId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .to_owned(),
        )
        .await?;
    for (name, cols) in [
        (
            "idx_charge_attempts_once",
            vec![A::InvoiceId, A::Part, A::Attempt],
        ),
        ("idx_charge_attempts_due", vec![A::Status, A::DueOn]),
        ("idx_charge_attempts_payer", vec![A::PayerId, A::Status]),
        ("idx_charge_attempts_intent", vec![A::ProviderIntentId]),
    ] {
        let mut index = Index::create();
        index.name(name).table(A::Table);
        if name == "idx_charge_attempts_once" {
            index.unique();
        }
        for col in cols {
            index.col(col);
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

async fn provider_refunds(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use ProviderRefunds as R;
    manager
        .create_table(
            Table::create()
                .table(R::Table)
                .col(big_pk_auto(R::Id))
                .col(string_len(R::ProviderId, 255).unique_key())
                .col(big_integer(R::PaymentId))
                .col(big_integer(R::AmountCents))
                .col(string_len(R::Status, 20))
                .col(string_len(R::Reason, 500))
                .col(big_integer_null(R::RecordedBy))
                .col(big_integer_null(R::RefundId))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .col(timestamp_with_time_zone(R::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::PaymentId)
                        .to(Payments::Table, Payments::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::RefundId)
                        .to(Refunds::Table, Refunds::Id),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("idx_provider_refunds_payment")
                .table(R::Table)
                .col(R::PaymentId)
                .to_owned(),
        )
        .await
}
