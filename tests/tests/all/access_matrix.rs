//! SEC-1, SEC-2: the access-control matrix, generated from the served OpenAPI document. Every
//! operation is called with no token, an expired token, one signed with another key, an
//! unsigned (`alg: none`) one, one for another audience, a member's, another member's and
//! staff's. The roles an operation admits are read from its security requirement; the
//! document is the contract, so an operation added without the right guard fails here.

use reqwest::Method;
use serde_json::json;
use service::auth::Claims;
use tests::{TestApp, now, spawn};

struct Operation {
    method: Method,
    /// The documented path, `{params}` included.
    template: String,
    /// `None`: public. Otherwise the roles that may call it.
    roles: Option<Vec<String>>,
    has_body: bool,
    required_query: Vec<(String, String)>,
}

fn operations() -> Vec<Operation> {
    let doc = serde_json::to_value(api::spec()).expect("spec as JSON");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let method = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            // No requirement, or an empty one (`{}`), lets anyone call.
            let roles = op["security"]
                .as_array()
                .filter(|reqs| {
                    !reqs
                        .iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                })
                .map(|reqs| {
                    reqs.iter()
                        .flat_map(|r| r["bearer"].as_array().cloned().unwrap_or_default())
                        .filter_map(|r| r.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                });
            let required_query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query" && p["required"] == true)
                        .map(|p| {
                            let value = match p["schema"]["format"].as_str() {
                                Some("date") => "2026-01-01",
                                _ if p["schema"]["type"] == "integer" => "1",
                                _ => "x",
                            };
                            (
                                p["name"].as_str().unwrap_or("").to_owned(),
                                value.to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Operation {
                method,
                template: path.clone(),
                roles,
                has_body: op.get("requestBody").is_some(),
                required_query,
            });
        }
    }
    out
}

/// The member's own records, which another member must not see.
struct Mine {
    contact: i64,
    invoice: i64,
    subscription: i64,
}

impl Operation {
    /// The path with the member's own ids where the path names a contact, an invoice or a
    /// subscription; `true` when it does.
    fn path(&self, mine: &Mine) -> (String, bool) {
        let mut owned = false;
        let mut parts = Vec::new();
        let segments: Vec<&str> = self.template.split('/').collect();
        for (i, seg) in segments.iter().enumerate() {
            if !seg.starts_with('{') {
                parts.push((*seg).to_owned());
                continue;
            }
            let owner = if *seg == "{contact_id}" {
                "contacts"
            } else {
                segments.get(i.wrapping_sub(1)).copied().unwrap_or("")
            };
            let value = match (owner, *seg) {
                ("contacts", _) => Some(mine.contact),
                ("invoices", "{id}") => Some(mine.invoice),
                ("subscriptions", "{id}") => Some(mine.subscription),
                _ => None,
            };
            match value {
                Some(v) => {
                    owned = true;
                    parts.push(v.to_string());
                }
                None if seg.contains("code") => parts.push("NOPE".into()),
                None => parts.push("999999".into()),
            }
        }
        let mut path = parts.join("/");
        if !self.required_query.is_empty() {
            let q: Vec<String> = self
                .required_query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            path = format!("{path}?{}", q.join("&"));
        }
        (path, owned)
    }

    fn admits(&self, role: &str) -> bool {
        self.roles
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == role))
    }
}

async fn call(app: &TestApp, op: &Operation, path: &str, token: Option<&str>) -> tests::Res {
    let body = op.has_body.then(|| json!({}));
    app.send(op.method.clone(), path, token, body, &[]).await
}

fn forged_tokens(app: &TestApp, secret: &str) -> Vec<(&'static str, String)> {
    use base64::Engine;
    let good = tests::claims("1", "staff", None);
    let sign = tests::sign;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        (
            "expired",
            app.keys
                .issue(1, "staff", None, now() - 7200)
                .expect("token"),
        ),
        (
            "another key",
            sign(&good, b"some-other-secret-some-other-secret"),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
                b64.encode(serde_json::to_string(&good).expect("claims"))
            ),
        ),
        (
            "wrong audience",
            sign(
                &Claims {
                    aud: "elsewhere".into(),
                    ..good.clone()
                },
                secret.as_bytes(),
            ),
        ),
    ]
}

