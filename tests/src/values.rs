//! Reading answers and JSON values, as the test files all do.

use serde_json::Value;

use crate::Res;

/// The `id` of a created or read record.
#[track_caller]
pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("id in {v}"))
}

#[track_caller]
pub fn etag(r: &Res) -> String {
    r.header("etag").expect("response carries an ETag")
}

/// A problem's `detail`, empty when there is none.
pub fn detail(r: &Res) -> String {
    r.body["detail"].as_str().unwrap_or_default().to_owned()
}

/// The `field` of each error of a validation problem, in order (empty for one naming none).
pub fn error_fields(r: &Res) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a validation error on `field`.
#[track_caller]
pub fn assert_field_error(r: &Res, field: &str) {
    assert!(
        error_fields(r).iter().any(|f| f == field),
        "expected an error on {field}; body: {}",
        r.text
    );
}

/// An amount of money as the API writes it (`"-12.50"`), in cents; exactly two places.
#[track_caller]
pub fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("money as string: {v}"));
    let (whole, frac) = s.split_once('.').expect("two decimals");
    assert_eq!(frac.len(), 2, "two decimals: {s}");
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let whole = whole.trim_start_matches('-').parse::<i64>();
    sign * (whole.expect("whole units") * 100 + frac.parse::<i64>().expect("cents"))
}

/// `base` with the fields of `patch` set.
pub fn with(mut base: Value, patch: Value) -> Value {
    if let (Some(o), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            o.insert(k.clone(), v.clone());
        }
    }
    base
}

/// The line of `inv` billing `product`.
#[track_caller]
pub fn line<'a>(inv: &'a Value, product: &str) -> &'a Value {
    inv["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["product"] == product)
        .unwrap_or_else(|| panic!("no {product} line in {inv}"))
}

/// The products of `inv`'s lines, in order.
pub fn products(inv: &Value) -> Vec<String> {
    inv["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["product"].as_str().expect("product").to_owned())
        .collect()
}

/// Today's date on the server's clock (UTC), as the API writes dates.
pub fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Each row's outcome in an import report, in order.
#[track_caller]
pub fn outcomes(report: &Value) -> Vec<&str> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome"))
        .collect()
}

/// The ids of an import report's `updated` rows, in order.
#[track_caller]
pub fn updated_ids(report: &Value) -> Vec<i64> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["outcome"] == "updated")
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}
