//! Contact import over HTTP (MG-1) and its matching (MG-2): every field, organizations by
//! external reference, another system's column names, per-row errors naming row and column,
//! whole-file errors, both modes, and the key that matched.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{Res, TestApp, outcomes, spawn, updated_ids};

async fn csv(app: &TestApp, query: &str, text: &str) -> Res {
    app.post_csv(&format!("/contacts/import?{query}"), text)
        .await
}

async fn import(app: &TestApp, body: Value) -> Value {
    app.post("/contacts/import", &app.staff, body)
        .await
        .expect(200)
        .body
}

fn row_id(report: &Value, row: usize) -> i64 {
    report["rows"][row]["id"].as_i64().expect("row id")
}

/// The field errors of a failed row, as `field: message` lines.
fn row_errors(report: &Value, row: usize) -> String {
    let r = &report["rows"][row];
    assert_eq!(r["outcome"], "failed", "{report}");
    r["error"]["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"]))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| r["error"]["message"].to_string())
}

async fn contact_count(app: &TestApp) -> usize {
    app.all("/contacts").await.len()
}

/// MG-1: one file from another system, its own column names mapped, brings persons and their
/// organizations (the organization's row after its person's), with the fields only actions
/// change afterwards (C-5): a member's customer type, a Feb 29 join date, renew months and a
/// primary chapter. Columns the server sets are read and reported as ignored.
#[tokio::test]
async fn mg1_contact_import_brings_every_field_and_links_organizations_by_reference() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let existing_org = tests::id(
        &app.create_contact(
            json!({"customer_type": "HOSP", "organization_name": "Old General",
            "external_ref": "ORG-OLD"}),
        )
        .await,
    );
    let file = "\
Member ID,Type,Category,First,Last,Organization,E-mail,City,Postal,Country,Employer,Member Since,Renew,Chapter,tags,is_member
P-1,M,REG,Ana,Ng,,ana@example.org,Ottawa,K1A 0B1,ca,ORG-NEW,2004-02-29,24,CHAPT/EAST,board;speaker,true
P-2,NM,,Bo,Li,,,,,,ORG-OLD,,,,,false
ORG-NEW,HOSP,,,,St. Mary's,,Ottawa,,CA,,,,,,false
";
    let map = "map=Member%20ID:external_ref,Type:customer_type,Category:billing_category,\
First:first_name,Last:last_name,Organization:organization_name,E-mail:email,City:address_city,\
Postal:address_postal_code,Country:address_country,Employer:company_ref,\
Member%20Since:join_date,Renew:renew_months,Chapter:primary_chapter";
    let report = csv(&app, &format!("action=insert&{map}"), file)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&report), ["inserted"; 3], "{report}");
    assert_eq!(report["applied"], 3);
    assert_eq!(report["ignored_columns"], json!(["is_member"]));

    let ana = app.contact(row_id(&report, 0)).await;
    let org = row_id(&report, 2);
    assert_eq!(ana["customer_type"], "M");
    assert_eq!(ana["is_member"], true);
    assert_eq!(ana["billing_category"], "REG");
    assert_eq!(ana["email"], "ana@example.org");
    assert_eq!(ana["address"]["city"], "Ottawa");
    assert_eq!(ana["address"]["postal_code"], "K1A 0B1");
    assert_eq!(ana["address"]["country"], "CA");
    assert_eq!(ana["company_id"], org);
    assert_eq!(ana["join_date"], "2004-02-29");
    assert_eq!(ana["renew_months"], 24);
    assert_eq!(ana["primary_chapter"], "CHAPT/EAST");
    assert_eq!(ana["tags"], json!(["board", "speaker"]));
    assert_eq!(ana["external_ref"], "P-1");
    let bo = app.contact(row_id(&report, 1)).await;
    assert_eq!(bo["company_id"], existing_org);
    assert_eq!(bo["status"], "A", "the default status, as a create gives");
    let new_org = app.contact(org).await;
    assert_eq!(new_org["organization_name"], "St. Mary's");
    assert_eq!(new_org["is_organization"], true);
    assert!(
        app.events_of("contact.created")
            .await
            .iter()
            .filter(|e| e["data"]["source"] == "import")
            .count()
            >= 3
    );

    // JSON rows read the same, the address nested; update by id changes only what is given.
    let json_report = import(
        &app,
        json!({"action": "update", "rows": [
            {"id": row_id(&report, 1), "address": {"city": "Hull"}, "renew_months": 12,
             "mail_opt_in": false}
        ]}),
    )
    .await;
    assert_eq!(outcomes(&json_report), ["updated"], "{json_report}");
    let bo = app.contact(row_id(&report, 1)).await;
    assert_eq!(bo["address"]["city"], "Hull");
    assert_eq!(bo["renew_months"], 12);
    assert_eq!(bo["mail_opt_in"], false);
    assert_eq!(bo["first_name"], "Bo");
    assert_eq!(bo["company_id"], existing_org);
    assert_eq!(bo["version"], 2);
}

