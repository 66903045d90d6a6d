//! `ams demo-data`: the worked examples load through the service layer (E-1..E-5).

use serde_json::Value;
use service::demo::{Example, load};
use tests::spawn;

#[tokio::test]
async fn e1_doctors_association_loads() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::Doctors).await.expect("load");
    assert_eq!(loaded.contacts, 6);
    let members = app
        .get("/contacts?is_member=true", &app.staff)
        .await
        .expect(200);
    let cats: Vec<&str> = members.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["billing_category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, vec!["REG", "FYEAR", "INTL"]);
    // A second load into the same database is refused: each example is its own association.
    assert!(load(&app.db, Example::Colleges).await.is_err());
}

/// S-10: in the doctors' association a hospital pays one of its doctors' dues: the
/// subscription bills the hospital, and a renewal run invoices the hospital for it.
#[tokio::test]
async fn s10_e1_a_hospital_pays_its_doctors_dues() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::Doctors).await.expect("load");
    assert_eq!(loaded.subscriptions, 3);
    let hospitals = app.items("/contacts?customer_type=HOSP").await;
    let mary = hospitals
        .iter()
        .find(|h| h["organization_name"] == "St. Mary's Hospital")
        .and_then(|h| h["id"].as_i64())
        .expect("St. Mary's");
    let paid_for = app
        .items(&format!("/subscriptions?bill_to_id={mary}"))
        .await;
    assert_eq!(paid_for.len(), 1);
    let ben = app
        .contact(paid_for[0]["contact_id"].as_i64().expect("holder"))
        .await;
    assert_eq!(ben["last_name"], "Okafor");
    app.post(
        "/billing-cycles",
        &app.staff,
        serde_json::json!({"name": "Renewals", "customer_types": ["M"]}),
    )
    .await
    .expect(201);
    let run = app
        .post(
            "/renewal-runs",
            &app.staff,
            serde_json::json!({"billing_cycle": "Renewals", "effective_date": "2027-01-01"}),
        )
        .await
        .expect(201);
    let invoices = app
        .items(&format!("/invoices?renewal_run={}", run.body["id"]))
        .await;
    let to_mary: Vec<&Value> = invoices
        .iter()
        .filter(|i| i["bill_to_id"] == mary)
        .collect();
    assert_eq!(to_mary.len(), 1);
    assert_eq!(to_mary[0]["contact_id"], ben["id"]);
}

