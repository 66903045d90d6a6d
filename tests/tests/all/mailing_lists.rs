//! L-7: mailing lists. Contact lists and saved segments filter on communication preferences
//! (`email_opt_in`, `mail_opt_in`) and on having an email (`has_email`) or a usable postal
//! address (`has_address`: a first address line, and a city or a postal code), and export as
//! CSV with the columns a mailing needs.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use tests::{Res, TestApp, assert_field_error, error_fields, id, spawn};

/// Five persons that differ in preferences and in how they can be reached.
struct Mailing {
    /// Email and a full address; accepts both.
    full: i64,
    /// Email, no address; refuses email.
    email_only: i64,
    /// No email; address line and postal code (no city); refuses postal mail.
    postcode: i64,
    /// No email; an address line and a country only, which no letter reaches; refuses both.
    unreachable: i64,
    /// Email and an address with a city (no postal code); refuses postal mail.
    city: i64,
}

async fn person(app: &TestApp, body: Value) -> i64 {
    let mut body = body;
    body["customer_type"] = json!("NM");
    id(&app.create_contact(body).await)
}

async fn mailing(app: &TestApp) -> Mailing {
    app.doctors().await;
    Mailing {
        full: person(
            app,
            json!({"first_name": "Ana", "last_name": "Full", "email": "ana@example.org",
                "address": {"line1": "1 Main St", "line2": "Suite 4", "city": "Springfield",
                    "region": "IL", "postal_code": "62701", "country": "US"}}),
        )
        .await,
        email_only: person(
            app,
            json!({"first_name": "Bo", "last_name": "Inbox", "email": "bo@example.org",
                "email_opt_in": false}),
        )
        .await,
        postcode: person(
            app,
            json!({"first_name": "Cy", "last_name": "Post", "mail_opt_in": false,
                "address": {"line1": "2 High St", "postal_code": "SW1A 1AA", "country": "GB"}}),
        )
        .await,
        unreachable: person(
            app,
            json!({"first_name": "Di", "last_name": "Nowhere", "email_opt_in": false,
                "mail_opt_in": false, "address": {"line1": "Somewhere", "country": "FR"}}),
        )
        .await,
        city: person(
            app,
            json!({"first_name": "Ed", "last_name": "Town", "email": "ed@example.org",
                "mail_opt_in": false, "address": {"line1": "3 Low Rd", "city": "Leeds"}}),
        )
        .await,
    }
}

/// Ids of every contact `path` lists (one page is enough here).
async fn ids(app: &TestApp, path: &str) -> BTreeSet<i64> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = app
        .get(&format!("{path}{sep}limit=200"), &app.staff)
        .await
        .expect(200);
    assert!(r.body["next_cursor"].is_null(), "{}", r.text);
    r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(id)
        .collect()
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

#[tokio::test]
async fn l7_each_mailing_filter_selects_by_itself_both_ways() {
    let app = spawn().await;
    let m = mailing(&app).await;
    let cases: [(&str, Vec<i64>, Vec<i64>); 4] = [
        (
            "email_opt_in",
            vec![m.full, m.postcode, m.city],
            vec![m.email_only, m.unreachable],
        ),
        (
            "mail_opt_in",
            vec![m.full, m.email_only],
            vec![m.postcode, m.unreachable, m.city],
        ),
        (
            "has_email",
            vec![m.full, m.email_only, m.city],
            vec![m.postcode, m.unreachable],
        ),
        (
            "has_address",
            vec![m.full, m.postcode, m.city],
            vec![m.email_only, m.unreachable],
        ),
    ];
    for (param, yes, no) in cases {
        assert_eq!(
            ids(&app, &format!("/contacts?{param}=true")).await,
            set(&yes),
            "{param}=true"
        );
        assert_eq!(
            ids(&app, &format!("/contacts?{param}=false")).await,
            set(&no),
            "{param}=false"
        );
    }
}