/// MG-1 bad input: per-row errors name row and column; all-or-nothing writes nothing,
/// row-by-row writes the good rows; whole-file problems are problem+json and write nothing.
#[tokio::test]
async fn mg1_bad_rows_are_named_and_all_or_nothing_writes_nothing() {
    let app = spawn().await;
    app.doctors().await;
    let before = contact_count(&app).await;
    let file = "\
external_ref,customer_type,last_name,company_ref,join_date
A-1,NM,Good,,
A-2,XX,Unknown Type,,
A-3,NM,No Org,ORG-NONE,
A-1,NM,Again,,
A-5,NM,Bad Date,,2023-02-29
A-6,M,No Category,,
";
    let report = csv(&app, "action=insert", file).await.expect(200).body;
    assert_eq!(
        outcomes(&report),
        [
            "not_applied",
            "failed",
            "failed",
            "failed",
            "failed",
            "failed"
        ],
        "{report}"
    );
    assert_eq!(report["applied"], 0);
    assert_eq!(report["failed"], 5);
    assert!(row_errors(&report, 1).contains("customer_type: \"customer type XX does not exist\""));
    assert!(row_errors(&report, 2).contains("company_ref"), "{report}");
    assert!(row_errors(&report, 2).contains("ORG-NONE"), "{report}");
    let again = &report["rows"][3]["error"];
    assert_eq!(again["code"], "conflict", "{report}");
    assert!(
        again["message"].as_str().unwrap_or("").contains("row 4")
            && again["message"].as_str().unwrap_or("").contains("row 1"),
        "{again}"
    );
    assert!(row_errors(&report, 4).starts_with("join_date:"), "{report}");
    assert!(
        row_errors(&report, 5).contains("billing_category"),
        "{report}"
    );
    assert_eq!(contact_count(&app).await, before, "nothing written");

    let report = csv(&app, "action=insert&mode=row_by_row", file)
        .await
        .expect(200)
        .body;
    assert_eq!(report["applied"], 1, "{report}");
    assert_eq!(contact_count(&app).await, before + 1);

    // Whole-file errors: an unknown column, a broken quote, a file that is not UTF-8, no
    // action, the delete action.
    let unknown = csv(&app, "action=insert", "last_name,Nickname\nLee,Al\n")
        .await
        .problem(422, "validation_failed");
    assert!(unknown.text.contains("nickname"), "{}", unknown.text);
    csv(
        &app,
        "action=insert",
        "customer_type,last_name\nNM,\"Lee\nNM,Ng\n",
    )
    .await
    .problem(422, "validation_failed");
    let latin1 = b"customer_type,last_name\nNM,M\xfcller\n".to_vec();
    let res = app
        .send_raw(
            Method::POST,
            "/contacts/import?action=insert",
            &app.staff,
            "text/csv",
            latin1,
        )
        .await
        .problem(422, "validation_failed");
    assert!(res.text.contains("line 2"), "{}", res.text);
    csv(&app, "", "customer_type,last_name\nNM,Lee\n")
        .await
        .problem(422, "validation_failed");
    csv(&app, "action=delete", "id\n1\n")
        .await
        .problem(422, "validation_failed");
    assert_eq!(
        contact_count(&app).await,
        before + 1,
        "nothing more written"
    );
    let member = app.member_token(app.person("NM", "Member").await).await;
    let res = app
        .send_raw(
            Method::POST,
            "/contacts/import?action=insert",
            &member,
            "text/csv",
            "last_name\nX\n",
        )
        .await;
    assert_eq!(res.status, 403);
}

