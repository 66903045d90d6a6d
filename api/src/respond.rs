//! Successful responses that carry headers: a resource with its `ETag`, a created one with its
//! `Location`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use serde::Serialize;

use crate::extract::etag;

/// A single resource with its `ETag`.
pub fn versioned<T: Serialize>(status: StatusCode, version: i32, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 with `Location` and `ETag`.
pub fn created<T: Serialize>(location: String, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// Percent-encodes a code for use in a `Location` path segment (`CHAPT/EAST` -> `CHAPT%2FEAST`).
pub fn path_segment(code: &str) -> String {
    code.replace('%', "%25").replace('/', "%2F")
}
