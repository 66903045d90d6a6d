//! Logins, tokens and the role matrix (SEC-1, SEC-2).

use reqwest::Method;
use serde_json::{Value, json};
use service::auth::{AUDIENCE, Claims, ISSUER};
use tests::{ADMIN_PASSWORD, TestApp, now, spawn};

async fn login(app: &TestApp, username: &str, password: &str) -> tests::Res {
    app.send(
        Method::POST,
        "/auth/token",
        None,
        Some(json!({"username": username, "password": password})),
        &[],
    )
    .await
}

#[tokio::test]
async fn sec2_login_issues_a_bearer_token_that_the_api_accepts() {
    let app = spawn().await;
    let r = login(&app, "admin", ADMIN_PASSWORD).await.expect(200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let token = r.body["access_token"].as_str().unwrap();
    app.get("/contacts", token).await.expect(200);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_fail_alike() {
    let app = spawn().await;
    let a = login(&app, "admin", "wrong-password")
        .await
        .problem(401, "unauthorized");
    let b = login(&app, "nobody", "wrong-password")
        .await
        .problem(401, "unauthorized");
    assert_eq!(a.body["detail"], b.body["detail"]);
    assert_eq!(a.header("www-authenticate").as_deref(), Some("Bearer"));
}

fn forge(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn sec2_expired_foreign_unsigned_and_misaddressed_tokens_get_401() {
    let app = spawn().await;
    let good = Claims {
        sub: "1".into(),
        role: "staff".into(),
        contact_id: None,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now(),
        exp: now() + 600,
    };
    let expired = app.keys.issue(1, "staff", None, now() - 7200).unwrap();
    let other_key = forge(b"some-other-secret-some-other-secret", &good);
    let wrong_aud = tests::TestApp::sign_with_app_secret(
        &app,
        &Claims {
            aud: "elsewhere".into(),
            ..good.clone()
        },
    )
    .await;
    let wrong_iss = tests::TestApp::sign_with_app_secret(
        &app,
        &Claims {
            iss: "elsewhere".into(),
            ..good.clone()
        },
    )
    .await;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let alg_none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(serde_json::to_string(&good).unwrap())
    );
    for (name, token) in [
        ("expired", expired),
        ("other key", other_key),
        ("wrong audience", wrong_aud),
        ("wrong issuer", wrong_iss),
        ("alg none", alg_none),
        ("garbage", "not.a.token".to_owned()),
    ] {
        let r = app.get("/contacts", &token).await;
        assert_eq!(r.status.as_u16(), 401, "{name}: {}", r.text);
        assert_eq!(r.body["code"], "unauthorized", "{name}");
        assert_eq!(
            r.header("www-authenticate").as_deref(),
            Some("Bearer"),
            "{name}"
        );
    }
    // A token with the right secret and claims passes: the checks above are not vacuous.
    let ok = tests::TestApp::sign_with_app_secret(&app, &good).await;
    app.get("/contacts", &ok).await.expect(200);
}

#[tokio::test]
async fn register_creates_a_non_member_person_and_a_member_login() {
    let app = spawn().await;
    let body = json!({"username": "ana.silva", "password": "a long passphrase", "first_name": "Ana", "last_name": "Silva", "email": "ana@example.org"});
    let r = app
        .send(
            Method::POST,
            "/auth/register",
            None,
            Some(body.clone()),
            &[],
        )
        .await
        .expect(201);
    assert_eq!(r.body["contact"]["customer_type"], "NMP");
    assert_eq!(r.body["contact"]["is_member"], false);
    assert_eq!(r.body["user"]["role"], "member");
    let contact_id = r.body["contact"]["id"].as_i64().unwrap();
    // The same username again: 409, and no second contact.
    app.send(Method::POST, "/auth/register", None, Some(body), &[])
        .await
        .problem(409, "conflict");
    let list = app.get("/contacts?limit=200", &app.staff).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);

    let token = login(&app, "ana.silva", "a long passphrase")
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.get("/me", &token).await.expect(200);
    assert_eq!(me.body["id"], contact_id);
    assert_eq!(me.body["email"], "ana@example.org");
}

#[tokio::test]
async fn register_rejects_short_passwords_and_bad_email_writing_nothing() {
    let app = spawn().await;
    let r = app
        .send(Method::POST, "/auth/register", None, Some(json!({"username": "bob", "password": "short", "first_name": "B", "last_name": "C", "email": "b@example.org"})), &[])
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "password");
    app.send(Method::POST, "/auth/register", None, Some(json!({"username": "bob", "password": "long enough pw", "first_name": "B", "last_name": "C", "email": "not-an-email"})), &[])
        .await
        .problem(422, "validation_failed");
    let list = app.get("/contacts", &app.staff).await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn staff_create_logins_members_need_a_contact() {
    let app = spawn().await;
    let r = app
        .post(
            "/users",
            &app.staff,
            json!({"username": "jane", "password": "a long passphrase", "role": "staff"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "staff");
    let staff2 = login(&app, "jane", "a long passphrase")
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/contacts", &staff2).await.expect(200);

    app.post(
        "/users",
        &app.staff,
        json!({"username": "ann", "password": "a long passphrase", "role": "member"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post("/users", &app.staff, json!({"username": "ann", "password": "a long passphrase", "role": "member", "contact_id": 999}))
        .await
        .problem(422, "validation_failed");
    let id = app.person("NMP", "Ng").await;
    app.post("/users", &app.staff, json!({"username": "ann", "password": "a long passphrase", "role": "member", "contact_id": id}))
        .await
        .expect(201);
    let member = login(&app, "ann", "a long passphrase")
        .await
        .expect(200)
        .body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/me", &member).await.expect(200);
    // A member cannot create logins.
    app.post(
        "/users",
        &member,
        json!({"username": "x2", "password": "a long passphrase", "role": "staff"}),
    )
    .await
    .problem(403, "forbidden");
}

/// SEC-1: every endpoint under each role. Anonymous: 401. Member: 403 on staff endpoints,
/// 404 for another contact's record, their own data only. Staff: everything but `/me`.
#[tokio::test]
async fn sec1_role_matrix_over_every_endpoint() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("CHAPT/EAST", "chapter", "25.00").await;
    let mine = app.person("NM", "Mine").await;
    let other = app.person("NM", "Other").await;
    let member = app.member_token(mine).await;
    let another = app.member_token(other).await;
    let subscribe = |contact: i64| {
        app.post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": contact, "product": "CHAPT/EAST"}),
        )
    };
    let sub_mine = subscribe(mine).await.expect(201).body["id"]
        .as_i64()
        .unwrap();
    let sub_other = subscribe(other).await.expect(201).body["id"]
        .as_i64()
        .unwrap();
    let rule = app
        .post(
            "/pricing-rules",
            &app.staff,
            json!({"product": "MDUES", "price": "100.00", "customer_type": "M"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    app.post(
        "/pricing-groups",
        &app.staff,
        json!({"code": "CONSORT", "name": "Consortium"}),
    )
    .await
    .expect(201);

    // (method, path, body, member status, staff status)
    let cases: Vec<(Method, String, Option<Value>, u16, u16)> = vec![
        (Method::GET, "/settings/membership".into(), None, 403, 200),
        (
            Method::PUT,
            "/settings/membership".into(),
            Some(json!({})),
            403,
            422,
        ),
        (Method::GET, "/customer-types".into(), None, 200, 200),
        (Method::GET, "/customer-types/M".into(), None, 200, 200),
        (
            Method::POST,
            "/customer-types".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::PATCH,
            "/customer-types/M".into(),
            Some(json!({"name": "Member"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/customer-types/NOPE".into(),
            None,
            403,
            404,
        ),
        (Method::GET, "/billing-categories".into(), None, 200, 200),
        (
            Method::GET,
            "/billing-categories/REG".into(),
            None,
            200,
            200,
        ),
        (
            Method::POST,
            "/billing-categories".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::PATCH,
            "/billing-categories/REG".into(),
            Some(json!({"name": "Regular"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/billing-categories/NOPE".into(),
            None,
            403,
            404,
        ),
        (Method::GET, "/contact-statuses".into(), None, 403, 200),
        (Method::GET, "/contact-statuses/A".into(), None, 403, 200),
        (
            Method::POST,
            "/contact-statuses".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::PATCH,
            "/contact-statuses/A".into(),
            Some(json!({"name": "Active"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/contact-statuses/NOPE".into(),
            None,
            403,
            404,
        ),
        (Method::GET, "/products".into(), None, 200, 200),
        (Method::GET, "/products/CHAPT%2FEAST".into(), None, 200, 200),
        (Method::POST, "/products".into(), Some(json!({})), 403, 422),
        (
            Method::PATCH,
            "/products/MDUES".into(),
            Some(json!({"name": "Dues"})),
            403,
            200,
        ),
        (Method::DELETE, "/products/NOPE".into(), None, 403, 404),
        // SEC-1: members read products with their default prices, never pricing rules or the
        // price a rule gives.
        (Method::GET, "/products/MDUES/price".into(), None, 403, 200),
        (Method::GET, "/pricing-rules".into(), None, 403, 200),
        (
            Method::POST,
            "/pricing-rules".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::GET,
            format!("/pricing-rules/{rule}"),
            None,
            403,
            200,
        ),
        (
            Method::PATCH,
            format!("/pricing-rules/{rule}"),
            Some(json!({"price": "110.00"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/pricing-rules/999999".into(),
            None,
            403,
            404,
        ),
        (Method::GET, "/pricing-groups".into(), None, 403, 200),
        (
            Method::POST,
            "/pricing-groups".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::GET,
            "/pricing-groups/CONSORT".into(),
            None,
            403,
            200,
        ),
        (
            Method::PATCH,
            "/pricing-groups/CONSORT".into(),
            Some(json!({"name": "Consortium"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/pricing-groups/NOPE".into(),
            None,
            403,
            404,
        ),
        (
            Method::GET,
            "/pricing-groups/CONSORT/members".into(),
            None,
            403,
            200,
        ),
        (
            Method::POST,
            "/pricing-groups/CONSORT/members".into(),
            Some(json!({"contact_ids": [mine]})),
            403,
            200,
        ),
        (
            Method::DELETE,
            format!("/pricing-groups/CONSORT/members/{other}"),
            None,
            403,
            404,
        ),
        (Method::GET, "/contacts".into(), None, 403, 200),
        (Method::POST, "/contacts".into(), Some(json!({})), 403, 422),
        (Method::GET, format!("/contacts/{mine}"), None, 200, 200),
        (Method::GET, format!("/contacts/{other}"), None, 404, 200),
        (
            Method::PATCH,
            format!("/contacts/{other}"),
            Some(json!({"phone": "1"})),
            404,
            200,
        ),
        (
            Method::GET,
            format!("/contacts/{other}/history"),
            None,
            404,
            200,
        ),
        (
            Method::GET,
            format!("/contacts/{mine}/history"),
            None,
            200,
            200,
        ),
        (Method::POST, "/users".into(), Some(json!({})), 403, 422),
        (Method::GET, "/me".into(), None, 200, 403),
        (
            Method::PATCH,
            "/me".into(),
            Some(json!({"phone": "2"})),
            200,
            403,
        ),
        (Method::GET, "/me/history".into(), None, 200, 403),
        (Method::GET, "/billing-cycles".into(), None, 403, 200),
        (
            Method::POST,
            "/billing-cycles".into(),
            Some(json!({})),
            403,
            422,
        ),
        (Method::GET, "/billing-cycles/999999".into(), None, 403, 404),
        (
            Method::PATCH,
            "/billing-cycles/999999".into(),
            Some(json!({})),
            403,
            404,
        ),
        (
            Method::DELETE,
            "/billing-cycles/999999".into(),
            None,
            403,
            404,
        ),
        (Method::GET, "/renewal-runs".into(), None, 403, 200),
        (Method::GET, "/batches/999999".into(), None, 403, 404),
        (Method::POST, "/batches/999999/post".into(), None, 403, 404),
        (Method::DELETE, "/batches/999999".into(), None, 403, 404),
        (
            Method::POST,
            format!("/contacts/{other}/renew-in-advance"),
            Some(json!({"billing_cycle": 999999})),
            403,
            422,
        ),
        (
            Method::GET,
            "/renewal-reminders?billing_cycle=999999".into(),
            None,
            403,
            404,
        ),
        (
            Method::PUT,
            format!("/contacts/{other}/renew-months"),
            Some(json!({"renew_months": 24})),
            403,
            200,
        ),
        (Method::GET, "/renewal-runs/999999".into(), None, 403, 404),
        (
            Method::POST,
            "/renewal-runs".into(),
            Some(json!({"billing_cycle": 999999, "dry_run": true})),
            403,
            422,
        ),
        (Method::GET, "/invoices".into(), None, 403, 200),
        (Method::GET, "/invoices/999999".into(), None, 404, 404),
        (
            Method::POST,
            "/invoices/999999/payments".into(),
            Some(json!({"amount": "1.00", "paid_on": "2026-01-01", "method": "card"})),
            403,
            404,
        ),
        (
            Method::POST,
            "/invoices/999999/void".into(),
            Some(json!({"reason": "x"})),
            403,
            404,
        ),
        (
            Method::POST,
            "/invoices/999999/cancel".into(),
            Some(json!({})),
            403,
            404,
        ),
        (
            Method::GET,
            format!("/contacts/{mine}/invoices"),
            None,
            200,
            200,
        ),
        (
            Method::GET,
            format!("/contacts/{other}/invoices"),
            None,
            404,
            200,
        ),
        (
            Method::POST,
            format!("/contacts/{other}/join"),
            Some(json!({"billing_cycle": 999999})),
            403,
            422,
        ),
        (Method::GET, "/me/invoices".into(), None, 200, 403),
        (Method::GET, "/me/renewal".into(), None, 404, 403),
        (
            Method::POST,
            "/me/renewal".into(),
            Some(json!({"add_ons": []})),
            404,
            403,
        ),
        (
            Method::PATCH,
            "/invoices/999999".into(),
            Some(json!({"reason": "x"})),
            403,
            404,
        ),
        (
            Method::GET,
            "/invoices/999999/adjustments".into(),
            None,
            403,
            404,
        ),
        (
            Method::POST,
            "/me/join".into(),
            Some(json!({"billing_cycle": 999999})),
            422,
            403,
        ),
        (Method::GET, "/subscriptions".into(), None, 403, 200),
        (
            Method::POST,
            "/subscriptions".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::POST,
            "/subscriptions/import".into(),
            Some(json!({})),
            403,
            422,
        ),
        (
            Method::GET,
            format!("/subscriptions/{sub_mine}"),
            None,
            200,
            200,
        ),
        (
            Method::GET,
            format!("/subscriptions/{sub_other}"),
            None,
            404,
            200,
        ),
        (
            Method::PATCH,
            format!("/subscriptions/{sub_other}"),
            Some(json!({"source_code": "x"})),
            403,
            200,
        ),
        (
            Method::DELETE,
            "/subscriptions/999999".into(),
            None,
            403,
            404,
        ),
        (
            Method::GET,
            format!("/contacts/{mine}/subscriptions"),
            None,
            200,
            200,
        ),
        (
            Method::GET,
            format!("/contacts/{other}/subscriptions"),
            None,
            404,
            200,
        ),
        (Method::GET, "/me/subscriptions".into(), None, 200, 403),
        (
            Method::POST,
            "/membership/expire".into(),
            Some(json!({"as_of": "2026-01-01", "dry_run": true})),
            403,
            200,
        ),
        (
            Method::POST,
            "/contacts/mass-change".into(),
            Some(json!({"filter": {}, "set": {}, "dry_run": true})),
            403,
            422,
        ),
        (
            Method::POST,
            "/contacts/purge".into(),
            Some(json!({"dry_run": true})),
            403,
            200,
        ),
        (Method::GET, "/audit-events".into(), None, 403, 200),
        (Method::GET, "/events".into(), None, 403, 200),
        (Method::GET, "/events/999999".into(), None, 403, 404),
        (Method::GET, "/webhooks".into(), None, 403, 200),
        (Method::POST, "/webhooks".into(), Some(json!({})), 403, 422),
        (Method::GET, "/webhooks/999999".into(), None, 403, 404),
        (
            Method::PATCH,
            "/webhooks/999999".into(),
            Some(json!({"enabled": false})),
            403,
            404,
        ),
        (Method::DELETE, "/webhooks/999999".into(), None, 403, 404),
        (
            Method::GET,
            "/webhooks/999999/deliveries".into(),
            None,
            403,
            404,
        ),
        (
            Method::POST,
            "/webhooks/999999/deliveries/1/redeliver".into(),
            None,
            403,
            404,
        ),
        (
            Method::POST,
            "/webhooks/999999/reveal-secret".into(),
            None,
            403,
            404,
        ),
        (
            Method::GET,
            "/segments/previous-members".into(),
            None,
            403,
            200,
        ),
        (Method::GET, "/segments/prospects".into(), None, 403, 200),
        (Method::GET, "/metrics".into(), None, 403, 200),
        (Method::GET, "/segments".into(), None, 403, 200),
        (Method::POST, "/segments".into(), Some(json!({})), 403, 422),
        (Method::GET, "/segments/999999".into(), None, 403, 404),
        (
            Method::PATCH,
            "/segments/999999".into(),
            Some(json!({"name": "x", "filter": {}})),
            403,
            404,
        ),
        (Method::DELETE, "/segments/999999".into(), None, 403, 404),
        (
            Method::GET,
            "/segments/999999/contacts".into(),
            None,
            403,
            404,
        ),
        (
            Method::GET,
            "/reports/membership-mix".into(),
            None,
            403,
            200,
        ),
        (
            Method::GET,
            "/reports/membership-counts?as_of=2026-01-01".into(),
            None,
            403,
            200,
        ),
        (Method::GET, "/reports/billing".into(), None, 403, 200),
    ];
    let documented: Vec<String> = {
        let doc = api::spec();
        doc.paths.paths.keys().cloned().collect()
    };
    for (method, path, body, member_status, staff_status) in &cases {
        let anon = app
            .send(method.clone(), path, None, body.clone(), &[])
            .await;
        assert_eq!(
            anon.status.as_u16(),
            401,
            "anonymous {method} {path}: {}",
            anon.text
        );
        let m = app
            .send(method.clone(), path, Some(&member), body.clone(), &[])
            .await;
        assert_eq!(
            m.status.as_u16(),
            *member_status,
            "member {method} {path}: {}",
            m.text
        );
        let s = app
            .send(method.clone(), path, Some(&app.staff), body.clone(), &[])
            .await;
        assert_eq!(
            s.status.as_u16(),
            *staff_status,
            "staff {method} {path}: {}",
            s.text
        );
    }
    // Another member sees their own record, not the first member's.
    app.get(&format!("/contacts/{mine}"), &another)
        .await
        .problem(404, "not_found");
    app.get(&format!("/contacts/{other}"), &another)
        .await
        .expect(200);
    // Every documented secured path appears in the matrix.
    for path in documented {
        let public = [
            "/health",
            "/ready",
            "/api/v1/auth/token",
            "/api/v1/auth/register",
        ];
        if public.contains(&path.as_str()) {
            continue;
        }
        let short = path.trim_start_matches("/api/v1");
        let covered = cases.iter().any(|(_, p, ..)| {
            let p = p.split('?').next().unwrap();
            let (a, b): (Vec<&str>, Vec<&str>) =
                (p.split('/').collect(), short.split('/').collect());
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || y.starts_with('{'))
        });
        assert!(covered, "{path} is not in the role matrix");
    }
}

// ---------------------------------------------------------------- login abuse

#[tokio::test]
async fn repeated_failures_get_429_with_retry_after_even_for_the_right_password() {
    let app = spawn().await;
    for _ in 0..5 {
        login(&app, "admin", "wrong-password")
            .await
            .problem(401, "unauthorized");
    }
    let locked = login(&app, "admin", ADMIN_PASSWORD)
        .await
        .problem(429, "too_many_requests");
    let wait: u64 = locked
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=900).contains(&wait), "{wait}");
    // The lock is for that username: another login from the same address still works.
    app.post(
        "/users",
        &app.staff,
        json!({"username": "jane", "password": "a long passphrase", "role": "staff"}),
    )
    .await
    .expect(201);
    login(&app, "jane", "a long passphrase").await.expect(200);
}

#[tokio::test]
async fn too_many_attempts_from_one_address_get_429() {
    let app = spawn().await;
    // Different usernames each time, so only the per-address limit (60 a minute) applies.
    let mut limited = None;
    for i in 0..61 {
        let r = login(&app, &format!("nobody{i}"), "wrong-password").await;
        if r.status.as_u16() == 429 {
            limited = Some((i, r));
            break;
        }
        r.problem(401, "unauthorized");
    }
    let (at, r) = limited.expect("limited within 61 attempts");
    assert_eq!(at, 60);
    assert!(r.header("retry-after").is_some());
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_answer_in_the_same_time() {
    let app = spawn().await;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    // Four rounds: under the five-failure lock for `admin`.
    for i in 0..4 {
        let started = std::time::Instant::now();
        let a = login(&app, &format!("ghost{i}"), "wrong-password").await;
        unknown.push(started.elapsed());
        let started = std::time::Instant::now();
        let b = login(&app, "admin", "wrong-password").await;
        wrong.push(started.elapsed());
        assert_eq!(a.status, b.status);
        assert_eq!(a.text, b.text);
    }
    unknown.sort();
    wrong.sort();
    // Medians within a factor of two: both verify a password hash (argon2), so an unknown
    // username cannot be told from a known one by timing.
    let (u, w) = (unknown[2].as_secs_f64(), wrong[2].as_secs_f64());
    assert!(
        u > w / 2.0 && u < w * 2.0,
        "unknown {u:.4}s vs wrong {w:.4}s"
    );
}

#[tokio::test]
async fn password_length_limits_hold_at_registration_and_login() {
    let app = spawn().await;
    let long = "p".repeat(129);
    app.send(
        Method::POST,
        "/auth/register",
        None,
        Some(
            json!({"username": "longpw", "password": long, "first_name": "L",
            "last_name": "P", "email": "l@example.org"}),
        ),
        &[],
    )
    .await
    .problem(422, "validation_failed");
    // At login: over the longest password a login can have, the usual 401 after the usual
    // work; far over it, refused before any hashing, for every username alike.
    login(&app, "admin", &"p".repeat(129))
        .await
        .problem(401, "unauthorized");
    for user in ["admin", "nobody"] {
        let r = login(&app, user, &"p".repeat(100_000))
            .await
            .problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "password");
    }
}
