//! Hardening: what an attack on the running server found, each attack reproduced and refused
//! without a change (SEC-1, SEC-3..SEC-8), on SQLite and PostgreSQL.

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, error_fields, spawn, spawn_with, today};

const JOIN_CYCLE: &str = "Member join";

/// E-1 with anniversary billing, a journal, and a join cycle for `M` offering `gifts`
/// voluntary add-ons (`GIFT1`, `GIFT2`, ...).
async fn setup(app: &TestApp, gifts: usize) -> Vec<String> {
    app.doctors().await;
    app.set_settings(json!({"default_billing_time": "anniversary"}))
        .await;
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let gifts: Vec<String> = (1..=gifts).map(|n| format!("GIFT{n}")).collect();
    for g in &gifts {
        app.create_product(g, "voluntary", "10.00").await;
    }
    let mut products = vec!["JOURNAL".to_owned()];
    products.extend(gifts.iter().cloned());
    app.create_cycle(
        json!({"name": JOIN_CYCLE, "customer_types": ["M"], "products": products,
        "join_item_set": true}),
    )
    .await;
    gifts
}

async fn invoices_of(app: &TestApp, contact: i64) -> Vec<Value> {
    app.items(&format!("/invoices?contact_id={contact}")).await
}

// ---------------------------------------------------------------- SEC-3

#[tokio::test]
async fn sec3_huge_voluntary_amounts_are_refused_not_wrapped_into_a_free_membership() {
    let app = spawn().await;
    setup(&app, 2).await;
    let me = app.person("NM", "Wrap").await;
    let token = app.member_token(me).await;
    let attacks = [
        // Together they pass 64 bits and once wrapped to a total of 0.00.
        json!({"GIFT1": "92233720368547758.07", "GIFT2": "92233720368547258.09"}),
        // Alone it once made the total negative.
        json!({"GIFT1": "92233720368547758.07"}),
        json!({"GIFT1": 9.223_372_036_854_776e16}),
        json!({"GIFT1": "100000000.00"}),
    ];
    for voluntary in attacks {
        for dry_run in [false, true] {
            let r = app
                .post(
                    "/me/join",
                    &token,
                    json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG",
                        "add_ons": ["GIFT1", "GIFT2"], "voluntary": voluntary, "dry_run": dry_run}),
                )
                .await
                .problem(422, "validation_failed");
            assert!(
                error_fields(&r).iter().any(|f| f.starts_with("voluntary")),
                "{}",
                r.text
            );
        }
    }
    // Nothing was billed and the contact is no member.
    assert!(invoices_of(&app, me).await.is_empty());
    let c = app.contact(me).await;
    assert_eq!(c["customer_type"], "NM");
    assert!(c["paid_through"].is_null());
}

#[tokio::test]
async fn sec3_an_invoice_total_past_the_bound_is_refused_even_from_bounded_amounts() {
    let app = spawn().await;
    let gifts = setup(&app, 11).await;
    let c = app.person("NM", "Generous").await;
    // Eleven amounts of the largest size add up past 999,999,999.99.
    let voluntary: serde_json::Map<String, Value> = gifts
        .iter()
        .map(|g| (g.clone(), json!("99999999.99")))
        .collect();
    for dry_run in [true, false] {
        let r = app
            .post(
                &format!("/contacts/{c}/join"),
                &app.staff,
                json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "add_ons": gifts,
                    "voluntary": voluntary, "dry_run": dry_run}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["total"], "{}", r.text);
    }
    assert!(invoices_of(&app, c).await.is_empty());
    // The largest amount itself is taken, and the total is the exact sum of the lines.
    let r = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "add_ons": ["GIFT1"],
                "voluntary": {"GIFT1": "99999999.99"}}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["total"], "100000499.99", "{}", r.text);
    assert_eq!(r.body["status"], "open");
}

