//! Billing cycles (B-1..B-13): who and what a billing run bills, and how.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::{BillingCategories, CustomerTypes, Products};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum BillingCycles {
    Table,
    Id,
    Name,
    NameKey,
    Membership,
    BillingTime,
    AccountingMethod,
    AutopayOption,
    RequireChapter,
    AllowMultipleChapters,
    RequireBilledChaptersOnRenewal,
    IncludeInactiveMembers,
    IncludeInactiveSections,
    IncludeSuspendedMembers,
    PrintZeroBalance,
    IncludeAllSections,
    IncludeAllChapters,
    UpdateComplimentaryPaidThroughAtPayment,
    UsePrimaryFeeTermLength,
    MonthsPriorToExpiration,
    RejoinAsRenewalMonths,
    JoinItemSet,
    ItemizedRenewals,
    ReminderDays,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum BillingCycleCustomerTypes {
    Table,
    CycleId,
    CustomerType,
    Position,
}

#[derive(DeriveIden)]
pub enum BillingCycleCategories {
    Table,
    CycleId,
    BillingCategory,
}

#[derive(DeriveIden)]
pub enum BillingCycleProducts {
    Table,
    CycleId,
    Product,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use BillingCycles as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(big_pk_auto(B::Id))
                    .col(string_len(B::Name, 100))
                    .col(string_len(B::NameKey, 100).unique_key())
                    .col(boolean(B::Membership))
                    .col(string_len(B::BillingTime, 12))
                    .col(string_len(B::AccountingMethod, 10))
                    .col(string_len(B::AutopayOption, 20))
                    .col(boolean(B::RequireChapter))
                    .col(boolean(B::AllowMultipleChapters))
                    .col(boolean(B::RequireBilledChaptersOnRenewal))
                    .col(boolean(B::IncludeInactiveMembers))
                    .col(boolean(B::IncludeInactiveSections))
                    .col(boolean(B::IncludeSuspendedMembers))
                    .col(boolean(B::PrintZeroBalance))
                    .col(boolean(B::IncludeAllSections))
                    .col(boolean(B::IncludeAllChapters))
                    .col(boolean(B::UpdateComplimentaryPaidThroughAtPayment))
                    .col(boolean(B::UsePrimaryFeeTermLength))
                    .col(integer(B::MonthsPriorToExpiration))
                    .col(integer(B::RejoinAsRenewalMonths))
                    .col(boolean(B::JoinItemSet))
                    .col(boolean(B::ItemizedRenewals))
                    .col(integer_null(B::ReminderDays))
                    .col(integer(B::Version).default(1))
                    .col(timestamp_with_time_zone(B::CreatedAt))
                    .col(timestamp_with_time_zone(B::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        use BillingCycleCustomerTypes as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(big_integer(T::CycleId))
                    .col(string_len(T::CustomerType, 20))
                    .col(integer(T::Position))
                    .primary_key(Index::create().col(T::CycleId).col(T::CustomerType))
                    .foreign_key(
                        ForeignKey::create()
                            .from(T::Table, T::CycleId)
                            .to(B::Table, B::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(T::Table, T::CustomerType)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .to_owned(),
            )
            .await?;
        use BillingCycleCategories as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_integer(C::CycleId))
                    .col(string_len(C::BillingCategory, 20))
                    .primary_key(Index::create().col(C::CycleId).col(C::BillingCategory))
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::CycleId)
                            .to(B::Table, B::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(C::Table, C::BillingCategory)
                            .to(BillingCategories::Table, BillingCategories::Code),
                    )
                    .to_owned(),
            )
            .await?;
        use BillingCycleProducts as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(big_integer(P::CycleId))
                    .col(string_len(P::Product, 40))
                    .col(integer(P::Position))
                    .primary_key(Index::create().col(P::CycleId).col(P::Product))
                    .foreign_key(
                        ForeignKey::create()
                            .from(P::Table, P::CycleId)
                            .to(B::Table, B::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(P::Table, P::Product)
                            .to(Products::Table, Products::Code),
                    )
                    .to_owned(),
            )
            .await?;
        // "In use" checks count references by code.
        for (name, table, col) in [
            (
                "idx_cycle_types_type",
                BillingCycleCustomerTypes::Table.into_iden(),
                BillingCycleCustomerTypes::CustomerType.into_iden(),
            ),
            (
                "idx_cycle_categories_category",
                BillingCycleCategories::Table.into_iden(),
                BillingCycleCategories::BillingCategory.into_iden(),
            ),
            (
                "idx_cycle_products_product",
                BillingCycleProducts::Table.into_iden(),
                BillingCycleProducts::Product.into_iden(),
            ),
        ] {
            manager
                .create_index(Index::create().name(name).table(table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            BillingCycleProducts::Table.into_iden(),
            BillingCycleCategories::Table.into_iden(),
            BillingCycleCustomerTypes::Table.into_iden(),
            BillingCycles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
