//! The HTTP-level test harness: the real app on port 0 against a fresh database per test
//! (an SQLite file in a temp dir, or a new PostgreSQL database when `AMS_TEST_DATABASE_URL`
//! is set), with helpers per endpoint and tokens for each role.

pub mod balancer;
pub mod child;
pub mod fresh_db;
pub mod started;
mod values;

pub use values::{
    assert_field_error, cents, detail, error_fields, etag, id, line, outcomes, products, today,
    updated_ids, with,
};

use std::net::TcpListener;

use actix_web::{HttpServer, web};
use api::config::Config;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::Db;
use service::auth::TokenKeys;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub struct TestApp {
    pub base: String,
    /// The database URL the app runs on.
    pub url: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub keys: TokenKeys,
    pub staff: String,
    _dir: Option<tempfile::TempDir>,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    /// A response read whole: its body as JSON when it is JSON (else `Null`), and as text.
    pub async fn read(res: reqwest::Response) -> Result<Res, reqwest::Error> {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Res {
            status,
            headers,
            body,
            text,
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with the given status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.text
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
        self
    }
}

/// The PostgreSQL server of `AMS_TEST_DATABASE_URL`, if the tests run on PostgreSQL.
pub fn server_url() -> Option<String> {
    std::env::var("AMS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A moment between what happened before and what happens after, as `updated_since` takes
/// it: the clock moves on a little on each side, so neither falls on the mark.
pub async fn sync_mark() -> String {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mark = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    mark.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A new PostgreSQL database when `AMS_TEST_DATABASE_URL` is set, else an SQLite file in a
/// temporary directory (kept alive by the returned guard).
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    fresh_db::fresh(server_url().as_deref()).await
}

/// Drops a PostgreSQL database made by [`fresh_database`] once the test is done with it.
pub async fn drop_database(url: &str) {
    fresh_db::drop(server_url().as_deref(), url).await;
}

/// The app as most tests run it: webhooks may reach the receivers the tests start on loopback.
pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

/// The app with its configuration changed first by `configure`.
pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (url, dir) = fresh_database().await;
    serve(url, dir, configure).await
}

/// A second server on the database of `app`, configured by `configure`: what two servers
/// behind one load balancer share.
pub async fn spawn_beside(app: &TestApp, configure: impl FnOnce(&mut Config)) -> TestApp {
    serve(app.url.clone(), None, configure).await
}

async fn serve(
    url: String,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut cfg = Config::for_database(&url);
    cfg.admin_password = Some(ADMIN_PASSWORD.into());
    cfg.webhook_allow_private_networks = true;
    configure(&mut cfg);
    let (state, _) = api::build_state(&cfg).await.expect("build state");
    let db = state.db.clone();
    let keys = state.keys.clone();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let data = web::Data::new(state);
    // The document and route table are the same for every app of the process.
    static ROUTES: std::sync::OnceLock<api::app::Routes> = std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(api::app::Routes::new).clone();
    let server = HttpServer::new(move || {
        api::app::build_app(
            data.clone(),
            routes.clone(),
            vec!["https://app.example.org".into()],
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    let admin = service::users::find_by_username(&db.conn, "admin")
        .await
        .expect("query")
        .expect("admin exists");
    let staff = keys.issue(admin.id, "staff", None, now()).expect("token");
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        url,
        client: service::http::client(),
        db,
        keys,
        staff,
        _dir: dir,
    }
}

/// `quick` normally, `long` when `AMS_CI_LONG=1` (the README's long mode): sizes and rounds of
/// the fault and concurrency tests.
pub fn scale(quick: u64, long: u64) -> u64 {
    if std::env::var("AMS_CI_LONG").as_deref() == Ok("1") {
        long
    } else {
        quick
    }
}

/// Runs the calling test again in a process of its own and returns true there, where the test
/// goes on; in the first process returns false once that run passed. For tests that measure
/// the process itself (its peak memory), which the other tests of the binary share. `path` is
/// the test function's path: `concat!(module_path!(), "::name")`.
pub fn alone(path: &str) -> bool {
    const MARK: &str = "AMS_TEST_ALONE";
    // The test binary names its tests by their path below the crate.
    let name = path.split_once("::").map_or(path, |(_, rest)| rest);
    if std::env::var(MARK).as_deref() == Ok(name) {
        return true;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--test-threads=1"])
        .env(MARK, name)
        .output()
        .expect("run the test alone");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A name that matches no test passes too: the count shows that this one ran.
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{name}, run alone:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims as the server issues them, valid for ten minutes: a base for forged tokens.
pub fn claims(sub: &str, role: &str, contact_id: Option<i64>) -> service::auth::Claims {
    service::auth::Claims {
        sub: sub.into(),
        role: role.into(),
        contact_id,
        iss: service::auth::ISSUER.into(),
        aud: service::auth::AUDIENCE.into(),
        iat: now(),
        exp: now() + 600,
    }
}

/// `claims` signed with HS256 and `key`, as the server signs its tokens.
pub fn sign(claims: &service::auth::Claims, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("sign")
}

/// The URL of `path` on the server at `base`: API paths may leave out `/api/v1`.
pub fn url_of(base: &str, path: &str) -> String {
    let outside_api = [
        "/api/",
        "/health",
        "/ready",
        "/metrics",
        "/swagger",
        "/api-docs",
    ];
    if outside_api.iter().any(|p| path.starts_with(p)) {
        format!("{base}{path}")
    } else {
        format!("{base}/api/v1{path}")
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        url_of(&self.base, path)
    }

    /// Sends a request; `token` None is anonymous; `body` None sends no body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        Res::read(res).await.expect("body")
    }

    /// Sends a raw body with the given content type (CSV uploads).
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Res {
        let res = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        Res::read(res).await.expect("body")
    }

    /// Posts CSV to `path` as staff.
    pub async fn post_csv(&self, path: &str, csv: &str) -> Res {
        self.send_raw(Method::POST, path, &self.staff, "text/csv", csv.to_owned())
            .await
    }

    /// The audit events of one action, newest first (as staff).
    pub async fn audit_events(&self, action: &str) -> Vec<Value> {
        self.items(&format!("/audit-events?action={action}")).await
    }

    /// The `items` of a list read as staff (one page).
    pub async fn items(&self, path: &str) -> Vec<Value> {
        self.get(path, &self.staff).await.expect(200).body["items"]
            .as_array()
            .cloned()
            .expect("items")
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.send(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.send(Method::PUT, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.send(Method::PATCH, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.send(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// Signs arbitrary claims with the server's own secret (to test claim checks).
    pub async fn sign_with_app_secret(&self, claims: &service::auth::Claims) -> String {
        let secret = service::bootstrap::jwt_secret(&self.db, None)
            .await
            .expect("secret");
        sign(claims, secret.as_bytes())
    }

    /// A member token for `contact_id`: its login, made (without a password) when it has none.
    /// Tokens are honoured only while their login exists (SEC-8).
    pub async fn member_token(&self, contact_id: i64) -> String {
        use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
        let existing = entity::user::Entity::find()
            .filter(entity::user::Column::ContactId.eq(contact_id))
            .one(&self.db.conn)
            .await
            .expect("query");
        let user_id = match existing {
            Some(u) => u.id,
            None => {
                let at = chrono::Utc::now();
                entity::user::ActiveModel {
                    username: Set(format!("member-{contact_id}")),
                    // No password hashes to this: the login is reached by token only.
                    password_hash: Set("!".into()),
                    role: Set(service::users::Role::Member),
                    contact_id: Set(Some(contact_id)),
                    created_at: Set(at),
                    updated_at: Set(at),
                    ..Default::default()
                }
                .insert(&self.db.conn)
                .await
                .expect("member login")
                .id
            }
        };
        self.keys
            .issue(user_id, "member", Some(contact_id), now())
            .expect("token")
    }

    pub async fn create_type(&self, body: Value) -> Value {
        self.post("/customer-types", &self.staff, body)
            .await
            .expect(201)
            .body
    }

    pub async fn create_product(&self, code: &str, product_type: &str, price: &str) -> Value {
        self.post(
            "/products",
            &self.staff,
            json!({"code": code, "name": code, "product_type": product_type, "price": price}),
        )
        .await
        .expect(201)
        .body
    }

    /// A product with a term length.
    pub async fn create_product_with_term(
        &self,
        code: &str,
        product_type: &str,
        price: &str,
        months: u32,
    ) -> Value {
        self.post(
            "/products",
            &self.staff,
            json!({"code": code, "name": code, "product_type": product_type, "price": price,
                "term_months": months}),
        )
        .await
        .expect(201)
        .body
    }

    /// A billing cycle; its id.
    pub async fn create_cycle(&self, body: Value) -> i64 {
        self.post("/billing-cycles", &self.staff, body)
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("cycle id")
    }

    /// Patches a billing cycle with the `If-Match` of a fresh read.
    pub async fn patch_cycle(&self, id: i64, body: Value) {
        let path = format!("/billing-cycles/{id}");
        let etag = values::etag(&self.get(&path, &self.staff).await.expect(200));
        self.send(
            Method::PATCH,
            &path,
            Some(&self.staff),
            Some(body),
            &[("If-Match", &etag)],
        )
        .await
        .expect(200);
    }

    pub async fn create_category(&self, code: &str) -> Value {
        self.post(
            "/billing-categories",
            &self.staff,
            json!({"code": code, "name": code}),
        )
        .await
        .expect(201)
        .body
    }

    pub async fn create_contact(&self, body: Value) -> Value {
        self.post("/contacts", &self.staff, body)
            .await
            .expect(201)
            .body
    }

    pub async fn person(&self, customer_type: &str, last_name: &str) -> i64 {
        self.create_contact(
            json!({"customer_type": customer_type, "first_name": "Pat", "last_name": last_name}),
        )
        .await["id"]
            .as_i64()
            .expect("id")
    }

    pub async fn set_settings(&self, patch: Value) -> Value {
        let s = self
            .get("/settings/membership", &self.staff)
            .await
            .expect(200)
            .body;
        self.put("/settings/membership", &self.staff, with(s, patch))
            .await
            .expect(200)
            .body
    }

    /// A contact as staff read it.
    pub async fn contact(&self, id: i64) -> Value {
        self.get(&format!("/contacts/{id}"), &self.staff)
            .await
            .expect(200)
            .body
    }

    /// A contact's `paid_through`.
    pub async fn paid_through(&self, contact: i64) -> Value {
        self.contact(contact).await["paid_through"].clone()
    }

    /// A contact's history (type changes and the like), as staff read it.
    pub async fn history(&self, contact: i64) -> Vec<Value> {
        self.items(&format!("/contacts/{contact}/history")).await
    }

    /// An invoice as staff read it.
    pub async fn invoice(&self, id: i64) -> Value {
        self.get(&format!("/invoices/{id}"), &self.staff)
            .await
            .expect(200)
            .body
    }

    /// A card payment of `amount` on `invoice`, made by staff on `on`.
    pub async fn pay(&self, invoice: i64, amount: &str, on: &str) -> Res {
        self.post(
            &format!("/invoices/{invoice}/payments"),
            &self.staff,
            json!({"amount": amount, "paid_on": on, "method": "card"}),
        )
        .await
    }

    /// A subscription made by staff; the created record.
    pub async fn subscribe(&self, body: Value) -> Value {
        self.post("/subscriptions", &self.staff, body)
            .await
            .expect(201)
            .body
    }

    /// A subscription as staff read it.
    pub async fn subscription(&self, id: i64) -> Value {
        self.get(&format!("/subscriptions/{id}"), &self.staff)
            .await
            .expect(200)
            .body
    }

    /// Every subscription matching `query` (`""` for all), walking all pages.
    pub async fn subscriptions(&self, query: &str) -> Vec<Value> {
        if query.is_empty() {
            self.all("/subscriptions").await
        } else {
            self.all(&format!("/subscriptions?{query}")).await
        }
    }

    /// Marks a subscription as billed, in the database as a billing run sets it: the tests of
    /// what billing locks need the mark without the invoice.
    pub async fn mark_billed(&self, id: i64) {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = &self.db.conn;
        conn.execute_raw(Statement::from_string(
            conn.get_database_backend(),
            format!("UPDATE subscriptions SET billed = TRUE WHERE id = {id}"),
        ))
        .await
        .expect("mark billed");
    }

    /// Every item of a paged list read as staff (200 a page, following `next_cursor`).
    pub async fn all(&self, path: &str) -> Vec<Value> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                None => format!("{path}{sep}limit=200"),
                Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            };
            let r = self.get(&url, &self.staff).await.expect(200);
            out.extend(r.body["items"].as_array().expect("items").iter().cloned());
            match r.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    /// The events of type `kind` in the feed, oldest first (up to 200).
    pub async fn events_of(&self, kind: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/events?type={kind}&limit=200"), &self.staff)
            .await
            .expect(200);
        r.body["items"].as_array().cloned().unwrap_or_default()
    }

    /// A list's CSV export (`Accept: text/csv`), as staff.
    pub async fn export_csv(&self, path: &str) -> String {
        self.send(
            Method::GET,
            path,
            Some(&self.staff),
            None,
            &[("accept", "text/csv")],
        )
        .await
        .expect(200)
        .text
    }

    /// `(id, updated_at)` of each item of a list.
    pub async fn stamps(&self, path: &str) -> Vec<(i64, Value)> {
        self.all(path)
            .await
            .iter()
            .map(|i| (id(i), i["updated_at"].clone()))
            .collect()
    }

    /// The ids of every item of `path` changed at or after `since` (`updated_since`).
    pub async fn ids_updated_since(&self, path: &str, since: &str) -> Vec<i64> {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.all(&format!("{path}{sep}updated_since={since}"))
            .await
            .iter()
            .map(id)
            .collect()
    }

    /// Uploads an XLSX workbook to the subscription import with `query` (`action=insert`).
    pub async fn post_xlsx(&self, query: &str, body: Vec<u8>) -> Res {
        self.send_raw(
            Method::POST,
            &format!("/subscriptions/import?{query}"),
            &self.staff,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body,
        )
        .await
    }

    /// A staff join through `cycle` in category REG, paid in full on `paid_on`; the invoice.
    pub async fn join_and_pay(
        &self,
        contact: i64,
        cycle: &str,
        join_date: &str,
        paid_on: &str,
    ) -> Value {
        let inv = self
            .post(
                &format!("/contacts/{contact}/join"),
                &self.staff,
                json!({"billing_cycle": cycle, "billing_category": "REG", "join_date": join_date}),
            )
            .await
            .expect(201)
            .body["invoice"]
            .clone();
        let id = inv["id"].as_i64().expect("invoice id");
        self.post(
            &format!("/invoices/{id}/payments"),
            &self.staff,
            json!({"amount": inv["total"], "paid_on": paid_on, "method": "card"}),
        )
        .await
        .expect(201);
        inv
    }

    /// E-1's reference data: `NM` person non-member, `HOSP` organization, `M` member with
    /// dues `MDUES`, categories REG/FYEAR/INTL; settings default to NM/HOSP.
    pub async fn doctors(&self) {
        for c in ["REG", "FYEAR", "INTL"] {
            self.create_category(c).await;
        }
        self.create_product("MDUES", "dues", "500.00").await;
        self.create_type(json!({"code": "NM", "name": "Non-member", "is_member": false, "is_organization": false})).await;
        self.create_type(json!({"code": "HOSP", "name": "Hospital", "is_member": false, "is_organization": true})).await;
        self.create_type(
            json!({"code": "M", "name": "Member", "is_member": true, "is_organization": false,
            "primary_fee": {"kind": "products", "products": ["MDUES"]}, "expires_to": "NM"}),
        )
        .await;
        self.set_settings(
            json!({"default_person_type": "NM", "default_organization_type": "HOSP"}),
        )
        .await;
    }

    /// E-1 billed annually in a January fiscal year, with the join cycle `name` for type `M`;
    /// the cycle's id.
    pub async fn doctors_with_join_cycle(&self, name: &str) -> i64 {
        self.doctors().await;
        self.set_settings(json!({"default_billing_time": "annual", "fiscal_year_start_month": 1}))
            .await;
        self.create_cycle(json!({"name": name, "customer_types": ["M"], "join_item_set": true}))
            .await
    }

    /// E-1 plus the chapters `CHAPT/EAST` and `CHAPT/WEST` and the journal `JOURNAL`.
    pub async fn doctors_with_subscription_products(&self) {
        self.doctors().await;
        self.create_product("CHAPT/EAST", "chapter", "25.00").await;
        self.create_product("CHAPT/WEST", "chapter", "25.00").await;
        self.create_product("JOURNAL", "subscription", "40.00")
            .await;
    }

    /// E-2's reference data: member colleges `M` flow down to `MIND`, non-member colleges `NM`
    /// to `NMIND`; settings default to NMIND/NM.
    pub async fn colleges(&self) {
        for c in ["RES", "LA", "CC"] {
            self.create_category(c).await;
        }
        self.create_product("CDUES", "dues", "500.00").await;
        self.create_type(json!({"code": "NMIND", "name": "Individual at non-member college", "is_member": false, "is_organization": false})).await;
        self.create_type(json!({"code": "MIND", "name": "Individual at member college", "is_member": true, "is_organization": false, "expires_to": "NMIND"})).await;
        self.create_type(json!({"code": "NM", "name": "Non-member college", "is_member": false, "is_organization": true, "flow_down_type": "NMIND"})).await;
        self.create_type(json!({"code": "M", "name": "Member college", "is_member": true, "is_organization": true,
            "primary_fee": {"kind": "products", "products": ["CDUES"]}, "expires_to": "NM", "flow_down_type": "MIND"}))
            .await;
        self.set_settings(
            json!({"default_person_type": "NMIND", "default_organization_type": "NM"}),
        )
        .await;
    }
}
