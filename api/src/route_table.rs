//! The routes the API has, read once from its OpenAPI document: which methods a path takes
//! (for 405 and `Allow`) and each write operation's id (for audit events). The application
//! builds it with the document and hands it to the requests that ask.

use std::collections::HashMap;

use actix_web::HttpRequest;
use actix_web::web::Data;
use utoipa::openapi::{OpenApi, PathItem};

use crate::problem::ApiError;

pub struct RouteTable {
    /// Path templates (`/api/v1/contacts/{id}`) with the methods each takes.
    methods: Vec<(String, Vec<&'static str>)>,
    /// Operation ids of the write operations, by method and path template.
    operations: HashMap<(String, String), String>,
}

/// The operations of a path item, by method.
fn operations(item: &PathItem) -> [(&'static str, Option<&utoipa::openapi::path::Operation>); 5] {
    [
        ("GET", item.get.as_ref()),
        ("POST", item.post.as_ref()),
        ("PUT", item.put.as_ref()),
        ("PATCH", item.patch.as_ref()),
        ("DELETE", item.delete.as_ref()),
    ]
}

impl RouteTable {
    pub fn new(doc: &OpenApi) -> RouteTable {
        let mut methods = Vec::new();
        let mut ids = HashMap::new();
        for (template, item) in &doc.paths.paths {
            let present: Vec<_> = operations(item)
                .into_iter()
                .filter_map(|(method, op)| op.map(|op| (method, op)))
                .collect();
            for (method, op) in &present {
                if let Some(id) = op.operation_id.clone().filter(|_| *method != "GET") {
                    ids.insert((method.to_string(), template.clone()), id);
                }
            }
            methods.push((
                template.clone(),
                present.into_iter().map(|(m, _)| m).collect(),
            ));
        }
        RouteTable {
            methods,
            operations: ids,
        }
    }

    /// The table the application was built with, when the request reached it.
    pub fn of(req: &HttpRequest) -> Option<Data<RouteTable>> {
        req.app_data::<Data<RouteTable>>().cloned()
    }

    /// The OpenAPI operation id of a write route, so that audit events name operations as
    /// clients do.
    pub fn operation_id(&self, method: &str, pattern: &str) -> Option<String> {
        self.operations
            .get(&(method.to_owned(), pattern.to_owned()))
            .cloned()
    }

    /// The methods the API document has for a request path, matching `{param}` segments.
    pub fn allowed_methods(&self, path: &str) -> Vec<&'static str> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let fits = |template: &str, literal: bool| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == parts.len()
                && t.iter()
                    .zip(&parts)
                    .all(|(a, b)| a == b || (!literal && a.starts_with('{') && !b.is_empty()))
        };
        // A literal path (`/contacts/purge`) is not also `/contacts/{id}`.
        let literal = self.methods.iter().any(|(t, _)| fits(t, true));
        let mut out: Vec<&'static str> = Vec::new();
        for (template, methods) in &self.methods {
            if fits(template, literal) {
                for m in methods {
                    if !out.contains(m) {
                        out.push(m);
                    }
                }
            }
        }
        out
    }
}

/// 405 for a request whose path the API has for other methods only.
pub fn method_not_allowed(req: &HttpRequest) -> Option<ApiError> {
    let table = RouteTable::of(req)?;
    let allowed = table.allowed_methods(req.path());
    ApiError::method_not_allowed(req.method().as_str(), req.path(), &allowed)
}
