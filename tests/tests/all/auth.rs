//! Logins, tokens and the role matrix (SEC-1, SEC-2).

use reqwest::Method;
use serde_json::{Value, json};
use service::auth::Claims;
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

#[tokio::test]
async fn sec2_expired_foreign_unsigned_and_misaddressed_tokens_get_401() {
    let app = spawn().await;
    let good = tests::claims("1", "staff", None);
    let expired = app.keys.issue(1, "staff", None, now() - 7200).unwrap();
    let other_key = tests::sign(&good, b"some-other-secret-some-other-secret");
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

/// SEC-1, the answers `access_matrix.rs` leaves open. It generates every operation's 401
/// without a token, a member's 403 on staff operations, staff's 403 on `/me`, another member's
/// 404 on the member's records and staff's admission; where a member is admitted it only
/// refuses 401, 403 and a 404 on their own records. These are the exact answers there: their
/// own records, the reference data they may read, `/me`, and an invoice that does not exist.
#[tokio::test]
async fn sec1_what_a_member_gets_where_admitted() {
    let app = spawn().await;
    app.doctors().await;
    app.create_product("CHAPT/EAST", "chapter", "25.00").await;
    let mine = app.person("NM", "Mine").await;
    let other = app.person("NM", "Other").await;
    let member = app.member_token(mine).await;
    let another = app.member_token(other).await;
    let sub_mine = app
        .subscribe(json!({"contact_id": mine, "product": "CHAPT/EAST"}))
        .await["id"]
        .as_i64()
        .unwrap();

    // (method, path, body, member status, staff status)
    let cases: Vec<(Method, String, Option<Value>, u16, u16)> = vec![
        (Method::GET, "/customer-types".into(), None, 200, 200),
        (Method::GET, "/customer-types/M".into(), None, 200, 200),
        (Method::GET, "/billing-categories".into(), None, 200, 200),
        (
            Method::GET,
            "/billing-categories/REG".into(),
            None,
            200,
            200,
        ),
        (Method::GET, "/products".into(), None, 200, 200),
        (Method::GET, "/products/CHAPT%2FEAST".into(), None, 200, 200),
        (Method::GET, format!("/contacts/{mine}"), None, 200, 200),
        (
            Method::GET,
            format!("/contacts/{mine}/history"),
            None,
            200,
            200,
        ),
        (Method::GET, "/me".into(), None, 200, 403),
        (
            Method::PATCH,
            "/me".into(),
            Some(json!({"phone": "2"})),
            200,
            403,
        ),
        (Method::GET, "/me/history".into(), None, 200, 403),
        (Method::GET, "/invoices/999999".into(), None, 404, 404),
        (
            Method::GET,
            format!("/contacts/{mine}/invoices"),
            None,
            200,
            200,
        ),
        (Method::GET, "/me/invoices".into(), None, 200, 403),
        (Method::GET, "/me/renewal".into(), None, 404, 403),
        (
            Method::POST,
            "/me/renewal".into(),
            // A change asked of no open renewal (`{}` would start one, R-9).
            Some(json!({"add_ons": ["JOURNAL"]})),
            404,
            403,
        ),
        (
            Method::POST,
            "/me/join".into(),
            Some(json!({"billing_cycle": 999999})),
            422,
            403,
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
            format!("/contacts/{mine}/subscriptions"),
            None,
            200,
            200,
        ),
        (Method::GET, "/me/subscriptions".into(), None, 200, 403),
    ];
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
async fn jb4_login_limits_count_across_the_servers_of_one_database() {
    let first = spawn().await;
    let second = tests::spawn_beside(&first, |_| {}).await;
    // Failures spread over two servers add up: the fifth locks the login on both.
    for app in [&first, &second, &first, &second, &first] {
        login(app, "admin", "wrong-password")
            .await
            .problem(401, "unauthorized");
    }
    for app in [&first, &second] {
        login(app, "admin", ADMIN_PASSWORD)
            .await
            .problem(429, "too_many_requests");
    }
}

async fn login_from(app: &TestApp, forwarded: &str, password: &str) -> tests::Res {
    app.send(
        Method::POST,
        "/auth/token",
        None,
        Some(json!({"username": "admin", "password": password})),
        &[("X-Forwarded-For", forwarded)],
    )
    .await
}

#[tokio::test]
async fn jb4_behind_a_trusted_load_balancer_each_client_is_counted_by_its_own_address() {
    let app = tests::spawn_with(|c| c.trusted_proxies = "127.0.0.1".into()).await;
    for _ in 0..5 {
        login_from(&app, "192.0.2.1", "wrong-password")
            .await
            .problem(401, "unauthorized");
    }
    login_from(&app, "192.0.2.1", ADMIN_PASSWORD)
        .await
        .problem(429, "too_many_requests");
    // Another client behind the same balancer is not locked out.
    login_from(&app, "198.51.100.7", ADMIN_PASSWORD)
        .await
        .expect(200);
    // A client's own claim before the balancer's entry does not move it elsewhere.
    login_from(&app, "203.0.113.9, 192.0.2.1", ADMIN_PASSWORD)
        .await
        .problem(429, "too_many_requests");

    // Without trusted proxies the header is the client's word and counts for nothing.
    let direct = spawn().await;
    for _ in 0..5 {
        login_from(&direct, "192.0.2.1", "wrong-password")
            .await
            .problem(401, "unauthorized");
    }
    login_from(&direct, "198.51.100.7", ADMIN_PASSWORD)
        .await
        .problem(429, "too_many_requests");
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
