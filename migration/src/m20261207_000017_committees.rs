//! C-8: committees and the terms their members serve. A committee's name is unique regardless
//! of letter case; the roster of a committee and the service of a contact are each read
//! through an index. A contact's terms go with the contact (purge); a committee with terms
//! cannot be deleted.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000002_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Committees {
    Table,
    Id,
    Name,
    Kind,
    Description,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommitteeMembers {
    Table,
    Id,
    CommitteeId,
    ContactId,
    Position,
    BeginDate,
    EndDate,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CommitteeMembers as M;
        use Committees as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_pk_auto(C::Id))
                    .col(string_len(C::Name, 100))
                    .col(string_len(C::Kind, 20))
                    .col(string_len_null(C::Description, 500))
                    .col(boolean(C::Active))
                    .col(integer(C::Version))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_committees_name_lower ON committees (lower(name))",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(big_pk_auto(M::Id))
                    .col(big_integer(M::CommitteeId))
                    .col(big_integer(M::ContactId))
                    .col(string_len(M::Position, 60))
                    .col(date(M::BeginDate))
                    .col(date_null(M::EndDate))
                    .col(integer(M::Version))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .col(timestamp_with_time_zone(M::UpdatedAt))
                    .check(Expr::cust("end_date IS NULL OR end_date >= begin_date"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(M::Table, M::CommitteeId)
                            .to(C::Table, C::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(M::Table, M::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_committee_members_committee", M::CommitteeId),
            ("idx_committee_members_contact", M::ContactId),
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

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CommitteeMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Committees::Table).to_owned())
            .await
    }
}
