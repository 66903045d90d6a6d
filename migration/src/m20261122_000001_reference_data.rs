//! Reference data: membership settings, contact statuses (seeded, CS-2), billing categories,
//! billing products and customer types with their primary-fee products.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum ContactStatuses {
    Table,
    Code,
    Name,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum BillingCategories {
    Table,
    Code,
    Name,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Products {
    Table,
    Code,
    Name,
    ProductType,
    PriceCents,
    TermMonths,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum CustomerTypes {
    Table,
    Code,
    Name,
    IsMember,
    IsOrganization,
    PrimaryFeeKind,
    FormulaDesignator,
    FormulaDefaultProduct,
    ExpiresTo,
    RenewsAs,
    FlowDownType,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum CustomerTypeProducts {
    Table,
    CustomerType,
    Product,
    Position,
}

#[derive(DeriveIden)]
pub enum MembershipSettings {
    Table,
    Id,
    FiscalYearStartMonth,
    StandardBillingIntervalMonths,
    DefaultBillingTime,
    DefaultAccountingMethod,
    GracePeriodMonths,
    DefaultPersonType,
    DefaultOrganizationType,
    Currency,
    Version,
    UpdatedAt,
}

fn lookup_table<T: IntoIden + 'static>(
    table: T,
    code: T,
    name: T,
    version: T,
    created: T,
    updated: T,
    code_len: u32,
) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(string_len(code, code_len).primary_key())
        .col(string_len(name, 200))
        .col(integer(version).default(1))
        .col(timestamp_with_time_zone(created))
        .col(timestamp_with_time_zone(updated))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use BillingCategories as B;
        use ContactStatuses as S;
        manager
            .create_table(lookup_table(
                S::Table,
                S::Code,
                S::Name,
                S::Version,
                S::CreatedAt,
                S::UpdatedAt,
                20,
            ))
            .await?;
        manager
            .create_table(lookup_table(
                B::Table,
                B::Code,
                B::Name,
                B::Version,
                B::CreatedAt,
                B::UpdatedAt,
                20,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(string_len(Products::Code, 40).primary_key())
                    .col(string_len(Products::Name, 200))
                    .col(string_len(Products::ProductType, 20))
                    .col(big_integer(Products::PriceCents))
                    .col(integer(Products::TermMonths))
                    .col(boolean(Products::Active))
                    .col(integer(Products::Version).default(1))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerTypes::Table)
                    .col(string_len(CustomerTypes::Code, 20).primary_key())
                    .col(string_len(CustomerTypes::Name, 200))
                    .col(boolean(CustomerTypes::IsMember))
                    .col(boolean(CustomerTypes::IsOrganization))
                    .col(string_len(CustomerTypes::PrimaryFeeKind, 10))
                    .col(string_len_null(CustomerTypes::FormulaDesignator, 40))
                    .col(string_len_null(CustomerTypes::FormulaDefaultProduct, 40))
                    .col(string_len_null(CustomerTypes::ExpiresTo, 20))
                    .col(string_len_null(CustomerTypes::RenewsAs, 20))
                    .col(string_len_null(CustomerTypes::FlowDownType, 20))
                    .col(integer(CustomerTypes::Version).default(1))
                    .col(timestamp_with_time_zone(CustomerTypes::CreatedAt))
                    .col(timestamp_with_time_zone(CustomerTypes::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CustomerTypes::Table, CustomerTypes::FormulaDefaultProduct)
                            .to(Products::Table, Products::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CustomerTypes::Table, CustomerTypes::ExpiresTo)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CustomerTypes::Table, CustomerTypes::RenewsAs)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CustomerTypes::Table, CustomerTypes::FlowDownType)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerTypeProducts::Table)
                    .col(string_len(CustomerTypeProducts::CustomerType, 20))
                    .col(string_len(CustomerTypeProducts::Product, 40))
                    .col(integer(CustomerTypeProducts::Position))
                    .primary_key(
                        Index::create()
                            .col(CustomerTypeProducts::CustomerType)
                            .col(CustomerTypeProducts::Product),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CustomerTypeProducts::Table,
                                CustomerTypeProducts::CustomerType,
                            )
                            .to(CustomerTypes::Table, CustomerTypes::Code)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CustomerTypeProducts::Table, CustomerTypeProducts::Product)
                            .to(Products::Table, Products::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_customer_type_products_product")
                    .table(CustomerTypeProducts::Table)
                    .col(CustomerTypeProducts::Product)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MembershipSettings::Table)
                    .col(integer(MembershipSettings::Id).primary_key())
                    .col(integer(MembershipSettings::FiscalYearStartMonth))
                    .col(integer(MembershipSettings::StandardBillingIntervalMonths))
                    .col(string_len(MembershipSettings::DefaultBillingTime, 20))
                    .col(string_len(MembershipSettings::DefaultAccountingMethod, 20))
                    .col(integer(MembershipSettings::GracePeriodMonths))
                    .col(string_len_null(MembershipSettings::DefaultPersonType, 20))
                    .col(string_len_null(
                        MembershipSettings::DefaultOrganizationType,
                        20,
                    ))
                    .col(string_len(MembershipSettings::Currency, 3))
                    .col(integer(MembershipSettings::Version).default(1))
                    .col(timestamp_with_time_zone(MembershipSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MembershipSettings::Table.into_iden(),
            CustomerTypeProducts::Table.into_iden(),
            CustomerTypes::Table.into_iden(),
            Products::Table.into_iden(),
            BillingCategories::Table.into_iden(),
            ContactStatuses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