/// MG-2: `insert_with_matching` finds an existing contact by external reference, then e-mail
/// (any letter case), then name and postal code (any case and spacing), updates it and names
/// the key; a row matching nothing makes a new contact; two rows matching one contact are
/// refused.
#[tokio::test]
async fn mg2_insert_with_matching_reports_the_key_that_matched() {
    let app = spawn().await;
    app.doctors().await;
    let by_ref = tests::id(
        &app.create_contact(
            json!({"customer_type": "NM", "last_name": "Ref", "external_ref": "X-1",
            "email": "shared@example.org"}),
        )
        .await,
    );
    let by_email = tests::id(
        &app.create_contact(json!({"customer_type": "NM", "last_name": "Mail",
            "email": "Mail.Person@Example.org"}))
            .await,
    );
    let by_name = tests::id(
        &app.create_contact(
            json!({"customer_type": "NM", "first_name": "Ann", "last_name": "Lee",
            "address": {"postal_code": "K1A 0B1"}}),
        )
        .await,
    );
    let report = import(
        &app,
        json!({"action": "insert_with_matching", "mode": "row_by_row", "rows": [
            {"external_ref": "X-1", "email": "other@example.org", "phone": "555-0101"},
            {"email": "mail.person@EXAMPLE.org", "phone": "555-0102"},
            {"first_name": "ANN", "last_name": "lee", "address": {"postal_code": "k1a0b1"},
             "phone": "555-0103"},
            {"customer_type": "NM", "last_name": "New", "email": "new@example.org"},
            {"email": "MAIL.person@example.org", "phone": "555-0199"},
            {"first_name": "Ann", "last_name": "Lee", "address": {"postal_code": "K1A 0B1"},
             "phone": "555-0103"}
        ]}),
    )
    .await;
    assert_eq!(
        outcomes(&report),
        [
            "updated", "updated", "updated", "inserted", "failed", "failed"
        ],
        "{report}"
    );
    let rows = &report["rows"];
    assert_eq!(rows[0]["matched_by"], "external_ref");
    assert_eq!(rows[0]["id"], by_ref);
    assert_eq!(rows[1]["matched_by"], "email");
    assert_eq!(rows[1]["id"], by_email);
    assert_eq!(rows[2]["matched_by"], "name_postal_code");
    assert_eq!(rows[2]["id"], by_name);
    assert!(rows[3].get("matched_by").is_none(), "{report}");
    assert!(
        rows[4]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("row 2"),
        "{report}"
    );
    assert_eq!(app.contact(by_ref).await["email"], "other@example.org");
    assert_eq!(app.contact(by_email).await["phone"], "555-0102");
    let ann = app.contact(by_name).await;
    assert_eq!(ann["phone"], "555-0103");
    assert_eq!(ann["first_name"], "ANN", "the row's fields are written");
    let new = app.contact(row_id(&report, 3)).await;
    assert_eq!(new["last_name"], "New");

    // Unchanged values are reported as such and write nothing.
    let again = import(
        &app,
        json!({"action": "insert_with_matching", "rows": [
            {"external_ref": "X-1", "phone": "555-0101"}
        ]}),
    )
    .await;
    assert_eq!(outcomes(&again), ["unchanged"], "{again}");
    assert_eq!(app.contact(by_ref).await["version"], 2);
}

