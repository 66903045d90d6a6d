//! N-1..N-3: notices to members, written in the transaction of their cause and delivered by
//! email afterwards (status, attempts, the next attempt's time, which is also the lease of a
//! server sending it, and the last error: the delivery log); the templates staff edited (the
//! others are the defaults in code); what documents need in the settings.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::MembershipSettings;
use crate::m20261122_000002_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notices {
    Table,
    Id,
    Kind,
    ContactId,
    InvoiceId,
    PaymentId,
    ToAddress,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    Subject,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum NoticeTemplates {
    Table,
    Kind,
    Subject,
    Text,
    Html,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SettingsAdded {
    AssociationName,
    AssociationAddress,
    ReplyTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        notices(manager).await?;
        manager
            .create_table(
                Table::create()
                    .table(NoticeTemplates::Table)
                    .col(string_len(NoticeTemplates::Kind, 30).primary_key())
                    .col(text(NoticeTemplates::Subject))
                    .col(text(NoticeTemplates::Text))
                    .col(text(NoticeTemplates::Html))
                    .col(integer(NoticeTemplates::Version))
                    .col(timestamp_with_time_zone(NoticeTemplates::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for col in [
            SettingsAdded::AssociationName,
            SettingsAdded::AssociationAddress,
            SettingsAdded::ReplyTo,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MembershipSettings::Table)
                        .add_column(text_null(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            SettingsAdded::AssociationName,
            SettingsAdded::AssociationAddress,
            SettingsAdded::ReplyTo,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MembershipSettings::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(NoticeTemplates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Notices::Table).to_owned())
            .await
    }
}

async fn notices(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    use Notices as N;
    manager
        .create_table(
            Table::create()
                .table(N::Table)
                .col(big_pk_auto(N::Id))
                .col(string_len(N::Kind, 30))
                .col(big_integer(N::ContactId))
                .col(big_integer_null(N::InvoiceId))
                .col(big_integer_null(N::PaymentId))
                .col(string_len_null(N::ToAddress, 320))
                .col(string_len(N::Status, 20))
                .col(integer(N::Attempts))
                .col(timestamp_with_time_zone(N::NextAttemptAt))
                .col(string_len_null(N::LastError, 500))
                .col(text_null(N::Subject))
                .col(timestamp_with_time_zone(N::CreatedAt))
                .col(timestamp_with_time_zone_null(N::SentAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(N::Table, N::ContactId)
                        .to(Contacts::Table, Contacts::Id),
                )
                .to_owned(),
        )
        .await?;
    for (name, cols) in [
        ("idx_notices_due", vec![N::Status, N::NextAttemptAt]),
        ("idx_notices_contact", vec![N::ContactId, N::Id]),
        ("idx_notices_kind", vec![N::Kind, N::Id]),
        ("idx_notices_invoice", vec![N::InvoiceId]),
    ] {
        let mut index = Index::create();
        index.name(name).table(N::Table);
        for col in cols {
            index.col(col);
        }
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}
