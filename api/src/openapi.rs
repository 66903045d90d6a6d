//! The OpenAPI document: info, security scheme, tags, and the error responses every operation
//! can give, added in one place so none is forgotten.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayItems, KnownFormat, Schema, SchemaFormat,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::problem::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "AMS: association management API",
        description = "Membership and dues billing for professional associations: contacts, customer types, billing categories, products, subscriptions, billing cycles, joins, renewals, invoices and payments.\n\nAuthenticate with `POST /api/v1/auth/token` and send `Authorization: Bearer <token>`. Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(
        Problem,
        ProblemField,
        crate::dto::subscriptions::StatusFilter,
        crate::dto::reports::PeriodDto,
        crate::dto::IdCursor,
        crate::dto::PairCursor,
        crate::dto::CodeCursor
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Tokens and self-registration"),
        (name = "users", description = "Logins (staff)"),
        (name = "settings", description = "Membership settings (T-1)"),
        (name = "customer-types", description = "Customer (member) types: benefits and record kind (CT-*)"),
        (name = "billing-categories", description = "Billing categories: price groups (BC-*)"),
        (name = "contact-statuses", description = "Contact statuses: record state (CS-*)"),
        (name = "products", description = "Billing products (P-*)"),
        (name = "pricing-rules", description = "Pricing rules and the price of a product for a contact (P-3, P-4, P-5)"),
        (name = "pricing-groups", description = "Named groups of contacts that pricing rules can name (P-3)"),
        (name = "contacts", description = "Persons and organizations (C-*)"),
        (name = "subscriptions", description = "Who holds which product, and the bulk import (S-*)"),
        (name = "billing", description = "Billing cycles (B-*) and joining (J-*)"),
        (name = "invoices", description = "Invoices and payments (I-*)"),
        (name = "payments", description = "Payments with receipt numbers, refunds, reversals, credit notes and credit balances (M-1..M-5)"),
        (name = "lifecycle", description = "Expiry (L-1), mass change (L-4), purge (CS-4) and the audit trail"),
        (name = "segments", description = "Previous members (L-2), prospects (L-3) and saved contact segments"),
        (name = "committees", description = "Committees, their rosters at a date and a contact's committee service (C-8)"),
        (name = "reports", description = "Membership mix, counts at a date, billing by period (A-1..A-3)"),
        (name = "notices", description = "Notices to members by email: templates and the delivery log (N-1..N-3)"),
        (name = "jobs", description = "Long operations as jobs: state, progress, result, cancel (JB-1). Start one with `Prefer: respond-async`."),
        (name = "events", description = "Business events for integrators: a feed to poll and webhooks with Standard Webhooks signatures"),
        (name = "self-service", description = "A member's own record"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Doc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token from POST /api/v1/auth/token. Each operation's security \
                         requirement lists the roles it admits (`staff`, `member`); a token \
                         of another role gets 403.",
                    ))
                    .build(),
            ),
        );
    }
}

fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            crate::problem::CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .into()
}

/// The shapes of the `If-Match` and `Idempotency-Key` headers, described in one place.
fn describe_headers(op: &mut Operation) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    for p in op.parameters.iter_mut().flatten() {
        let utoipa::openapi::RefOr::T(p) = p else {
            continue;
        };
        if p.parameter_in != ParameterIn::Header {
            continue;
        }
        let pattern = match p.name.as_str() {
            "If-Match" => crate::extract::IF_MATCH_PATTERN,
            "Idempotency-Key" => crate::extract::IDEMPOTENCY_KEY_PATTERN,
            _ => continue,
        };
        p.schema = Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .into(),
        );
    }
}

/// Every response object needs a description (OpenAPI 3.1); successes declared by their body
/// alone get their status's reason phrase.
fn describe_responses(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        if let utoipa::openapi::RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = status
                .parse::<u16>()
                .ok()
                .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Success")
                .to_owned();
        }
    }
}

/// The lists and reports that answer `Accept: text/csv` (see `csv_export`).
pub const CSV_OPERATIONS: [&str; 10] = [
    "listContacts",
    "listPreviousMembers",
    "listProspects",
    "listSegmentContacts",
    "listInvoices",
    "listContactInvoices",
    "listMyInvoices",
    "membershipMixReport",
    "membershipCountsReport",
    "billingReport",
];

fn offer_csv(op: &mut Operation) {
    if !op
        .operation_id
        .as_deref()
        .is_some_and(|id| CSV_OPERATIONS.contains(&id))
    {
        return;
    }
    if let Some(utoipa::openapi::RefOr::T(ok)) = op.responses.responses.get_mut("200") {
        let csv = utoipa::openapi::content::ContentBuilder::new()
            .schema(Some(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(
                        "With `Accept: text/csv`: every matching row (not a page), the JSON \
                         fields flattened into columns (`address_city`), lists joined with `;`",
                    )),
            ))
            .build();
        ok.content.insert(
            crate::csv_export::CSV.to_owned(),
            utoipa::openapi::RefOr::T(csv),
        );
    }
}