#[tokio::test]
async fn sec3_itemized_renewals_are_bounded_like_joins() {
    let app = spawn().await;
    let gifts = setup(&app, 11).await;
    let cycle = app
        .create_cycle(
            json!({"name": "Itemized", "customer_types": ["M"], "products": gifts,
            "itemized_renewals": true}),
        )
        .await;
    let c = app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Ida", "last_name": "Items"}))
        .await["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/subscriptions",
        &app.staff,
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "bill_subscription": true, "paid_through": "2026-12-31"}),
    )
    .await
    .expect(201);
    app.post(
        "/renewal-runs",
        &app.staff,
        json!({"billing_cycle": cycle, "effective_date": "2027-01-01", "dry_run": false}),
    )
    .await
    .expect(201);
    let me = app.member_token(c).await;
    let before = app.get("/me/renewal", &me).await.expect(200).body["invoice"].clone();
    let r = app
        .post(
            "/me/renewal",
            &me,
            json!({"add_ons": ["GIFT1"], "voluntary": {"GIFT1": "92233720368547758.07"}}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(error_fields(&r).iter().any(|f| f.starts_with("voluntary")));
    let voluntary: serde_json::Map<String, Value> = gifts
        .iter()
        .map(|g| (g.clone(), json!("99999999.99")))
        .collect();
    let r = app
        .post(
            "/me/renewal",
            &me,
            json!({"add_ons": gifts, "voluntary": voluntary}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(error_fields(&r), vec!["total"], "{}", r.text);
    let after = app.get("/me/renewal", &me).await.expect(200).body["invoice"].clone();
    assert_eq!(after, before, "a refused itemization changes nothing");
}

#[tokio::test]
async fn sec3_a_renewal_whose_total_would_pass_the_bound_is_skipped_not_wrapped() {
    let app = spawn().await;
    app.doctors().await;
    // A 10-year term scales a 12-month journal tenfold: 999,999,999.90 before the dues.
    app.set_settings(json!({"standard_billing_interval_months": 120}))
        .await;
    app.create_product("JOURNAL", "subscription", "99999999.99")
        .await;
    let cycle = app
        .create_cycle(json!({"name": "Renewals", "customer_types": ["M"], "products": ["JOURNAL"]}))
        .await;
    let c = app
        .create_contact(json!({"customer_type": "M", "billing_category": "REG",
            "first_name": "Max", "last_name": "Journal"}))
        .await["id"]
        .as_i64()
        .unwrap();
    for body in [
        json!({"contact_id": c, "product": "MDUES", "is_membership_component": true,
            "bill_subscription": true, "paid_through": "2026-12-31"}),
        json!({"contact_id": c, "product": "JOURNAL", "bill_subscription": true}),
    ] {
        app.post("/subscriptions", &app.staff, body)
            .await
            .expect(201);
    }
    for dry_run in [true, false] {
        let r = app
            .post(
                "/renewal-runs",
                &app.staff,
                json!({"billing_cycle": cycle, "effective_date": "2027-01-01", "dry_run": dry_run}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        assert_eq!(r.body["billed"], 0, "{}", r.text);
        assert_eq!(r.body["total"], "0.00");
        let reason = r.body["skipped"][0]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("999999999.99"), "{}", r.text);
    }
    assert!(invoices_of(&app, c).await.is_empty());
}

// ---------------------------------------------------------------- SEC-4

#[tokio::test]
async fn sec4_dates_and_amounts_are_plain_and_within_range_or_refused() {
    let app = spawn().await;
    setup(&app, 0).await;
    let c = app.person("NM", "Dates").await;
    let inv = app
        .post(
            &format!("/contacts/{c}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG"}),
        )
        .await
        .expect(201)
        .body;
    let pay = |amount: Value, paid_on: Value| {
        let id = inv["id"].as_i64().unwrap();
        let app = &app;
        async move {
            app.post(
                &format!("/invoices/{id}/payments"),
                &app.staff,
                json!({"amount": amount, "paid_on": paid_on, "method": "cheque"}),
            )
            .await
        }
    };
    for date in [
        "+10000-01-01",
        "-0001-01-01",
        "2026-2-3",
        "1899-12-31",
        "3000-01-01",
        "2026-02-30",
        " 2026-02-03",
    ] {
        let r = pay(json!("1.00"), json!(date))
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["paid_on"], "{date}: {}", r.text);
    }
    for amount in ["1_000", "1E2", "+1.00", " 1.00", "1.", ".5", "0x10"] {
        let r = pay(json!(amount), json!("2026-03-01"))
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["amount"], "{amount}: {}", r.text);
    }
    let after = app
        .get(&format!("/invoices/{}", inv["id"]), &app.staff)
        .await
        .expect(200);
    assert_eq!(after.body["paid"], "0.00");
    // Query dates too.
    for bad in ["2026-2-3", "%2B10000-01-01", "-0001-01-01", "1899-12-31"] {
        app.get(
            &format!("/reports/membership-counts?as_of={bad}"),
            &app.staff,
        )
        .await
        .problem(400, "invalid_parameter");
    }
    app.get("/reports/membership-counts?as_of=1900-01-01", &app.staff)
        .await
        .expect(200);
    // The periods a report makes up stay in range too.
    let report = app
        .get("/reports/billing?to=1900-03-31", &app.staff)
        .await
        .expect(200);
    assert_eq!(
        report.body["periods"][0]["start"], "1900-01-01",
        "{}",
        report.text
    );
    // The earliest date taken is a date like any other, though what it derives is earlier.
    app.set_settings(json!({"grace_period_months": 3})).await;
    let expired = app
        .post(
            "/membership/expire",
            &app.staff,
            json!({"as_of": "1900-03-31", "dry_run": true}),
        )
        .await
        .expect(200);
    assert_eq!(expired.body["expired_paid_through"], "1899-12-30");
}

// ---------------------------------------------------------------- SEC-5

#[tokio::test]
async fn sec5_control_and_invisible_characters_are_refused_wherever_text_enters() {
    let app = spawn().await;
    app.doctors().await;
    let before = app.items("/contacts?limit=200").await.len();
    for (field, value) in [
        ("first_name", "Ana\u{0}"),
        ("phone", "\u{1b}[31m555"),
        ("last_name", "Smith\r\nInjected: yes"),
        ("last_name", "evil\u{202e}gnp.exe"),
        ("first_name", "zero\u{200b}width"),
        ("email", "ana\u{0}@example.org"),
    ] {
        let mut body = json!({"customer_type": "NM", "first_name": "Ana", "last_name": "Silva"});
        body[field] = json!(value);
        let r = app
            .post("/contacts", &app.staff, body)
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec![field], "{value:?}: {}", r.text);
    }
    // Emails are checked for form.
    for email in ["ana@@example.org", "ana@example", "ana silva@example.org"] {
        let r = app
            .post(
                "/contacts",
                &app.staff,
                json!({"customer_type": "NM", "last_name": "Silva", "email": email}),
            )
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["email"], "{email}");
    }
    assert_eq!(app.items("/contacts?limit=200").await.len(), before);
    // Line breaks belong in addresses.
    let ok = app
        .create_contact(json!({"customer_type": "NM", "last_name": "Lines",
            "address": {"line1": "Suite 5\nBuilding B", "city": "Leeds"}}))
        .await;
    assert_eq!(ok["address"]["line1"], "Suite 5\nBuilding B");
    let id = ok["id"].as_i64().unwrap();
    // A member's own profile, and field names, are checked alike.
    let me = app.member_token(id).await;
    app.patch("/me", &me, json!({"first_name": "Bell\u{7}"}))
        .await
        .problem(422, "validation_failed");
    app.patch("/me", &me, json!({"first_name\u{0}": "X"}))
        .await
        .problem(422, "validation_failed");
    // Query parameters: a NUL once cut a search short.
    for q in ["%00", "Lines%00", "%E2%80%AEx", "a%0Db"] {
        let r = app
            .get(&format!("/contacts?q={q}"), &app.staff)
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["q"]);
    }
    // Import rows from a file are text too.
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let r = app
        .post_csv(
            "/subscriptions/import?action=insert&mode=row_by_row",
            &format!("contact_id,product,source_code\n{id},JOURNAL,legacy\u{7}\n"),
        )
        .await
        .expect(200);
    assert_eq!(r.body["applied"], 0, "{}", r.text);
    assert_eq!(r.body["rows"][0]["outcome"], "failed");
}

