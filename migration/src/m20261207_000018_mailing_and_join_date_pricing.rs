//! P-7: a pricing rule may ask for the buyer's join date to lie in a range (`joined_from`,
//! `joined_to`, both nullable).
//!
//! L-7: mailing lists filter contacts on their communication preferences. Most contacts opt
//! in, so a list of those who do walks the contacts in id order and fills a page at once;
//! those who opt out are the few, and a page of them would read most contacts first. Partial
//! indexes hold only the opt-outs: they stay small, and writing a contact that opts in costs
//! nothing. The contact filter compares the flags with literals so that both planners can use
//! them. Having an email or a postal address needs no index of its own: most contacts have
//! both, and `idx_contacts_email` already leads to those without an email.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PricingRules {
    Table,
    JoinedFrom,
    JoinedTo,
}

const OPT_OUT_INDEXES: [(&str, &str); 2] = [
    ("idx_contacts_email_opt_out", "email_opt_in"),
    ("idx_contacts_mail_opt_out", "mail_opt_in"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [PricingRules::JoinedFrom, PricingRules::JoinedTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PricingRules::Table)
                        .add_column(ColumnDef::new(column).date().null())
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        for (name, column) in OPT_OUT_INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON contacts (id) WHERE {column} = FALSE"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in OPT_OUT_INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        for column in [PricingRules::JoinedFrom, PricingRules::JoinedTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(PricingRules::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