fn assert_status(res: &tests::Res, ok: impl Fn(u16) -> bool, what: &str) {
    let status = res.status.as_u16();
    assert!(ok(status), "{what}: got {status}: {}", res.text);
    if status >= 400 {
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{what}"
        );
    }
}

/// Online payments are not configured here: their operations answer 503
/// `payments_not_configured` (G-1) once the caller may see what they ask about.
#[tokio::test]
async fn sec1_sec2_access_matrix_generated_from_the_openapi_document() {
    let app = spawn().await;
    app.doctors_with_join_cycle("Matrix join").await;
    app.create_product("CHAPT/EAST", "chapter", "25.00").await;
    let mine_id = app.person("NM", "Mine").await;
    let other_id = app.person("NM", "Other").await;
    let invoice = app
        .post(
            &format!("/contacts/{mine_id}/join"),
            &app.staff,
            json!({"billing_cycle": "Matrix join", "billing_category": "REG", "join_date": "2026-01-01"}),
        )
        .await
        .expect(201)
        .body["invoice"]["id"]
        .as_i64()
        .expect("invoice");
    let subscription = app
        .post(
            "/subscriptions",
            &app.staff,
            json!({"contact_id": mine_id, "product": "CHAPT/EAST"}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .expect("subscription");
    let mine = Mine {
        contact: mine_id,
        invoice,
        subscription,
    };
    let member = app.member_token(mine_id).await;
    let another = app.member_token(other_id).await;
    let secret = service::bootstrap::jwt_secret(&app.db, None)
        .await
        .expect("secret");
    let forged = forged_tokens(&app, &secret);

    let ops = operations();
    assert!(ops.len() > 90, "only {} operations documented", ops.len());
    let not_denied = |s: u16| s != 401 && s != 403;
    // Members first, then staff: staff writes (deletes) may remove what the members read.
    for op in &ops {
        let (path, owned) = op.path(&mine);
        let what = |who: &str| format!("{who} {} {path}", op.method);
        if op.roles.is_none() {
            continue;
        }
        let r = call(&app, op, &path, None).await;
        assert_status(&r, |s| s == 401, &what("no token"));
        assert_eq!(r.body["code"], "unauthorized", "{}", what("no token"));
        for (name, token) in &forged {
            let r = call(&app, op, &path, Some(token)).await;
            assert_status(&r, |s| s == 401, &what(name));
        }
        let r = call(&app, op, &path, Some(&member)).await;
        if op.admits("member") {
            assert_status(
                &r,
                |s| not_denied(s) && !(owned && s == 404),
                &what("member"),
            );
        } else {
            assert_status(&r, |s| s == 403, &what("member"));
            assert_eq!(r.body["code"], "forbidden", "{}", what("member"));
        }
        let r = call(&app, op, &path, Some(&another)).await;
        if !op.admits("member") {
            assert_status(&r, |s| s == 403, &what("another member"));
        } else if owned {
            // SEC-1: another member's record does not exist for this caller.
            assert_status(&r, |s| s == 404, &what("another member"));
        } else {
            assert_status(&r, not_denied, &what("another member"));
        }
    }
    for op in ops.iter().filter(|op| op.roles.is_some()) {
        let (path, _) = op.path(&mine);
        let r = call(&app, op, &path, Some(&app.staff)).await;
        if op.admits("staff") {
            let unconfigured = r.body["code"] == "payments_not_configured";
            assert_status(
                &r,
                |s| not_denied(s) && (s < 500 || unconfigured),
                &format!("staff {} {path}", op.method),
            );
        } else {
            assert_status(&r, |s| s == 403, &format!("staff {} {path}", op.method));
        }
    }
    // The public operations answer without a token.
    for op in ops.iter().filter(|op| op.roles.is_none()) {
        let (path, _) = op.path(&mine);
        let r = call(&app, op, &path, None).await;
        let unconfigured = r.body["code"] == "payments_not_configured";
        assert_status(
            &r,
            |s| s != 401 && s != 403 && (s < 500 || unconfigured),
            &format!("anonymous {path}"),
        );
    }
}
