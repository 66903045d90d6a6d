//! JB-2: a renewal preview is saved for 24 hours, paged, and committed as previewed: the
//! commit bills the previewed contacts only, reports those whose bill changed since (billed
//! as they are now) and those no longer due (billed by nobody), and bills nobody the second
//! time. An unknown preview is 404, an expired one 410.

use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use tests::spawn;

use super::killed_run::{count, seed_members, setup};

#[tokio::test]
async fn jb2_a_saved_preview_is_paged_and_committed_once_as_previewed() {
    let app = spawn().await;
    setup(&app.client, &app.base, &app.staff).await;
    app.post(
        "/billing-categories",
        &app.staff,
        json!({"code": "STU", "name": "Student"}),
    )
    .await
    .expect(201);
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "250.00", "billing_category": "STU"}),
    )
    .await
    .expect(201);
    let db = Database::connect(&app.url).await.expect("connect");
    seed_members(&db, 1_500).await;
    let first_id = count(&db, "SELECT MIN(id) FROM contacts").await;

    let run = json!({"billing_cycle": "Renewals", "effective_date": "2027-01-01"});
    let mut dry = run.clone();
    dry["dry_run"] = json!(true);
    let preview = app.post("/renewal-runs", &app.staff, dry).await.expect(200);
    assert_eq!(preview.body["billed"], 1_500);
    let pid = preview.body["preview_id"].as_i64().expect("preview_id");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM invoices").await, 0, "R-5");

    // The preview, and its bills a page at a time.
    let saved = app
        .get(&format!("/renewal-runs/previews/{pid}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(saved.body["billed"], 1_500);
    assert_eq!(saved.body["total"], "750000.00");
    assert_eq!(saved.body["effective_date"], "2027-01-01");
    assert!(saved.body["committed_run_id"].is_null());
    let mut bills = Vec::new();
    let mut path = format!("/renewal-runs/previews/{pid}/invoices?limit=200");
    loop {
        let page = app.get(&path, &app.staff).await.expect(200);
        let items = page.body["items"].as_array().expect("items").clone();
        assert!(items.len() <= 200);
        bills.extend(items);
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/renewal-runs/previews/{pid}/invoices?limit=200&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(bills.len(), 1_500);
    assert_eq!(bills[0]["contact_id"], first_id);
    assert_eq!(bills[0]["total"], "500.00");
    assert_eq!(bills[0]["lines"][0]["product"], "MDUES");
    assert!(bills.iter().all(|b| b["invoice_id"].is_null()));
    let ids: Vec<i64> = bills
        .iter()
        .filter_map(|b| b["contact_id"].as_i64())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "by contact, each once");

    // Meanwhile: one member becomes a student (a new price), one is no longer due (suspended
    // as deceased), and a member joins after the preview.
    let (changed, gone) = (first_id + 10, first_id + 1_200);
    db.execute_unprepared(&format!(
        "UPDATE contacts SET billing_category = 'STU' WHERE id = {changed}"
    ))
    .await
    .expect("change");
    db.execute_unprepared(&format!(
        "UPDATE contacts SET status = 'D' WHERE id = {gone}"
    ))
    .await
    .expect("no longer due");
    seed_members(&db, 1).await;

    let mut commit = run.clone();
    commit["preview_id"] = json!(pid);
    let done = app
        .post("/renewal-runs", &app.staff, commit.clone())
        .await
        .expect(201);
    assert_eq!(done.body["billed"], 1_499);
    assert_eq!(done.body["changed_since_preview"], json!([changed]));
    assert_eq!(done.body["no_longer_due"], json!([gone]));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await,
        1_499,
        "only the previewed contacts"
    );
    let student_total = count(
        &db,
        &format!("SELECT total_cents FROM invoices WHERE contact_id = {changed}"),
    )
    .await;
    assert_eq!(student_total, 25_000, "billed as it is now");
    let run_id = done.body["id"].as_i64().expect("run id");
    let saved = app
        .get(&format!("/renewal-runs/previews/{pid}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(saved.body["committed_run_id"], run_id);

    // The second commit bills nobody and says so.
    let again = app
        .post("/renewal-runs", &app.staff, commit.clone())
        .await
        .problem(409, "conflict");
    assert!(
        again.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&run_id.to_string())),
        "{}",
        again.text
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM renewal_runs").await, 1);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices WHERE kind = 'renewal'").await,
        1_499
    );

    // Unknown: 404; expired: 410, and it cannot be committed.
    app.get("/renewal-runs/previews/999999", &app.staff)
        .await
        .problem(404, "not_found");
    let mut dry = run.clone();
    dry["dry_run"] = json!(true);
    let other = app.post("/renewal-runs", &app.staff, dry).await.expect(200);
    let old = other.body["preview_id"].as_i64().expect("preview_id");
    db.execute_unprepared(&format!(
        "UPDATE renewal_previews SET expires_at = created_at WHERE id = {old}"
    ))
    .await
    .expect("expire");
    app.get(&format!("/renewal-runs/previews/{old}"), &app.staff)
        .await
        .problem(410, "gone");
    app.get(
        &format!("/renewal-runs/previews/{old}/invoices"),
        &app.staff,
    )
    .await
    .problem(410, "gone");
    let mut commit_old = run.clone();
    commit_old["preview_id"] = json!(old);
    app.post("/renewal-runs", &app.staff, commit_old)
        .await
        .problem(410, "gone");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM renewal_runs").await, 1);
    let _ = db.close().await;
}