/// C-8: the doctors' association has a board with a chair, a treasurer and a member today,
/// and a member whose term is history.
#[tokio::test]
async fn c8_e1_doctors_association_has_a_board_with_a_chair() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::Doctors).await.expect("load");
    assert_eq!(loaded.committees, 1);
    let committees = app.items("/committees").await;
    assert_eq!(committees.len(), 1);
    assert_eq!(committees[0]["name"], "Board of Directors");
    assert_eq!(committees[0]["kind"], "board");
    let board = committees[0]["id"].as_i64().expect("id");
    let roster: Vec<(String, String)> = app
        .items(&format!("/committees/{board}/members"))
        .await
        .iter()
        .map(|t| {
            (
                t["contact_name"].as_str().unwrap_or_default().to_owned(),
                t["position"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roster,
        [
            ("Ana Silva".to_owned(), "chair".to_owned()),
            ("Ben Okafor".to_owned(), "treasurer".to_owned()),
            ("Chen Wei".to_owned(), "member".to_owned()),
        ]
    );
    let dana = contact_id(&app, "Dana").await;
    let service = app.items(&format!("/contacts/{dana}/committees")).await;
    assert_eq!(service.len(), 1);
    assert_eq!(service[0]["current"], false);
    assert_eq!(service[0]["end"], "2024-12-31");
}

#[tokio::test]
async fn e2_college_association_flows_member_benefits_down_to_staff() {
    let app = spawn().await;
    load(&app.db, Example::Colleges).await.expect("load");
    let persons = app
        .get("/contacts?q=a&limit=200", &app.staff)
        .await
        .expect(200);
    let types: Vec<(String, String)> = persons.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["is_organization"] == Value::Bool(false))
        .map(|c| {
            (
                c["last_name"].as_str().unwrap().to_owned(),
                c["customer_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (name, ty) in &types {
        let expected = if name == "Berg" { "NMIND" } else { "MIND" };
        assert_eq!(ty, expected, "{name}");
    }
    assert_eq!(types.len(), 4);
}

#[tokio::test]
async fn e1_category_prices_are_pricing_rules_p3() {
    let app = spawn().await;
    load(&app.db, Example::Doctors).await.expect("load");
    let members = app
        .get("/contacts?is_member=true", &app.staff)
        .await
        .expect(200);
    for c in members.body["items"].as_array().unwrap() {
        let expected = match c["billing_category"].as_str().unwrap() {
            "REG" => "500.00",
            "FYEAR" => "100.00",
            "INTL" => "200.00",
            other => panic!("unexpected category {other}"),
        };
        let p = app
            .get(
                &format!("/products/MDUES/price?contact_id={}", c["id"]),
                &app.staff,
            )
            .await
            .expect(200);
        assert_eq!(p.body["price"], expected, "{}", p.text);
        assert!(p.body["rule"]["id"].is_i64());
    }
}

#[tokio::test]
async fn e2_category_prices_are_pricing_rules_p3() {
    let app = spawn().await;
    load(&app.db, Example::Colleges).await.expect("load");
    let rules = app
        .get("/pricing-rules?product=CDUES", &app.staff)
        .await
        .expect(200);
    let prices: Vec<(&str, &str)> = rules.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["billing_category"].as_str().unwrap(),
                r["price"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        prices,
        vec![("RES", "500.00"), ("LA", "300.00"), ("CC", "200.00")]
    );
}

async fn contact_id(app: &tests::TestApp, first_name: &str) -> i64 {
    let r = app
        .get(&format!("/contacts?q={first_name}"), &app.staff)
        .await
        .expect(200);
    let items = r.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{first_name}: {}", r.text);
    items[0]["id"].as_i64().unwrap()
}

/// E-5: the library association loads its 900+ rules (P-3) and prices by type, category,
/// bundle and consortium membership.
#[tokio::test]
async fn e5_library_association_prices_divisions_and_sections_by_rule() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::Library).await.expect("load");
    assert!(loaded.pricing_rules >= 900, "{}", loaded.pricing_rules);
    assert_eq!(loaded.subscriptions, 360);
    // Every rule is there, read back through the API page by page.
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/pricing-rules?limit=200&cursor={c}"),
            None => "/pricing-rules?limit=200".to_owned(),
        };
        let page = app.get(&path, &app.staff).await.expect(200);
        count += page.body["items"].as_array().unwrap().len();
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(count, loaded.pricing_rules);

    let price = |contact: i64, product: &'static str, with: &'static str| {
        let app = &app;
        async move {
            app.get(
                &format!(
                    "/products/{product}/price?contact_id={contact}&as_of=2026-06-01&with={with}"
                ),
                &app.staff,
            )
            .await
            .expect(200)
            .body
        }
    };
    // A student: a section with its division on the invoice is free, alone it is not.
    let student = contact_id(&app, "member001").await;
    assert_eq!(
        price(student, "SEC_ACRL_1", "DIV_ACRL").await["price"],
        "0.00"
    );
    assert_eq!(price(student, "SEC_ACRL_1", "").await["price"], "5.00");
    // A first-year regular member pays 70 % of the division price.
    let first_year = contact_id(&app, "member004").await;
    assert_eq!(price(first_year, "DIV_ASCLA", "").await["price"], "42.00");
    // A regular member in the consortium gets its flat price, which outranks the category.
    let consortium = contact_id(&app, "member000").await;
    let p = price(consortium, "DIV_AASL", "").await;
    assert_eq!(p["price"], "40.00");
    assert_eq!(p["rule"]["pricing_group"], "CONSORT");
    // Members hold their dues as membership components: paid-through follows (C-7).
    let c = app
        .get(&format!("/contacts/{consortium}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(c.body["paid_through"], "2025-12-31");
}

async fn invoices_of(app: &tests::TestApp, contact: i64) -> Vec<Value> {
    app.items(&format!("/contacts/{contact}/invoices")).await
}

fn amounts(invoice: &Value) -> Vec<(String, String)> {
    invoice["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["product"].as_str().unwrap().to_owned(),
                l["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// E-3: multi-year associate memberships (CT-3 formula, J-2, T-2, T-4, P-5).
#[tokio::test]
async fn e3_multi_year_memberships_scale_add_ons_and_tax_lines() {
    let app = spawn().await;
    let loaded = load(&app.db, Example::MultiYear).await.expect("load");
    assert_eq!(loaded.invoices, 4);
    let bruno = contact_id(&app, "bruno").await;
    let inv = invoices_of(&app, bruno).await;
    assert_eq!(inv.len(), 1);
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        amounts(&inv[0]),
        vec![
            s("AM_2", "190.00"),
            s("AM_2_GST", "9.50"),
            s("JOURNAL", "80.00"),
            s("SCHOLARSHIP", "50.00")
        ]
    );
    assert_eq!(inv[0]["status"], "paid");
    let c = app
        .get(&format!("/contacts/{bruno}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(c.body["customer_type"], "AM");
    assert_eq!(c.body["renew_months"], 24);
    assert_eq!(c.body["paid_through"], "2028-03-14");
    // Dev has not paid: still a non-member with an open invoice (J-5).
    let dev = contact_id(&app, "dev").await;
    let c = app
        .get(&format!("/contacts/{dev}"), &app.staff)
        .await
        .expect(200);
    assert_eq!(c.body["customer_type"], "NM");
    assert_eq!(invoices_of(&app, dev).await[0]["status"], "open");
}

/// E-4: J-4's example both ways.
#[tokio::test]
async fn e4_rejoin_window_renews_inside_and_joins_outside() {
    let app = spawn().await;
    load(&app.db, Example::Rejoin).await.expect("load");
    let elena = contact_id(&app, "elena").await;
    let inside = &invoices_of(&app, elena).await[0];
    assert_eq!(inside["treated_as"], "renewal");
    assert_eq!(inside["term_begin"], "2021-01-01");
    assert_eq!(inside["term_end"], "2021-12-31");
    assert_eq!(inside["total"], "500.00");
    let femi = contact_id(&app, "femi").await;
    let outside = &invoices_of(&app, femi).await[0];
    assert_eq!(outside["treated_as"], "join");
    assert_eq!(outside["term_begin"], "2021-04-01");
    assert_eq!(outside["term_end"], "2021-12-31");
    assert_eq!(outside["total"], "375.00");
}

/// `ams demo-data --members N`: generated members keep C-7 (a contact's paid-through is its
/// dues subscription's), hold a journal and a chapter, and the catalogue has 1,000 rules.
#[tokio::test]
async fn generated_members_are_consistent_and_priced_by_1000_rules() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn().await;
    let opts = service::demo::members::Options {
        persons: 3_000,
        seed: 7,
        all_members: false,
    };
    let g = service::demo::members::generate(&app.db, opts, &|_, _| {})
        .await
        .expect("generate");
    assert_eq!(g.pricing_rules, 1_000);
    assert_eq!(g.organizations, 30);
    assert_eq!(g.contacts, 3_000 + 30 + 6);
    assert!((2_200..2_600).contains(&g.members), "{g:?}");
    let count = |sql: &'static str| {
        let app = &app;
        async move {
            let backend = app.db.conn.get_database_backend();
            let row = app
                .db
                .conn
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .expect("query")
                .expect("row");
            row.try_get_by_index::<i64>(0).expect("count")
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM pricing_rules").await, 1_000);
    assert_eq!(
        count("SELECT COUNT(*) FROM subscriptions").await,
        g.subscriptions as i64
    );
    // C-7: no contact's paid-through differs from its membership subscription's.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contacts c JOIN subscriptions s ON s.contact_id = c.id \
             AND s.is_membership_component = TRUE WHERE c.paid_through <> s.paid_through"
        )
        .await,
        0
    );
    // Every member holds dues, the journal and a chapter.
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM contacts c WHERE c.customer_type = 'M' AND c.last_name LIKE '%-%' \
             AND (SELECT COUNT(*) FROM subscriptions s WHERE s.contact_id = c.id) <> 3"
        )
        .await,
        0
    );
    // A generated member is priced like any other: a chapter rule decides.
    let page = app
        .get(
            "/contacts?customer_type=M&billing_category=REG&limit=200",
            &app.staff,
        )
        .await
        .expect(200);
    let m = page.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["primary_chapter"].is_string()))
        .cloned()
        .expect("a generated member");
    let chapter = m["primary_chapter"]
        .as_str()
        .expect("chapter")
        .replace('/', "%2F");
    let price = app
        .get(
            &format!(
                "/products/{chapter}/price?contact_id={}&as_of=2026-06-01",
                m["id"]
            ),
            &app.staff,
        )
        .await
        .expect(200);
    assert!(price.body["rule"].is_object(), "{}", price.text);
}