/// MG-3: past terms from another system enter the ledger marked imported: the contact's
/// history shows them with their gaps (whatever order the file lists them in), a lapsed one
/// is a previous member (L-2), and the counts at a past date see who was a member then.
/// Importing the same file again changes nothing.
#[tokio::test]
async fn mg3_imported_history_makes_previous_members_gaps_and_counts_at_a_date() {
    let app = spawn().await;
    app.doctors().await;
    let contacts = csv(
        &app,
        "action=insert",
        "external_ref,customer_type,billing_category,last_name,join_date\n\
         P-1,NM,,Lapsed,2015-01-01\n\
         P-2,M,REG,Current,2016-02-29\n\
         P-3,NM,,Never,\n",
    )
    .await
    .expect(200)
    .body;
    let [lapsed, current, never] = [0, 1, 2].map(|i| row_id(&contacts, i));
    let history = "contact_ref,begin,end,customer_type,product,amount\n\
                   P-1,2018-01-01,2019-12-31,M,MDUES,900.00\n\
                   P-1,2015-01-01,2015-12-31,M,MDUES,450.00\n\
                   P-1,2016-01-01,2016-12-31,M,MDUES,450.00\n\
                   P-2,2016-02-29,2027-02-28,M,MDUES,\n";
    let report = app
        .post_csv("/contacts/import-history", history)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&report), ["inserted"; 4], "{report}");
    let again = app
        .post_csv("/contacts/import-history", history)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&again), ["unchanged"; 4], "{again}");
    assert_eq!(again["rows"][0]["id"], report["rows"][0]["id"]);

    let terms: Vec<Value> = app
        .history(lapsed)
        .await
        .into_iter()
        .filter(|h| h["kind"] == "term")
        .collect();
    assert_eq!(terms.len(), 3, "{terms:?}");
    let gap_of = |begin: &str| {
        terms
            .iter()
            .find(|t| t["term_begin"] == begin)
            .map(|t| t["gap_before"].clone())
            .expect("term")
    };
    assert_eq!(
        gap_of("2018-01-01"),
        json!({"begin": "2017-01-01", "end": "2017-12-31", "days": 365})
    );
    assert!(gap_of("2015-01-01").is_null());
    assert!(gap_of("2016-01-01").is_null());

    let previous: Vec<i64> = app
        .all("/contacts?previous_member=true")
        .await
        .iter()
        .map(tests::id)
        .collect();
    assert_eq!(previous, vec![lapsed]);

    let counts = |as_of: &'static str| {
        let app = &app;
        async move {
            app.get(
                &format!("/reports/membership-counts?as_of={as_of}"),
                &app.staff,
            )
            .await
            .expect(200)
            .body
        }
    };
    let in_2019 = counts("2019-06-30").await;
    assert_eq!(
        (in_2019["members"].clone(), in_2019["non_members"].clone()),
        (json!(2), json!(0)),
        "{in_2019}"
    );
    let in_2017 = counts("2017-06-30").await;
    assert_eq!(
        (in_2017["members"].clone(), in_2017["non_members"].clone()),
        (json!(1), json!(1)),
        "{in_2017}"
    );
    let in_2014 = counts("2014-06-30").await;
    assert_eq!(in_2014["total"], 0, "{in_2014}");
    let today = counts("2999-01-01").await;
    assert_eq!(
        (today["members"].clone(), today["total"].clone()),
        (json!(1), json!(3))
    );
    let _ = never;

    // Bad rows: a term that ends before it begins, an unknown contact, type or product, a
    // repeated term; all-or-nothing writes none of the good one.
    let bad = app
        .post(
            "/contacts/import-history",
            &app.staff,
            json!({"rows": [
                {"contact_ref": "P-3", "begin": "2010-01-01", "end": "2010-12-31", "customer_type": "M"},
                {"contact_ref": "P-3", "begin": "2012-01-01", "end": "2011-12-31", "customer_type": "M"},
                {"contact_ref": "P-404", "begin": "2012-01-01", "end": "2012-12-31", "customer_type": "M"},
                {"contact_id": current, "begin": "2012-01-01", "end": "2012-12-31", "customer_type": "ZZ",
                 "product": "NOPE"},
                {"contact_ref": "P-3", "begin": "2010-01-01", "end": "2010-12-31", "customer_type": "M"}
            ]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        outcomes(&bad),
        ["not_applied", "failed", "failed", "failed", "failed"],
        "{bad}"
    );
    assert!(row_errors(&bad, 1).starts_with("end:"), "{bad}");
    assert!(row_errors(&bad, 2).contains("P-404"), "{bad}");
    let both = row_errors(&bad, 3);
    assert!(
        both.contains("customer_type") && both.contains("product"),
        "{both}"
    );
    assert!(
        bad["rows"][4]["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("row 1")
    );
    assert!(app.history(never).await.is_empty(), "nothing written");
    app.post_csv(
        "/contacts/import-history",
        "contact_ref,begin\nP-3,2010-01-01\n",
    )
    .await
    .problem(422, "validation_failed");
}

/// MG-4: contacts and subscriptions export as CSV and import back with `upsert`: the file as
/// exported changes nothing; with three rows edited, exactly those three change (their
/// `updated_at`, their events), and nothing else.
#[tokio::test]
async fn mg4_contacts_and_subscriptions_round_trip_changing_only_edited_rows() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    let org = tests::id(
        &app.create_contact(
            json!({"customer_type": "HOSP", "organization_name": "=General",
            "external_ref": "ORG-1", "address": {"line1": "1 Main St", "city": "Ottawa",
            "postal_code": "K1A 0B1", "country": "CA"}}),
        )
        .await,
    );
    for i in 0..5 {
        let c = tests::id(
            &app.create_contact(
                json!({"customer_type": "NM", "first_name": format!("First{i}"),
                "last_name": format!("Last{i}"), "email": format!("p{i}@example.org"),
                "phone": format!("555-010{i}"), "tags": ["volunteer", format!("t{i}")],
                "company_id": if i % 2 == 0 { json!(org) } else { Value::Null },
                "address": {"city": "Hull", "region": "QC"}, "ballot_preference": "paper"}),
            )
            .await,
        );
        app.subscribe(
            json!({"contact_id": c, "product": "JOURNAL", "source_code": format!("src{i}"),
            "begin_date": "2026-01-01", "paid_through": "2026-12-31"}),
        )
        .await;
        app.subscribe(json!({"contact_id": c, "product": "CHAPT/EAST"}))
            .await;
    }
    let contacts_csv = app.export_csv("/contacts").await;
    let subscriptions_csv = app.export_csv("/subscriptions").await;
    assert!(contacts_csv.contains("'=General"), "{contacts_csv}");
    let contacts_before = app.stamps("/contacts").await;
    let subscriptions_before = app.stamps("/subscriptions").await;
    let updated_events = app.events_of("contact.updated").await.len();

    // As exported: nothing changes.
    let same = csv(&app, "action=upsert", &contacts_csv)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&same), ["unchanged"; 6], "{same}");
    assert!(
        same["ignored_columns"]
            .as_array()
            .is_some_and(|c| c.contains(&json!("updated_at")))
    );
    let same = app
        .post_csv("/subscriptions/import?action=upsert", &subscriptions_csv)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&same), ["unchanged"; 10], "{same}");
    assert_eq!(app.stamps("/contacts").await, contacts_before);
    assert_eq!(app.stamps("/subscriptions").await, subscriptions_before);

    // Three rows edited in each file: exactly those change.
    let edited = contacts_csv
        .replace("555-0101", "555-9101")
        .replace("t2;volunteer", "t2")
        .replace("First4", "Fourth");
    let report = csv(&app, "action=upsert", &edited).await.expect(200).body;
    let changed = updated_ids(&report);
    assert_eq!(changed.len(), 3, "{report}");
    let after = app.stamps("/contacts").await;
    for ((id, before), (_, now)) in contacts_before.iter().zip(&after) {
        assert_eq!(before == now, !changed.contains(id), "contact {id}");
    }
    let events = app.events_of("contact.updated").await;
    assert_eq!(events.len(), updated_events + 3);
    assert_eq!(app.contact(changed[1]).await["tags"], json!(["t2"]));
    assert_eq!(app.contact(org).await["organization_name"], "=General");

    let edited = subscriptions_csv
        .replace("src1", "src1b")
        .replace("src3", "legacy")
        .replace("src4", "src4b");
    let report = app
        .post_csv("/subscriptions/import?action=upsert", &edited)
        .await
        .expect(200)
        .body;
    let changed = updated_ids(&report);
    assert_eq!(changed.len(), 3, "{report}");
    let after = app.stamps("/subscriptions").await;
    for ((id, before), (_, now)) in subscriptions_before.iter().zip(&after) {
        assert_eq!(before == now, !changed.contains(id), "subscription {id}");
    }
}

