//! The committed OpenAPI document matches what the server serves, and every operation is
//! usable by client generators (unique operation ids, tags, security, error responses).
//! Regenerate with `cargo run -q -- openapi > openapi/openapi.json`.

use std::collections::HashSet;

use serde_json::Value;

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    std::fs::read_to_string(path).expect("openapi/openapi.json exists")
}

#[test]
fn openapi_json_is_up_to_date() {
    let generated = api::spec().to_pretty_json().expect("serialize");
    assert!(
        generated.trim() == committed().trim(),
        "openapi/openapi.json is out of date: run `cargo run -q -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_has_a_unique_id_a_tag_and_error_responses() {
    let doc: Value = serde_json::from_str(&committed()).expect("json");
    let mut ids = HashSet::new();
    let public = [
        "/health",
        "/ready",
        "/api/v1/auth/token",
        "/api/v1/auth/register",
        // G-3: the provider signs its events instead.
        "/api/v1/payment-provider/stripe/events",
    ];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has no tag"
            );
            let responses = op["responses"].as_object().expect("responses");
            assert!(responses.contains_key("500"), "{id} lacks error responses");
            if !public.contains(&path.as_str()) {
                assert!(
                    op["security"].as_array().is_some_and(|s| !s.is_empty()),
                    "{id} has no security"
                );
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{id} lacks 401/403"
                );
            }
            if op.get("requestBody").is_some() {
                let content = &op["requestBody"]["content"]["application/json"];
                assert!(content.is_object(), "{id} body is not JSON");
                assert!(responses.contains_key("422"), "{id} lacks 422");
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn served_document_equals_the_committed_one() {
    let app = tests::spawn().await;
    let res = app
        .send(
            reqwest::Method::GET,
            "/api-docs/openapi.json",
            None,
            None,
            &[],
        )
        .await
        .expect(200);
    let committed: Value = serde_json::from_str(&committed()).expect("json");
    assert_eq!(res.body, committed);
    app.send(reqwest::Method::GET, "/swagger-ui/", None, None, &[])
        .await
        .expect(200);
}

/// What `openapi-spec-validator` and `redocly lint` (run by `.ci/run`) also check, kept here so
/// `cargo test` catches it first: every `$ref` resolves, every response has a description,
/// every operation a summary, and every operation states its security (`[{}]` when public).
#[test]
fn references_resolve_and_every_operation_is_described() {
    let doc: serde_json::Value = serde_json::from_str(&committed()).expect("JSON");
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let what = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{what}: summary"
            );
            assert!(op["security"].is_array(), "{what}: security");
            for (status, response) in op["responses"].as_object().expect("responses") {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{what} {status}: description"
                );
            }
        }
    }
}

/// SEC-4: the dates clients send carry the pattern of the accepted range; dates the server
/// sends do not, since some are derived (the expiry cut-off before a 1900 `as_of` is in 1899).
#[test]
fn sec4_dates_clients_send_carry_the_accepted_range_and_dates_sent_back_do_not() {
    let doc: Value = serde_json::from_str(&committed()).expect("json");
    let schemas = &doc["components"]["schemas"];
    let pattern = api::openapi::DATE_PATTERN;
    assert_eq!(
        schemas["ExpireDto"]["properties"]["as_of"]["pattern"],
        pattern
    );
    let sent_back = &schemas["ExpireResultDto"]["properties"]["expired_paid_through"];
    assert_eq!(sent_back["format"], "date");
    assert!(sent_back.get("pattern").is_none(), "{sent_back}");
    let params = doc["paths"]["/api/v1/reports/billing"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let from = params.iter().find(|p| p["name"] == "from").expect("from");
    assert_eq!(from["schema"]["pattern"], pattern);
}
