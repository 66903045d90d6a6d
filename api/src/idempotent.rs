//! I-4 at the edge: the `Idempotency-Key` a client sends, bound to what it is for and to the
//! request body, and the first response sent again. Joins, payments and renewal runs use it
//! alike; the service stores the response in the same transaction as the work.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use service::idempotency::{Key, Stored};

use crate::problem::{ApiError, ApiResult};

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// The request's idempotency key for `scope`, bound to the request body.
pub fn key(
    req: &HttpRequest,
    scope: String,
    body: &impl serde::Serialize,
) -> ApiResult<Option<Key>> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::bad_parameter(IDEMPOTENCY_KEY, "must be printable text"))?;
    let canonical =
        serde_json::to_vec(body).map_err(|e| service::Error::Internal(e.to_string()))?;
    Ok(Some(Key::new(scope, value, &canonical)?))
}

/// A response as it is stored under a key.
pub fn stored<T: serde::Serialize>(status: StatusCode, body: &T) -> Stored {
    Stored {
        status: status.as_u16(),
        body: serde_json::to_string(body).unwrap_or_default(),
    }
}

/// The first response stored under a key, sent again. When the first one created a resource
/// in `collection`, the replay carries its `Location` as the first did.
pub fn replay(s: Stored, collection: Option<&str>) -> HttpResponse {
    let location = collection.and_then(|collection| {
        let id = serde_json::from_str::<serde_json::Value>(&s.body)
            .ok()
            .and_then(|v| v["id"].as_i64())?;
        header::HeaderValue::from_str(&format!("{collection}/{id}")).ok()
    });
    let mut res = HttpResponse::build(StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("Idempotent-Replayed", "true"))
        .body(s.body);
    if let Some(location) = location {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}