/// MG-4: reference data (products, pricing rules, customer types, billing categories, billing
/// cycles) exports as CSV and imports back with `upsert`: the files as exported change
/// nothing; an edited row changes only its item, a new row makes one; a row that fails keeps
/// the whole file out in all-or-nothing mode.
#[tokio::test]
async fn mg4_reference_data_round_trips_through_csv() {
    let app = spawn().await;
    app.doctors_with_subscription_products().await;
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "450.00", "billing_category": "FYEAR"}),
    )
    .await
    .expect(201);
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "JOURNAL", "price": "30.00", "customer_type": "M"}),
    )
    .await
    .expect(201);
    app.create_cycle(
        json!({"name": "Annual", "customer_types": ["M"], "products": ["JOURNAL"],
        "proration_rules": [{"join_month": 7, "fraction": "0.50"}]}),
    )
    .await;
    let collections = [
        ("/products", "code"),
        ("/pricing-rules", "id"),
        ("/customer-types", "code"),
        ("/billing-categories", "code"),
        ("/billing-cycles", "id"),
    ];
    let mut files = Vec::new();
    for (path, _) in collections {
        let file = app.export_csv(path).await;
        let same = app
            .post_csv(&format!("{path}/import?action=upsert"), &file)
            .await
            .expect(200)
            .body;
        let n = app.all(path).await.len();
        assert!(n >= 1, "{path}");
        assert_eq!(outcomes(&same), vec!["unchanged"; n], "{path}: {same}");
        files.push(file);
    }

    let stamp = |items: Vec<Value>, key: &str| -> Vec<(String, Value)> {
        items
            .iter()
            .map(|i| (i[key].to_string(), i["updated_at"].clone()))
            .collect()
    };
    let before: Vec<Vec<(String, Value)>> = {
        let mut v = Vec::new();
        for (path, key) in collections {
            v.push(stamp(app.all(path).await, key));
        }
        v
    };
    // A new product, its cells under the export's own header.
    let header: Vec<&str> = files[0].lines().next().unwrap_or("").split(',').collect();
    let news: Vec<&str> = header
        .iter()
        .map(|h| match *h {
            "code" => "NEWS",
            "name" => "Newsletter",
            "product_type" => "subscription",
            "price" => "12.00",
            _ => "",
        })
        .collect();
    let edits = [
        (
            files[0].replace("500.00", "525.00") + &news.join(",") + "\n",
            2,
        ),
        (files[1].replace("450.00", "425.00"), 1),
        (files[2].replace("Hospital", "Hospital or clinic"), 1),
        (files[3].replace("\nINTL,INTL,", "\nINTL,International,"), 1),
        (files[4].replace("\"0.50\"", "\"0.60\""), 1),
    ];
    for (i, (file, expected)) in edits.iter().enumerate() {
        let path = collections[i].0;
        let report = app
            .post_csv(&format!("{path}/import?action=upsert"), file)
            .await
            .expect(200)
            .body;
        let written = outcomes(&report)
            .iter()
            .filter(|o| **o != "unchanged")
            .count();
        assert_eq!(written, *expected, "{path}: {report}");
        let after = stamp(app.all(path).await, collections[i].1);
        let changed = before[i].iter().filter(|b| !after.contains(b)).count();
        assert_eq!(changed, 1, "{path}: only the edited item changed");
    }
    assert_eq!(
        app.get("/products/NEWS", &app.staff).await.expect(200).body["price"],
        "12.00"
    );
    let cycle = &app.all("/billing-cycles").await[0];
    assert_eq!(cycle["proration_rules"][0]["fraction"], "0.60", "{cycle}");

    // All-or-nothing: an edited row beside a failing one is not kept.
    let file = app.export_csv("/products").await;
    let bad = file.replace("525.00", "550.00").replace(
        "Newsletter,subscription,12.00",
        "Newsletter,subscription,12.001",
    );
    let report = app
        .post_csv("/products/import?action=upsert", &bad)
        .await
        .expect(200)
        .body;
    assert_eq!(report["applied"], 0, "{report}");
    assert_eq!(report["failed"], 1, "{report}");
    assert_eq!(
        app.get("/products/MDUES", &app.staff).await.body["price"],
        "525.00"
    );
    app.post_csv("/products/import?action=upsert", "code,colour\nMDUES,red\n")
        .await
        .problem(422, "validation_failed");
    app.post_csv("/products/import", &file)
        .await
        .problem(422, "validation_failed");
}

