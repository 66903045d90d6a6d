//! API.md's general conventions, checked over HTTP: problem+json for every bad input,
//! request ids, CORS, ETag/If-Match.

use reqwest::Method;
use serde_json::json;
use tests::spawn;

#[tokio::test]
async fn malformed_json_is_400_problem() {
    let app = spawn().await;
    let res = app
        .client
        .post(app.url("/products"))
        .bearer_auth(&app.staff)
        .header("content-type", "application/json")
        .body("{\"code\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "malformed_json");
}

#[tokio::test]
async fn wrong_types_unknown_enums_and_unknown_fields_are_422_naming_the_field() {
    let app = spawn().await;
    let r = app
        .post("/products", &app.staff, json!({"code": "X", "name": "x", "product_type": "dues", "price": "1.00", "term_months": "twelve"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "term_months");
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "X", "name": "x", "product_type": "gadget", "price": "1.00"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "product_type");
    let r = app
        .post("/products", &app.staff, json!({"code": "X", "name": "x", "product_type": "dues", "price": "1.00", "colour": "red"}))
        .await
        .problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("colour"));
    // Nothing was written.
    app.get("/products/X", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn money_accepts_strings_and_numbers_but_not_three_places() {
    let app = spawn().await;
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "A1", "name": "a", "product_type": "dues", "price": 12.5}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["price"], "12.50");
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "A2", "name": "a", "product_type": "dues", "price": "7"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["price"], "7.00");
    let r = app
        .post(
            "/products",
            &app.staff,
            json!({"code": "A3", "name": "a", "product_type": "dues", "price": "7.005"}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "price");
    app.post(
        "/products",
        &app.staff,
        json!({"code": "A5", "name": "a", "product_type": "dues", "price": "7.500"}),
    )
    .await
    .problem(422, "validation_failed");
    app.post(
        "/products",
        &app.staff,
        json!({"code": "A4", "name": "a", "product_type": "dues", "price": "seven"}),
    )
    .await
    .problem(422, "validation_failed");
}

#[tokio::test]
async fn wrong_content_type_is_415_and_huge_bodies_are_413() {
    let app = spawn().await;
    let res = app
        .client
        .post(app.url("/billing-categories"))
        .bearer_auth(&app.staff)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let big = json!({"code": "BIG", "name": "x".repeat(400 * 1024)});
    app.post("/billing-categories", &app.staff, big)
        .await
        .problem(413, "payload_too_large");
}

#[tokio::test]
async fn bad_path_and_query_parameters_are_400_problems() {
    let app = spawn().await;
    app.get("/contacts/not-a-number", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?limit=abc", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?limit=0", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?limit=201", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?cursor=%21%21", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?is_member=maybe", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/contacts?updated_since=yesterday", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    // A literal path is not an id of the parameterized one beside it.
    let r = app
        .send(
            Method::PATCH,
            "/contacts/purge",
            Some(&app.staff),
            Some(json!({})),
            &[],
        )
        .await
        .problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    app.get("/no-such-thing", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn request_id_is_echoed_or_generated() {
    let app = spawn().await;
    let r = app
        .send(
            Method::GET,
            "/health",
            None,
            None,
            &[("x-request-id", "abc-123")],
        )
        .await
        .expect(200);
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = app
        .send(Method::GET, "/health", None, None, &[])
        .await
        .expect(200);
    assert_eq!(r.header("x-request-id").map(|v| v.len()), Some(36));
    // Error responses carry it too.
    let r = app
        .send(
            Method::GET,
            "/api/v1/contacts",
            None,
            None,
            &[("x-request-id", "req-9")],
        )
        .await
        .expect(401);
    assert_eq!(r.header("x-request-id").as_deref(), Some("req-9"));
}

#[tokio::test]
async fn cors_allows_configured_origins_and_exposes_headers() {
    let app = spawn().await;
    let res = app
        .client
        .request(Method::OPTIONS, app.url("/contacts"))
        .header("origin", "https://app.example.org")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization, if-match, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let r = app
        .send(
            Method::GET,
            "/contacts",
            Some(&app.staff),
            None,
            &[("origin", "https://app.example.org")],
        )
        .await
        .expect(200);
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_lowercase();
    for h in ["etag", "location", "x-request-id", "retry-after"] {
        assert!(exposed.contains(h), "{h} not exposed: {exposed}");
    }
    let r = app
        .send(
            Method::GET,
            "/contacts",
            Some(&app.staff),
            None,
            &[("origin", "https://evil.example.com")],
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn etag_and_if_match_prevent_lost_updates() {
    let app = spawn().await;
    app.create_category("REG").await;
    let r = app
        .get("/billing-categories/REG", &app.staff)
        .await
        .expect(200);
    let etag = r.header("etag").unwrap();
    // Two staff edit from the same read: the first wins, the second gets 412.
    app.send(
        Method::PATCH,
        "/billing-categories/REG",
        Some(&app.staff),
        Some(json!({"name": "Regular"})),
        &[("if-match", &etag)],
    )
    .await
    .expect(200);
    app.send(
        Method::PATCH,
        "/billing-categories/REG",
        Some(&app.staff),
        Some(json!({"name": "Ordinary"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "precondition_failed");
    let r = app
        .get("/billing-categories/REG", &app.staff)
        .await
        .expect(200);
    assert_eq!(r.body["name"], "Regular");
    assert_ne!(r.header("etag").unwrap(), etag);
    // DELETE honours If-Match too.
    app.send(
        Method::DELETE,
        "/billing-categories/REG",
        Some(&app.staff),
        None,
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "precondition_failed");
    let fresh = r.header("etag").unwrap();
    app.send(
        Method::DELETE,
        "/billing-categories/REG",
        Some(&app.staff),
        None,
        &[("if-match", &fresh)],
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn concurrent_edits_with_the_same_if_match_let_exactly_one_win() {
    let app = spawn().await;
    let id = app.person("NMP", "Race").await;
    let etag = app
        .get(&format!("/contacts/{id}"), &app.staff)
        .await
        .header("etag")
        .unwrap();
    let path = format!("/contacts/{id}");
    let mut handles = Vec::new();
    for i in 0..6 {
        let (client, url, token, etag) = (
            app.client.clone(),
            app.url(&path),
            app.staff.clone(),
            etag.clone(),
        );
        handles.push(tokio::spawn(async move {
            client
                .patch(url)
                .bearer_auth(token)
                .header("if-match", etag)
                .json(&json!({"phone": format!("555-000{i}")}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 412).count(), 5, "{codes:?}");
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405_with_allow() {
    let app = spawn().await;
    let r = app
        .send(
            Method::PUT,
            "/contacts",
            Some(&app.staff),
            Some(json!({})),
            &[],
        )
        .await
        .problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, POST"));
    let r = app
        .send(
            Method::POST,
            "/contacts/12",
            Some(&app.staff),
            Some(json!({})),
            &[],
        )
        .await
        .problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("GET, PATCH"));
    // A literal path is not an id of the parameterized one beside it.
    let r = app
        .send(
            Method::PATCH,
            "/contacts/purge",
            Some(&app.staff),
            Some(json!({})),
            &[],
        )
        .await
        .problem(405, "method_not_allowed");
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    app.get("/no-such-thing", &app.staff)
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn deep_or_huge_input_is_a_clear_problem_and_the_server_stays_up() {
    let app = spawn().await;
    // Nested far past serde_json's recursion limit (128): refused, not a stack overflow.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies = [
        ("/billing-categories", nested.clone()),
        // Rows are free-form JSON: the depth limit is what stops this one.
        (
            "/subscriptions/import",
            format!(r#"{{"action": "insert", "rows": [{nested}]}}"#),
        ),
    ];
    for (path, body) in bodies {
        let res = app
            .client
            .post(app.url(path))
            .bearer_auth(&app.staff)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert!(status == 400 || status == 422, "{path}: {status}");
    }
    // An upload over 64 MiB is 413 whatever its content.
    let huge = vec![b'x'; 65 * 1024 * 1024];
    let res = app
        .client
        .post(app.url("/subscriptions/import?action=insert"))
        .bearer_auth(&app.staff)
        .header("content-type", "text/csv")
        .body(huge)
        .send()
        .await;
    // The server may close the connection after answering; either way it is not accepted.
    if let Ok(res) = res {
        assert_eq!(res.status().as_u16(), 413);
    }
    // A page larger than 200 is refused rather than served.
    app.get("/contacts?limit=100000", &app.staff)
        .await
        .problem(400, "invalid_parameter");
    app.get("/health", &app.staff).await.expect(200);
    app.get("/contacts", &app.staff).await.expect(200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_time_imports() {
    let app = spawn().await;
    app.doctors().await;
    let id = app.person("NM", "Metric").await;
    app.get(&format!("/contacts/{id}"), &app.staff)
        .await
        .expect(200);
    app.get("/contacts/999999", &app.staff).await.expect(404);
    app.post_csv(
        "/subscriptions/import?action=upsert",
        &format!("contact_id,product\n{id},MDUES\n"),
    )
    .await
    .expect(200);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(&app.staff)
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
    );
    let text = res.text().await.expect("body");
    // By route pattern, never the raw path: ids do not multiply the series.
    let count = |series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(
        count(
            r#"ams_http_requests_total{method="GET",route="/api/v1/contacts/{id}",status="200"} "#
        ) >= 1,
        "{text}"
    );
    assert!(
        count(
            r#"ams_http_requests_total{method="GET",route="/api/v1/contacts/{id}",status="404"} "#
        ) >= 1
    );
    assert!(!text.contains(&format!("/contacts/{id}\"")));
    assert!(text.contains(
        r#"ams_http_request_duration_seconds_bucket{method="GET",route="/api/v1/contacts/{id}",status="200",le="+Inf"}"#
    ));
    assert!(
        count(r#"ams_operation_duration_seconds_count{operation="subscription_import"} "#) >= 1
    );
}

/// A body is a JSON object: an array of field values, which serde would read into a struct in
/// field order, is refused and changes nothing.
#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = tests::spawn().await;
    app.doctors().await;
    let c = app.person("NM", "Array").await;
    let before = app.contact(c).await;
    let r = app
        .send(
            reqwest::Method::PATCH,
            &format!("/contacts/{c}"),
            Some(&app.staff),
            Some(serde_json::json!([null, "NM", null])),
            &[("If-Match", "*")],
        )
        .await;
    assert!(r.text.contains("JSON object"), "{}", r.text);
    r.problem(422, "validation_failed");
    assert_eq!(app.contact(c).await, before);
}