// ---------------------------------------------------------------- SEC-6

#[tokio::test]
async fn sec6_members_join_on_the_day_the_server_records_it() {
    let app = spawn().await;
    setup(&app, 0).await;
    let me = app.person("NM", "Early").await;
    let token = app.member_token(me).await;
    // A future date bought a longer first term; a past one forged seniority.
    for date in ["2027-12-01", "1990-01-15"] {
        for dry_run in [false, true] {
            let r = app
                .post(
                    "/me/join",
                    &token,
                    json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG",
                        "join_date": date, "dry_run": dry_run}),
                )
                .await
                .problem(403, "forbidden");
            assert_eq!(error_fields(&r), vec!["join_date"]);
        }
    }
    assert!(invoices_of(&app, me).await.is_empty());
    let joined = app
        .post(
            "/me/join",
            &token,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG"}),
        )
        .await
        .expect(201);
    // Anniversary billing: the term begins on the join date, today's.
    assert_eq!(joined.body["term_begin"], today(), "{}", joined.text);
    // Staff may backdate.
    let other = app.person("NM", "Backdated").await;
    let staff = app
        .post(
            &format!("/contacts/{other}/join"),
            &app.staff,
            json!({"billing_cycle": JOIN_CYCLE, "billing_category": "REG", "join_date": "2024-05-10"}),
        )
        .await
        .expect(201);
    assert_eq!(staff.body["term_begin"], "2024-05-10");
}