/// MG-1: an XLSX workbook from another system imports like its CSV: its header mapped, its
/// date cells read as dates.
#[tokio::test]
async fn mg1_an_xlsx_workbook_of_contacts_imports_with_its_columns_mapped() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let app = spawn().await;
    app.doctors().await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (col, name) in ["Member No", "Surname", "Type", "Joined"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *name).expect("header");
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let joined = ExcelDateTime::from_ymd(2008, 2, 29).expect("date");
    sheet.write_number(1, 0, 1017.0).expect("cell");
    sheet.write_string(1, 1, "Okafor").expect("cell");
    sheet.write_string(1, 2, "NM").expect("cell");
    sheet
        .write_datetime_with_format(1, 3, &joined, &date)
        .expect("cell");
    let bytes = book.save_to_buffer().expect("workbook");
    let report = app
        .send_raw(
            Method::POST,
            "/contacts/import?action=insert&map=Member%20No:external_ref,Surname:last_name,Type:customer_type,Joined:join_date",
            &app.staff,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&report), ["inserted"], "{report}");
    let c = app.contact(row_id(&report, 0)).await;
    assert_eq!(c["external_ref"], "1017");
    assert_eq!(c["join_date"], "2008-02-29");
    assert_eq!(c["last_name"], "Okafor");
}

