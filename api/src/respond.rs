//! Successful responses that carry headers: a resource with its `ETag`, a created one with its
//! `Location`, a document with its file name; and what the client accepts.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
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

pub const PDF: &str = "application/pdf";

/// `media` is in the request's `Accept` and is not refused (`q=0`).
pub fn accepts(req: &HttpRequest, media: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let matches = parts.next().is_some_and(|m| m.eq_ignore_ascii_case(media));
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            matches && !refused
        })
}

/// A PDF shown in the browser, saved under `file_name`.
pub fn pdf(file_name: &str, bytes: Vec<u8>) -> HttpResponse {
    pdf_response(file_name).body(Bytes::from(bytes))
}

/// The head of a PDF answer; the body follows.
pub fn pdf_response(file_name: &str) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::Ok();
    res.content_type(PDF).insert_header((
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{file_name}\""),
    ));
    res
}
