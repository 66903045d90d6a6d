//! Migrations that change stored rows, run up and down over a database that holds some.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, EntityTrait, QueryOrder, Statement};
use service::entity::billing_cycle as b;
use service::entity::words::{AccountingMethod, BillingTime};

const CYCLE_OPTIONS: &str = "m20261207_000016_cycle_options_default_is_null";

/// B-6, B-7: a cycle stored with the word `default` follows the settings as `NULL` afterwards;
/// its own choices stay; going down restores the word.
#[tokio::test]
async fn b6_b7_cycles_stored_with_default_keep_their_meaning_across_the_migration() {
    let (url, _dir) = tests::fresh_database().await;
    let db = Database::connect(&url).await.expect("connect");
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == CYCLE_OPTIONS)
        .expect("the migration is listed");
    Migrator::up(&db, Some(before as u32))
        .await
        .expect("up to the one before");
    for (name, time, method) in [("A", "default", "default"), ("B", "annual", "cash")] {
        db.execute_unprepared(&format!(
            "INSERT INTO billing_cycles (name, name_key, membership, billing_time, \
             accounting_method, autopay_option, require_chapter, allow_multiple_chapters, \
             require_billed_chapters_on_renewal, include_inactive_members, \
             include_inactive_sections, include_suspended_members, print_zero_balance, \
             include_all_sections, include_all_chapters, \
             update_complimentary_paid_through_at_payment, use_primary_fee_term_length, \
             months_prior_to_expiration, rejoin_as_renewal_months, join_item_set, \
             itemized_renewals, version, created_at, updated_at) VALUES ('{name}', '{name}', \
             true, '{time}', '{method}', 'bill_all', false, false, false, false, false, false, \
             false, false, false, false, false, 0, 0, true, false, 1, \
             '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')"
        ))
        .await
        .expect("insert a cycle as stored before");
    }

    Migrator::up(&db, None).await.expect("up");
    let cycles = b::Entity::find()
        .order_by_asc(b::Column::Name)
        .all(&db)
        .await
        .expect("read the cycles");
    let options: Vec<_> = cycles
        .iter()
        .map(|c| (c.billing_time, c.accounting_method))
        .collect();
    assert_eq!(
        options,
        [
            (None, None),
            (Some(BillingTime::Annual), Some(AccountingMethod::Cash))
        ]
    );

    // Down through this migration, and those after it.
    let steps = Migrator::migrations().len() - before;
    Migrator::down(&db, Some(steps as u32)).await.expect("down");
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT billing_time, accounting_method FROM billing_cycles ORDER BY name",
        ))
        .await
        .expect("read the stored words");
    let words: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).expect("billing_time"),
                r.try_get_by_index(1).expect("accounting_method"),
            )
        })
        .collect();
    assert_eq!(
        words,
        [
            ("default".to_owned(), "default".to_owned()),
            ("annual".to_owned(), "cash".to_owned())
        ]
    );
    let _ = db.close().await;
    tests::drop_database(&url).await;
}

const MAILING_AND_JOIN_DATES: &str = "m20261207_000018_mailing_and_join_date_pricing";

/// P-7, L-7: the rules' join-date columns and the contacts' opt-out indexes come with the
/// migration and go with it.
#[tokio::test]
async fn p7_l7_join_date_columns_and_opt_out_indexes_migrate_up_and_down() {
    let (url, _dir) = tests::fresh_database().await;
    let db = Database::connect(&url).await.expect("connect");
    Migrator::up(&db, None).await.expect("up");
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == MAILING_AND_JOIN_DATES)
        .expect("the migration is listed");
    let columns = "SELECT joined_from, joined_to FROM pricing_rules";
    db.execute_unprepared(columns).await.expect("the columns");

    let from_the_last = Migrator::migrations().len() - position;
    Migrator::down(&db, Some(from_the_last as u32))
        .await
        .expect("down");
    assert!(db.execute_unprepared(columns).await.is_err());

    Migrator::up(&db, None).await.expect("up again");
    db.execute_unprepared(columns)
        .await
        .expect("the columns again");
}
