//! `ams backup` and `ams restore`: a backup taken while the server runs restores to exactly
//! the data of that moment, and a restore refuses a file that is not a sound backup.

use service::Db;
use tests::{drop_database, fresh_database, spawn};

async fn last_names(db: &Db) -> Vec<String> {
    let mut names: Vec<String> = entity::contact::Entity::find()
        .all(&db.conn)
        .await
        .expect("contacts")
        .into_iter()
        .filter_map(|c| c.last_name)
        .collect();
    names.sort();
    names
}

use sea_orm::EntityTrait;

#[tokio::test]
async fn a_backup_taken_while_serving_restores_to_that_moment() {
    let app = spawn().await;
    app.doctors().await;
    app.person("NM", "Before").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("ams.backup");
    service::backup::backup(&app.db, &app.url, &file)
        .await
        .expect("backup");
    // Written after the backup: not in it.
    app.person("NM", "After").await;
    // A second backup never overwrites the first.
    assert!(
        service::backup::backup(&app.db, &app.url, &file)
            .await
            .is_err()
    );

    let (target, _guard) = fresh_database().await;
    service::backup::restore(&target, &file)
        .await
        .expect("restore");
    let restored = Db::connect(&target).await.expect("connect");
    // Migrations recorded in the copy: nothing left to apply, and the data is as it was.
    service::bootstrap::prepare(&restored)
        .await
        .expect("prepare");
    assert_eq!(last_names(&restored).await, vec!["Before".to_owned()]);
    assert_eq!(
        last_names(&app.db).await,
        vec!["After".to_owned(), "Before".to_owned()]
    );
    // The restored database takes new writes.
    let created = service::contacts::create(
        &restored,
        service::contacts::NewContact {
            customer_type: "NM".into(),
            last_name: Some("Restored".into()),
            first_name: Some("R".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(created.is_ok(), "{:?}", created.err());
    restored.conn.close().await.expect("close");
    drop_database(&target).await;
}

#[tokio::test]
async fn a_restore_refuses_a_file_that_is_not_a_backup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let junk = dir.path().join("junk.backup");
    std::fs::write(&junk, b"not a database").expect("write");
    let target = format!("sqlite://{}/ams.db?mode=rwc", dir.path().display());
    assert!(service::backup::restore(&target, &junk).await.is_err());
    assert!(
        !dir.path().join("ams.db").exists(),
        "nothing was put in place"
    );
    let missing = dir.path().join("missing.backup");
    assert!(service::backup::restore(&target, &missing).await.is_err());
}
