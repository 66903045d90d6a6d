//! Lifecycle, segments and reports: the audit trail of staff actions, saved contact segments,
//! the association's prospect tags, and the indexes that previous-member, prospect and report
//! queries read through.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::MembershipSettings;
use crate::m20261122_000002_contacts::{ContactHistory, Contacts};
use crate::m20261122_000005_subscriptions::Subscriptions;
use crate::m20261122_000007_invoices::{Invoices, Payments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum AuditEvents {
    Table,
    Id,
    At,
    UserId,
    RequestId,
    Action,
    Subject,
    Details,
}

#[derive(DeriveIden)]
pub enum Segments {
    Table,
    Id,
    Name,
    Description,
    Filter,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Added {
    ProspectTags,
}

/// (index name, table, columns)
fn indexes() -> Vec<(&'static str, DynIden, Vec<DynIden>)> {
    vec![
        (
            "idx_contacts_join_date",
            Contacts::Table.into_iden(),
            vec![Contacts::JoinDate.into_iden(), Contacts::Id.into_iden()],
        ),
        (
            "idx_contacts_type_category",
            Contacts::Table.into_iden(),
            vec![
                Contacts::CustomerType.into_iden(),
                Contacts::BillingCategory.into_iden(),
            ],
        ),
        (
            "idx_contacts_created_at",
            Contacts::Table.into_iden(),
            vec![Contacts::CreatedAt.into_iden(), Contacts::Id.into_iden()],
        ),
        (
            "idx_contact_history_kind",
            ContactHistory::Table.into_iden(),
            vec![
                ContactHistory::Kind.into_iden(),
                ContactHistory::ContactId.into_iden(),
            ],
        ),
        (
            "idx_contact_history_at",
            ContactHistory::Table.into_iden(),
            vec![
                ContactHistory::At.into_iden(),
                ContactHistory::ContactId.into_iden(),
            ],
        ),
        (
            "idx_subscriptions_membership",
            Subscriptions::Table.into_iden(),
            vec![
                Subscriptions::IsMembershipComponent.into_iden(),
                Subscriptions::ContactId.into_iden(),
            ],
        ),
        (
            "idx_invoices_created_at",
            Invoices::Table.into_iden(),
            vec![Invoices::CreatedAt.into_iden(), Invoices::Id.into_iden()],
        ),
        (
            "idx_invoices_bill_to",
            Invoices::Table.into_iden(),
            vec![Invoices::BillToId.into_iden(), Invoices::Id.into_iden()],
        ),
        (
            "idx_payments_paid_on",
            Payments::Table.into_iden(),
            vec![Payments::PaidOn.into_iden(), Payments::Id.into_iden()],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditEvents as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(big_pk_auto(A::Id))
                    .col(timestamp_with_time_zone(A::At))
                    .col(big_integer_null(A::UserId))
                    .col(string_len_null(A::RequestId, 128))
                    .col(string_len(A::Action, 60))
                    .col(string_len_null(A::Subject, 100))
                    .col(text(A::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_action")
                    .table(A::Table)
                    .col(A::Action)
                    .col(A::Id)
                    .to_owned(),
            )
            .await?;

        use Segments as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_pk_auto(S::Id))
                    .col(string_len_uniq(S::Name, 100))
                    .col(string_len_null(S::Description, 500))
                    .col(text(S::Filter))
                    .col(integer(S::Version))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .col(timestamp_with_time_zone(S::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(MembershipSettings::Table)
                    .add_column(text_null(Added::ProspectTags))
                    .to_owned(),
            )
            .await?;

        // E-mail matching and search read `email_key`; this index only cost writes.
        manager
            .drop_index(
                Index::drop()
                    .name("idx_contacts_email")
                    .table(Contacts::Table)
                    .to_owned(),
            )
            .await?;
        for (name, table, cols) in indexes() {
            let mut idx = Index::create();
            idx.name(name).table(table);
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_contacts_email")
                    .table(Contacts::Table)
                    .col(Contacts::Email)
                    .col(Contacts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MembershipSettings::Table)
                    .drop_column(Added::ProspectTags)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Segments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