// ---------------------------------------------------------------- SEC-7

const INSIDE: [&str; 9] = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://127.1/hook",
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://10.0.0.7/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/hook",
];

#[tokio::test]
async fn sec7_webhooks_refuse_internal_addresses_credentials_and_the_server_itself() {
    let app = spawn_with(|cfg| cfg.webhook_allow_private_networks = false).await;
    for url in INSIDE {
        let r = app
            .post("/webhooks", &app.staff, json!({"url": url}))
            .await
            .problem(422, "validation_failed");
        assert_eq!(error_fields(&r), vec!["url"], "{url}: {}", r.text);
    }
    app.post(
        "/webhooks",
        &app.staff,
        json!({"url": "https://user:secret@93.184.216.34/hook"}),
    )
    .await
    .problem(422, "validation_failed");
    assert!(app.items("/webhooks").await.is_empty());
    // A public address is taken; moving it inside later is refused the same way.
    let hook = app
        .post(
            "/webhooks",
            &app.staff,
            json!({"url": "https://93.184.216.34/hook"}),
        )
        .await
        .expect(201)
        .body;
    let id = hook["id"].as_i64().unwrap();
    app.patch(
        &format!("/webhooks/{id}"),
        &app.staff,
        json!({"url": "http://127.1:5432/"}),
    )
    .await
    .problem(422, "validation_failed");

    // Where private networks are allowed (development, these tests), never the server itself.
    let dev = spawn().await;
    for path in ["/api/v1/contacts/purge", "/health"] {
        let url = format!("{}{path}", dev.base);
        let r = dev
            .post("/webhooks", &dev.staff, json!({"url": url}))
            .await
            .problem(422, "validation_failed");
        assert!(r.text.contains("this server"), "{}", r.text);
    }
}

#[tokio::test]
async fn sec7_signing_secrets_are_shown_at_creation_and_on_an_audited_request_only() {
    let app = spawn().await;
    let hook = app
        .post(
            "/webhooks",
            &app.staff,
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await
        .expect(201)
        .body;
    let secret = hook["secret"]
        .as_str()
        .expect("secret at creation")
        .to_owned();
    let id = hook["id"].as_i64().unwrap();
    let read = app
        .get(&format!("/webhooks/{id}"), &app.staff)
        .await
        .expect(200);
    assert!(read.body.get("secret").is_none(), "{}", read.text);
    assert!(!read.text.contains(&secret));
    let list = app.get("/webhooks", &app.staff).await.expect(200);
    assert!(!list.text.contains(&secret));
    let etag = read.header("etag").unwrap();
    let patched = app
        .send(
            Method::PATCH,
            &format!("/webhooks/{id}"),
            Some(&app.staff),
            Some(json!({"description": "CRM"})),
            &[("If-Match", &etag)],
        )
        .await
        .expect(200);
    assert!(!patched.text.contains(&secret));
    let shown = app
        .post(
            &format!("/webhooks/{id}/reveal-secret"),
            &app.staff,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(shown.body["secret"], secret.as_str());
    let audit = app.audit_events("revealWebhookSecret").await;
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].to_string().contains(&secret));
}