#[tokio::test]
async fn l7_filters_combine_with_each_other_and_with_the_list_filters() {
    let app = spawn().await;
    let m = mailing(&app).await;
    // The email list: agreed to email and has an address to send to.
    assert_eq!(
        ids(&app, "/contacts?email_opt_in=true&has_email=true").await,
        set(&[m.full, m.city])
    );
    // The postal list: agreed to mail and has a usable address.
    assert_eq!(
        ids(&app, "/contacts?mail_opt_in=true&has_address=true").await,
        set(&[m.full])
    );
    // Opted in to email but unreachable by it: the records to complete.
    assert_eq!(
        ids(&app, "/contacts?email_opt_in=true&has_email=false").await,
        set(&[m.postcode])
    );
    assert_eq!(
        ids(
            &app,
            "/contacts?has_email=true&has_address=true&mail_opt_in=false"
        )
        .await,
        set(&[m.city])
    );
    assert_eq!(
        ids(
            &app,
            "/contacts?has_address=false&email_opt_in=false&q=nowhere"
        )
        .await,
        set(&[m.unreachable])
    );
    // The same filters hold in the built-in segments.
    assert!(
        ids(&app, "/segments/prospects?email_opt_in=true")
            .await
            .is_empty()
    );
    // A page of one walks the list with the filters kept.
    let first = app
        .get(
            "/contacts?email_opt_in=true&has_email=true&limit=1",
            &app.staff,
        )
        .await
        .expect(200);
    let cursor = first.body["next_cursor"].as_str().expect("a next page");
    let second = app
        .get(
            &format!("/contacts?email_opt_in=true&has_email=true&limit=1&cursor={cursor}"),
            &app.staff,
        )
        .await
        .expect(200);
    assert_eq!(id(&first.body["items"][0]), m.full);
    assert_eq!(id(&second.body["items"][0]), m.city);
}

#[tokio::test]
async fn l7_a_mailing_list_exports_as_csv_with_names_emails_and_addresses() {
    let app = spawn().await;
    let m = mailing(&app).await;
    let res = app
        .send(
            Method::GET,
            "/contacts?has_address=true&limit=1",
            Some(&app.staff),
            None,
            &[("accept", "text/csv")],
        )
        .await;
    let (header, rows) = records(&res);
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r[col("id")].parse().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [m.full, m.postcode, m.city],
        "every matching row, not a page"
    );
    let full = &rows[0];
    for (column, value) in [
        ("first_name", "Ana"),
        ("last_name", "Full"),
        ("email", "ana@example.org"),
        ("address_line1", "1 Main St"),
        ("address_line2", "Suite 4"),
        ("address_city", "Springfield"),
        ("address_region", "IL"),
        ("address_postal_code", "62701"),
        ("address_country", "US"),
        ("email_opt_in", "true"),
        ("mail_opt_in", "true"),
    ] {
        assert_eq!(full[col(column)], value, "{column}");
    }
    assert!(header.iter().any(|h| h == "organization_name"));
    assert_eq!(rows[1][col("address_postal_code")], "SW1A 1AA");
    assert_eq!(rows[1][col("email")], "");
}

/// The CSV body as records of the header's columns.
fn records(res: &Res) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let mut reader = csv::Reader::from_reader(res.text.as_bytes());
    let header = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a record").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn l7_a_saved_segment_keeps_a_mailing_list() {
    let app = spawn().await;
    let m = mailing(&app).await;
    let filter = json!({"email_opt_in": true, "has_email": true});
    let created = app
        .post(
            "/segments",
            &app.staff,
            json!({"name": "Newsletter", "filter": filter}),
        )
        .await
        .expect(201);
    assert_eq!(created.body["filter"], filter);
    let seg = id(&created.body);
    assert_eq!(
        ids(&app, &format!("/segments/{seg}/contacts")).await,
        set(&[m.full, m.city])
    );
    assert_eq!(
        ids(&app, &format!("/contacts?segment={seg}&has_address=true")).await,
        set(&[m.full, m.city])
    );
    assert_eq!(
        ids(&app, &format!("/segments/{seg}/contacts?mail_opt_in=true")).await,
        set(&[m.full])
    );
    let read = app
        .get(&format!("/segments/{seg}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(read.body["filter"], filter);
}

#[tokio::test]
async fn l7_a_bad_filter_value_is_a_400_naming_the_parameter_and_changes_nothing() {
    let app = spawn().await;
    let m = mailing(&app).await;
    for param in ["email_opt_in", "mail_opt_in", "has_email", "has_address"] {
        for bad in ["maybe", "1", "yes", ""] {
            let r = app
                .get(&format!("/contacts?{param}={bad}"), &app.staff)
                .await
                .problem(400, "invalid_parameter");
            assert_eq!(error_fields(&r), [param], "{param}={bad}: {}", r.text);
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(param),
                "{}",
                r.text
            );
        }
    }
    let r = app
        .get("/segments/prospects?has_email=maybe", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    assert_eq!(error_fields(&r), ["has_email"]);

    // In a body the filter is JSON: a wrong type names the field, and nothing is saved or
    // changed.
    let r = app
        .post(
            "/segments",
            &app.staff,
            json!({"name": "Bad", "filter": {"email_opt_in": "maybe"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_field_error(&r, "filter.email_opt_in");
    assert!(app.items("/segments").await.is_empty());
    let r = app
        .post(
            "/contacts/mass-change",
            &app.staff,
            json!({"filter": {"mail_opt_in": "maybe"}, "set": {"status": "I"}, "dry_run": false}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.text);
    assert_field_error(&r, "filter.mail_opt_in");
    assert_eq!(app.contact(m.full).await["status"], "A");
}