fn add_errors(op: &mut Operation, method: &str, path: &str) {
    // `security: [{}]` marks a public operation: only a named scheme secures it.
    let secured = op.security.as_ref().is_some_and(|reqs| {
        reqs.iter().any(|r| {
            serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        })
    });
    let writes = matches!(method, "post" | "put" | "patch" | "delete");
    let has_body = op.request_body.is_some();
    let has_params = path.contains('{') || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut add = |code: &str, text: &str| {
        op.responses
            .responses
            .entry(code.to_owned())
            .or_insert_with(|| problem(text));
    };
    if has_body || has_params {
        add(
            "400",
            "Bad request: malformed JSON or an invalid query or path parameter",
        );
    }
    if secured {
        add("401", "Missing, expired or invalid bearer token");
        add("403", "The caller's role may not do this");
    }
    if has_params || path.starts_with("/api/v1/me") {
        add(
            "404",
            "Not found: a record named in the path or query does not exist (members asking \
             for another contact's record get 404 too)",
        );
    }
    if writes {
        add("409", "Conflict: duplicate key or the record is in use");
    }
    // Pricing group memberships carry no version: removing one takes no If-Match.
    let versioned =
        path != "/api/v1/users" && !path.starts_with("/api/v1/pricing-groups/{code}/members/");
    if matches!(method, "put" | "patch" | "delete") && versioned {
        add("412", "If-Match does not match the current ETag");
    }
    if has_body {
        add("413", "Body too large");
        add("415", "Body is not application/json");
    }
    // A well-formed body, query or path can still be refused: a range too long, a code that
    // names nothing, dates out of order, text with control characters (SEC-5).
    if has_body || has_params {
        add("422", "Validation failed; `errors` lists each field");
    }
    add("500", "Unexpected error (logged with the request id)");
}

/// Completes the collected document: standard error responses on every operation.
pub fn finish(mut doc: Doc) -> Doc {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", item.get.as_mut()),
            ("put", item.put.as_mut()),
            ("post", item.post.as_mut()),
            ("patch", item.patch.as_mut()),
            ("delete", item.delete.as_mut()),
        ] {
            if let Some(op) = op {
                describe_headers(op);
                add_errors(op, method, path);
                describe_responses(op);
                offer_csv(op);
            }
        }
    }
    with_date_range(doc)
}

/// SEC-4 in the document: every `format: date` string a client sends (in a parameter or a
/// request body, and the schemas those use) also carries the pattern of the dates the server
/// takes (`YYYY-MM-DD`, years 1900 to 2999), so that clients and generated tests know the
/// range, not only the form. Dates the server sends are left unpatterned: some are derived
/// (a cut-off a grace period before `as_of`) and may fall before 1900.
fn with_date_range(mut doc: Doc) -> Doc {
    let mut sent = Vec::new();
    for item in doc.paths.paths.values_mut() {
        let ops = [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.patch.as_mut(),
            item.delete.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && let Some(schema) = param.schema.as_mut()
                {
                    date_range(schema, &mut sent);
                }
            }
            if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let RefOr::T(content) = content
                        && let Some(schema) = content.schema.as_mut()
                    {
                        date_range(schema, &mut sent);
                    }
                }
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        let mut done = std::collections::HashSet::new();
        while let Some(name) = sent.pop() {
            if done.insert(name.clone())
                && let Some(schema) = components.schemas.get_mut(&name)
            {
                date_range(schema, &mut sent);
            }
        }
    }
    doc
}

/// Adds the date pattern inside `schema` and collects the names of the components it uses.
fn date_range(schema: &mut RefOr<Schema>, used: &mut Vec<String>) {
    let schema = match schema {
        RefOr::T(schema) => schema,
        RefOr::Ref(r) => {
            if let Some(name) = r.ref_location.strip_prefix("#/components/schemas/") {
                used.push(name.to_owned());
            }
            return;
        }
    };
    match schema {
        Schema::Object(o) => {
            let is_date = matches!(o.format, Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
            if is_date && o.pattern.is_none() {
                o.pattern = Some(DATE_PATTERN.to_owned());
            }
            o.properties.values_mut().for_each(|p| date_range(p, used));
            if let Some(extra) = o.additional_properties.as_deref_mut()
                && let AdditionalProperties::RefOr(r) = extra
            {
                date_range(r, used);
            }
        }
        Schema::Array(a) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                date_range(items, used);
            }
        }
        Schema::OneOf(o) => o.items.iter_mut().for_each(|i| date_range(i, used)),
        Schema::AllOf(o) => o.items.iter_mut().for_each(|i| date_range(i, used)),
        Schema::AnyOf(o) => o.items.iter_mut().for_each(|i| date_range(i, used)),
        _ => {}
    }
}

/// `YYYY-MM-DD` from 1900-01-01 to 2999-12-31 (day numbers up to 31; the calendar is checked
/// by the server).
pub const DATE_PATTERN: &str = "^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
