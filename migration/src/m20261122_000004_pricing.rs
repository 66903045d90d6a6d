//! Pricing (P-3, P-4): pricing groups with their member contacts, and pricing rules that give
//! a product another price when their conditions hold.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_reference_data::{BillingCategories, CustomerTypes, Products};
use crate::m20261122_000002_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum PricingGroups {
    Table,
    Code,
    Name,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum PricingGroupMembers {
    Table,
    GroupCode,
    ContactId,
}

#[derive(DeriveIden)]
pub enum PricingRules {
    Table,
    Id,
    Product,
    PriceCents,
    CustomerType,
    BillingCategory,
    CompanyMember,
    PricingGroup,
    WithProduct,
    ValidFrom,
    ValidTo,
    Priority,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PricingGroupMembers as M;
        use PricingGroups as G;
        use PricingRules as R;
        manager
            .create_table(
                Table::create()
                    .table(G::Table)
                    .col(string_len(G::Code, 20).primary_key())
                    .col(string_len(G::Name, 200))
                    .col(integer(G::Version).default(1))
                    .col(timestamp_with_time_zone(G::CreatedAt))
                    .col(timestamp_with_time_zone(G::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(string_len(M::GroupCode, 20))
                    .col(big_integer(M::ContactId))
                    .primary_key(Index::create().col(M::GroupCode).col(M::ContactId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(M::Table, M::GroupCode)
                            .to(G::Table, G::Code)
                            .on_delete(ForeignKeyAction::Cascade),
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
        manager
            .create_index(
                Index::create()
                    .name("idx_pricing_group_members_contact")
                    .table(M::Table)
                    .col(M::ContactId)
                    .col(M::GroupCode)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(big_pk_auto(R::Id))
                    .col(string_len(R::Product, 40))
                    .col(big_integer(R::PriceCents))
                    .col(string_len_null(R::CustomerType, 20))
                    .col(string_len_null(R::BillingCategory, 20))
                    .col(boolean_null(R::CompanyMember))
                    .col(string_len_null(R::PricingGroup, 20))
                    .col(string_len_null(R::WithProduct, 40))
                    .col(date_null(R::ValidFrom))
                    .col(date_null(R::ValidTo))
                    .col(integer(R::Priority).default(0))
                    .col(integer(R::Version).default(1))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::Product)
                            .to(Products::Table, Products::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::CustomerType)
                            .to(CustomerTypes::Table, CustomerTypes::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::BillingCategory)
                            .to(BillingCategories::Table, BillingCategories::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::PricingGroup)
                            .to(G::Table, G::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(R::Table, R::WithProduct)
                            .to(Products::Table, Products::Code),
                    )
                    .to_owned(),
            )
            .await?;
        // Every foreign key and list filter has an index; (x, id) keeps keyset pagination on it.
        for (name, col) in [
            ("idx_pricing_rules_product", R::Product),
            ("idx_pricing_rules_customer_type", R::CustomerType),
            ("idx_pricing_rules_billing_category", R::BillingCategory),
            ("idx_pricing_rules_pricing_group", R::PricingGroup),
            ("idx_pricing_rules_with_product", R::WithProduct),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(R::Table)
                        .col(col)
                        .col(R::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            PricingRules::Table.into_iden(),
            PricingGroupMembers::Table.into_iden(),
            PricingGroups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