/// MG-4: the term ledger exports as CSV (`GET /contacts/history`) in the columns the history
/// import takes, and imports back: as exported every row is `unchanged`; with three imported
/// terms edited, exactly those three change; a billed term changes only through its invoice,
/// and the columns the server sets must agree.
#[tokio::test]
async fn mg4_the_history_ledger_round_trips_changing_only_edited_terms() {
    let app = spawn().await;
    app.doctors_with_join_cycle("JOIN").await;
    let contacts = csv(
        &app,
        "action=insert",
        "external_ref,customer_type,billing_category,last_name\n\
         P-1,NM,,Lapsed\n\
         P-2,NM,REG,Joined\n",
    )
    .await
    .expect(200)
    .body;
    let [lapsed, joined] = [0, 1].map(|i| row_id(&contacts, i));
    app.join_and_pay(joined, "JOIN", "2026-01-01", "2026-01-02")
        .await;
    app.post_csv(
        "/contacts/import-history",
        "contact_ref,begin,end,customer_type,product,amount\n\
         P-1,2015-01-01,2015-12-31,M,MDUES,450.00\n\
         P-1,2016-01-01,2016-12-31,M,MDUES,450.00\n\
         P-1,2018-01-01,2019-12-31,M,MDUES,900.00\n\
         P-2,2020-01-01,2020-12-31,M,,\n",
    )
    .await
    .expect(200);

    let ledger = app.export_csv("/contacts/history").await;
    let mut lines = ledger.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,contact_id,contact_ref,begin,end,customer_type,product,amount,imported,invoice_id"
        ),
        "{ledger}"
    );
    assert_eq!(lines.count(), 5, "{ledger}");
    let before = app.all("/contacts/history").await;
    let billed: Vec<&Value> = before.iter().filter(|t| t["imported"] == false).collect();
    assert_eq!(billed.len(), 1, "{before:?}");
    assert_eq!(billed[0]["contact_id"], joined);
    assert!(billed[0]["invoice_id"].as_i64().is_some());
    let only_billed = app.all("/contacts/history?imported=false").await;
    assert_eq!(only_billed.len(), 1);
    assert_eq!(
        app.all(&format!("/contacts/history?contact_id={lapsed}"))
            .await
            .len(),
        3
    );

    // As exported: nothing changes.
    let same = app
        .post_csv("/contacts/import-history?action=upsert", &ledger)
        .await
        .expect(200)
        .body;
    assert_eq!(outcomes(&same), ["unchanged"; 5], "{same}");
    assert_eq!(app.all("/contacts/history").await, before);

    // Three imported terms edited: exactly those change, and the gaps follow.
    let edited = ledger
        .replace("2015-01-01,2015-12-31", "2015-01-01,2015-11-30")
        .replace("2016-12-31,M,MDUES,450.00", "2016-12-31,M,MDUES,400.00")
        .replace("900.00", "950.00");
    let report = app
        .post_csv("/contacts/import-history?action=upsert", &edited)
        .await
        .expect(200)
        .body;
    let changed = updated_ids(&report);
    assert_eq!(changed.len(), 3, "{report}");
    let after = app.all("/contacts/history").await;
    for (was, now) in before.iter().zip(&after) {
        let id = tests::id(was);
        assert_eq!(was == now, !changed.contains(&id), "term {id}: {now}");
    }
    let amounts: Vec<&Value> = after.iter().map(|t| &t["amount"]).collect();
    assert_eq!(amounts.iter().filter(|a| **a == "400.00").count(), 1);
    assert_eq!(amounts.iter().filter(|a| **a == "950.00").count(), 1);
    let gap = app
        .history(lapsed)
        .await
        .into_iter()
        .find(|h| h["term_begin"] == "2016-01-01")
        .map(|h| h["gap_before"].clone());
    assert_eq!(
        gap,
        Some(json!({"begin": "2015-12-01", "end": "2015-12-31", "days": 31}))
    );

    // A billed term changes only through its invoice; the server's columns must agree; a
    // changed row with action=insert is refused. All-or-nothing: nothing else is written.
    let id_of = |t: &Value| tests::id(t);
    let billed_id = id_of(billed[0]);
    let imported_id = changed[0];
    let bad = app
        .post(
            "/contacts/import-history?action=upsert",
            &app.staff,
            json!({"action": "upsert", "rows": [
                {"id": billed_id, "contact_id": joined, "begin": "2026-01-01",
                 "end": "2030-12-31", "customer_type": "M", "product": "MDUES"},
                {"id": imported_id, "contact_ref": "P-1", "begin": "2015-01-01",
                 "end": "2015-11-30", "customer_type": "M", "product": "MDUES",
                 "amount": "450.00", "imported": false},
                {"id": imported_id, "contact_ref": "P-2", "begin": "2015-01-01",
                 "end": "2015-06-30", "customer_type": "M", "product": "MDUES"},
                {"id": 999_999, "contact_ref": "P-1", "begin": "2001-01-01",
                 "end": "2001-12-31", "customer_type": "M"},
                {"contact_ref": "P-1", "begin": "2002-01-01", "end": "2002-12-31",
                 "customer_type": "M"}
            ]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        outcomes(&bad),
        ["failed", "failed", "failed", "failed", "not_applied"],
        "{bad}"
    );
    let billed_error = row_errors(&bad, 0);
    assert!(
        billed_error.starts_with("end:") && billed_error.contains("invoice"),
        "{billed_error}"
    );
    assert!(row_errors(&bad, 1).starts_with("imported:"), "{bad}");
    assert!(row_errors(&bad, 2).starts_with("contact_ref:"), "{bad}");
    assert!(row_errors(&bad, 3).starts_with("id:"), "{bad}");
    let insert = app
        .post_csv("/contacts/import-history?action=insert", &ledger)
        .await
        .expect(200)
        .body;
    assert_eq!(insert["failed"], 3, "{insert}");
    assert!(row_errors(&insert, 1).contains("upsert"), "{insert}");
    assert_eq!(app.all("/contacts/history").await, after);
}