#[tokio::test]
async fn sec7_each_delivery_checks_the_address_again_and_logs_no_network_detail() {
    use service::webhooks::delivery::{Deliverer, Settings};
    let app = spawn().await;
    app.doctors().await;
    // Saved where private networks were allowed; delivered by a server that refuses them (a
    // name that now points inside is the same case).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
    ] {
        app.post("/webhooks", &app.staff, json!({"url": url}))
            .await
            .expect(201);
    }
    app.person("NM", "Event").await;
    let strict = Deliverer::new(
        app.db.clone(),
        Settings {
            retry_delays: vec![Duration::ZERO],
            ..Settings::default()
        },
    )
    .unwrap();
    let tick = strict.tick().await.unwrap();
    assert_eq!(tick.succeeded, 0);
    assert!(tick.attempted >= 2, "{tick:?}");
    assert!(
        listener.accept().is_err(),
        "nothing may reach the internal receiver"
    );
    for hook in app.items("/webhooks").await {
        let log = app
            .items(&format!("/webhooks/{}/deliveries", hook["id"]))
            .await;
        let error = log[0]["log"][0]["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("not sent: must be a public address"),
            "{error}"
        );
    }
}

// ---------------------------------------------------------------- SEC-8

#[tokio::test]
async fn sec8_tokens_of_logins_that_no_longer_exist_or_changed_are_refused() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn().await;
    app.doctors().await;
    let c = app.person("NM", "Gone").await;
    let token = app.member_token(c).await;
    app.get("/me", &token).await.expect(200);
    // The login is removed behind the server's back (another server, an administrator in the
    // database): its tokens stop within a second.
    entity::user::Entity::delete_many()
        .filter(entity::user::Column::ContactId.eq(c))
        .exec(&app.db.conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.get("/me", &token).await.problem(401, "unauthorized");
    // A subject that never existed, signed with the server's own key.
    let claims = tests::claims;
    let forged = app
        .sign_with_app_secret(&claims("999999", "staff", None))
        .await;
    app.get("/contacts", &forged)
        .await
        .problem(401, "unauthorized");
    // The admin's id with another role or another contact than the login has.
    let admin = service::users::find_by_username(&app.db.conn, "admin")
        .await
        .unwrap()
        .unwrap();
    let other = app.person("NM", "Victim").await;
    let as_member = app
        .sign_with_app_secret(&claims(&admin.id.to_string(), "member", Some(other)))
        .await;
    app.get("/me", &as_member)
        .await
        .problem(401, "unauthorized");
    // Refused before the body is read, as any bad token.
    app.post("/products", &forged, json!([]))
        .await
        .problem(401, "unauthorized");
}

#[tokio::test]
async fn sec8_a_short_signing_secret_is_refused_at_start() {
    let (url, _dir) = tests::fresh_database().await;
    let port = tests::started::free_port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ams-cli"))
        .env("AMS_DATABASE_URL", &url)
        .env("AMS_BIND", format!("127.0.0.1:{port}"))
        .env("AMS_ADMIN_PASSWORD", tests::ADMIN_PASSWORD)
        .env("AMS_LOG", "warn")
        .env("AMS_JWT_SECRET", "a")
        .output()
        .expect("run the server");
    assert!(
        !out.status.success(),
        "the server started with a 1-byte secret"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AMS_JWT_SECRET") && stderr.contains("32 bytes"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------- SEC-1

#[tokio::test]
async fn sec1_members_read_products_at_their_default_prices_never_pricing_rules() {
    let app = spawn().await;
    app.doctors().await;
    // A rule that would price the member's own category lower.
    app.post(
        "/pricing-rules",
        &app.staff,
        json!({"product": "MDUES", "price": "100.00", "customer_type": "NM"}),
    )
    .await
    .expect(201);
    let me = app.member_token(app.person("NM", "Reader").await).await;
    let product = app.get("/products/MDUES", &me).await.expect(200);
    assert_eq!(product.body["price"], "500.00");
    let list = app.get("/products", &me).await.expect(200);
    assert!(!list.text.contains("100.00"), "{}", list.text);
    app.get("/pricing-rules", &me)
        .await
        .problem(403, "forbidden");
    app.get("/products/MDUES/price", &me)
        .await
        .problem(403, "forbidden");
}

// ---------------------------------------------------------------- accounts

#[tokio::test]
async fn usernames_are_unique_in_any_letter_case_and_registrations_are_limited() {
    let app = spawn_with(|cfg| cfg.registrations_per_hour = 3).await;
    app.doctors().await;
    let register = |username: &str| {
        let body = json!({"username": username, "password": "a long passphrase",
            "first_name": "Al", "last_name": "Ice", "email": format!("{username}@example.org")});
        let app = &app;
        async move {
            app.send(Method::POST, "/auth/register", None, Some(body), &[])
                .await
        }
    };
    register("alice").await.expect(201);
    register("ALICE").await.problem(409, "conflict");
    let login = app
        .send(
            Method::POST,
            "/auth/token",
            None,
            Some(json!({"username": "Alice", "password": "a long passphrase"})),
            &[],
        )
        .await
        .expect(200);
    let me = login.body["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/me", me).await.expect(200).body["last_name"],
        "Ice"
    );
    // The third registration from this address this hour; the fourth waits.
    register("bob").await.expect(201);
    let r = register("carol").await.problem(429, "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait));
    assert_eq!(
        app.post(
            "/users",
            &app.staff,
            json!({"username": "Bob", "password": "another passphrase", "role": "staff"})
        )
        .await
        .status,
        409
    );
}

// ---------------------------------------------------------------- uploads

/// The server process's peak resident memory so far, in MiB (Linux).
fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// A workbook with text in the given cells (0-based row, column).
fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, col, text) in cells {
        sheet.write_string(*row, *col, *text).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// A hand-built workbook, so that its parts can say what no spreadsheet program writes.
fn crafted(sheet: &str, shared_strings: Option<&str>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut parts = vec![
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.to_owned()),
        ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet}</worksheet>"#)),
    ];
    let strings = shared_strings.unwrap_or(r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>contact_id</t></si></sst>"#);
    parts.push((
        "xl/sharedStrings.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?>{strings}"#),
    ));
    for (name, text) in parts {
        zip.start_file(name, stored).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn s9_xlsx_files_built_to_exhaust_memory_are_refused_at_once() {
    // Peak memory is the process's: the other tests must not be running in it.
    if !tests::alone(concat!(
        module_path!(),
        "::s9_xlsx_files_built_to_exhaust_memory_are_refused_at_once"
    )) {
        return;
    }
    let app = spawn().await;
    app.doctors().await;
    let header = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    let files = [
        // Cells at the two corners: a dense grid between them once took 6.6 GB.
        (
            "A1 and XFD1048576",
            workbook(&[(0, 0, "contact_id"), (1_048_575, 16_383, "x")]),
        ),
        (
            "T1048576",
            workbook(&[(0, 0, "contact_id"), (1_048_575, 19, "x")]),
        ),
        // A stated dimension that hides the far cell.
        (
            "a dimension that lies",
            crafted(
                &format!(
                    r#"<dimension ref="A1"/><sheetData>{header}<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#
                ),
                None,
            ),
        ),
        // Cell references that overflow the reader's arithmetic.
        (
            "a dimension backwards",
            crafted(
                &format!(r#"<dimension ref="B5:A1"/><sheetData>{header}</sheetData>"#),
                None,
            ),
        ),
        (
            "a row past 32 bits",
            crafted(
                &format!(
                    r#"<sheetData>{header}<row r="99999999999"><c r="A99999999999" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#
                ),
                None,
            ),
        ),
        // Shared strings stating more entries than memory holds (the reader reserves them).
        (
            "shared strings of 10^11 entries",
            crafted(
                &format!(r#"<sheetData>{header}</sheetData>"#),
                Some(
                    r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="100000000000" uniqueCount="100000000000"><si><t>contact_id</t></si></sst>"#,
                ),
            ),
        ),
        ("not a workbook", b"PK\x03\x04 truncated".to_vec()),
    ];
    let peak_before = peak_mib();
    for (what, file) in files {
        assert!(file.len() < 16 * 1024, "{what}: {} bytes", file.len());
        let started = Instant::now();
        let r = app.post_xlsx("action=insert", file).await;
        assert_eq!(r.status.as_u16(), 422, "{what}: {}", r.text);
        assert_eq!(r.body["code"], "validation_failed", "{what}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} took {:?}",
            started.elapsed()
        );
    }
    let grown = peak_mib().saturating_sub(peak_before);
    assert!(grown < 300, "peak memory grew by {grown} MiB");
    // The server is still up and an honest workbook imports.
    app.create_product("JOURNAL", "subscription", "40.00").await;
    let c = app.person("NM", "Honest").await;
    let honest = crafted(
        &format!(
            r#"<sheetData><row r="1"><c r="B1" t="inlineStr"><is><t>contact_id</t></is></c><c r="C1" t="inlineStr"><is><t>product</t></is></c></row><row r="2"><c r="B2"><v>{c}</v></c><c r="C2" t="inlineStr"><is><t>JOURNAL</t></is></c></row></sheetData>"#
        ),
        None,
    );
    let r = app.post_xlsx("action=insert", honest).await.expect(200);
    assert_eq!(r.body["applied"], 1, "{}", r.text);
}

// ---------------------------------------------------------------- exports and errors

#[tokio::test]
async fn csv_cells_joined_from_lists_are_guarded_against_formulas() {
    let app = spawn().await;
    app.doctors().await;
    let c = app
        .create_contact(json!({"customer_type": "NM", "last_name": "Tags",
            "tags": ["-2e5", "-a1:a2"]}))
        .await;
    let csv = app
        .send(
            Method::GET,
            &format!(
                "/contacts?q=Tags&limit=10&cursor={}",
                c["id"].as_i64().unwrap() - 1
            ),
            Some(&app.staff),
            None,
            &[("Accept", "text/csv")],
        )
        .await
        .expect(200)
        .text;
    assert!(csv.contains("'-2e5;-a1:a2"), "{csv}");
}

#[tokio::test]
async fn errors_name_no_internal_types_and_every_refusal_is_problem_json() {
    let app = spawn().await;
    app.doctors().await;
    let c = app.person("NM", "Shape").await;
    // A body of the wrong shape: the answer speaks of JSON, not of Rust types.
    for body in [json!([]), json!([1, 2]), json!("text")] {
        let r = app
            .patch(&format!("/contacts/{c}"), &app.staff, body)
            .await
            .problem(422, "validation_failed");
        assert!(
            !r.text.contains("Dto") && !r.text.contains("struct"),
            "{}",
            r.text
        );
    }
    let r = app
        .post(
            "/renewal-runs",
            &app.staff,
            json!({"billing_cycle": {"x": 1}, "dry_run": true}),
        )
        .await
        .problem(422, "validation_failed");
    assert!(!r.text.contains("untagged enum"), "{}", r.text);
    // Tokens: no algorithm lists, no base64 offsets.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for token in [
        "abc.def.ghi".to_owned(),
        format!("{}.e30.", b64.encode(r#"{"alg":"none"}"#)),
        format!("{}.e30.sig", b64.encode(r#"{"alg":"XYZ"}"#)),
    ] {
        let r = app
            .get("/contacts", &token)
            .await
            .problem(401, "unauthorized");
        for leak in ["HS256", "base64", "variant", "Invalid"] {
            assert!(!r.text.contains(leak), "{}", r.text);
        }
    }
    // A refused CORS preflight.
    let r = app
        .send(
            Method::OPTIONS,
            "/contacts",
            None,
            None,
            &[
                ("Origin", "https://evil.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        )
        .await
        .problem(400, "cors_refused");
    assert!(r.header("access-control-allow-origin").is_none());
    // Allowed origins still pass.
    let ok = app
        .send(
            Method::OPTIONS,
            "/contacts",
            None,
            None,
            &[
                ("Origin", "https://app.example.org"),
                ("Access-Control-Request-Method", "GET"),
            ],
        )
        .await;
    assert!(ok.status.is_success(), "{}", ok.text);
    // A header the application cannot read as text.
    let r = app
        .client
        .get(app.url("/contacts"))
        .header(
            "Authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
}

#[tokio::test]
async fn metrics_are_for_staff_unless_made_public() {
    let app = spawn().await;
    app.doctors().await;
    let anonymous = app.send(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(anonymous.status.as_u16(), 401);
    let member = app.member_token(app.person("NM", "Metric").await).await;
    assert_eq!(app.get("/metrics", &member).await.status.as_u16(), 403);
    let staff = app.get("/metrics", &app.staff).await.expect(200);
    assert!(staff.text.contains("ams_http_requests_total"));
    let public = spawn_with(|cfg| cfg.metrics_public = true).await;
    let r = public.send(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(r.status.as_u16(), 200);
}
