//! Wire types: what clients send and receive. Separate from entities, documented in OpenAPI.

pub mod auth;
pub mod billing;
pub mod committees;
pub mod contacts;
pub mod corrections;
pub mod events;
pub mod invoices;
pub mod jobs;
pub mod lifecycle;
pub mod notices;
pub mod online;
pub mod payments;
pub mod pricing;
pub mod reference;
pub mod renewals;
pub mod reports;
pub mod schedules;
pub mod segments;
pub mod subscriptions;
pub mod words;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A list's `cursor`: the `next_cursor` of the previous page, which is the last key of that
/// page. Lists ordered by id take an id, lists ordered by code a code; either may name a key
/// that no longer exists, and the page starts after it.
#[derive(Debug, Clone)]
pub struct IdCursor(pub String);

#[derive(Debug, Clone)]
pub struct CodeCursor(pub String);

/// The cursor of the duplicates list (MG-2): `{contact_id}-{duplicate_id}-{reason}`.
#[derive(Debug, Clone)]
pub struct PairCursor(pub String);

const PAIR_CURSOR: &str = "^[0-9]{1,18}-[0-9]{1,18}-(email|name_postal_code)$";

/// A cursor as sent: well-formed for its list, else the query is refused (400).
fn cursor<'de, D: Deserializer<'de>>(d: D, valid: fn(&str) -> bool) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    if valid(&text) {
        Ok(text)
    } else {
        Err(serde::de::Error::custom(
            "cursor: is not a cursor returned by this list",
        ))
    }
}

impl<'de> Deserialize<'de> for IdCursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        cursor(d, |t| {
            (1..=18).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        })
        .map(IdCursor)
    }
}

impl<'de> Deserialize<'de> for PairCursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        cursor(d, |t| service::duplicates::parse_cursor(t).is_ok()).map(PairCursor)
    }
}

impl utoipa::PartialSchema for PairCursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        cursor_schema(PAIR_CURSOR, "1042-2077-email")
    }
}

impl ToSchema for PairCursor {}

impl<'de> Deserialize<'de> for CodeCursor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        cursor(d, service::codes::is_code_shaped).map(CodeCursor)
    }
}

fn cursor_schema(
    pattern: &str,
    example: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some("`next_cursor` of the previous page"))
        .examples([serde_json::json!(example)])
        .into()
}

impl utoipa::PartialSchema for IdCursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        cursor_schema("^[0-9]{1,18}$", "1042")
    }
}

impl ToSchema for IdCursor {}

impl utoipa::PartialSchema for CodeCursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        cursor_schema(service::codes::CODE_SHAPE, "FYEAR")
    }
}

impl ToSchema for CodeCursor {}

pub(crate) fn page_request(limit: Option<u64>, cursor: Option<&str>) -> service::page::PageRequest {
    service::page::PageRequest {
        limit,
        cursor: cursor.map(str::to_owned),
    }
}

/// `limit` and `cursor` of every list ordered by id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<IdCursor>,
}

impl ListQuery {
    pub fn page(&self) -> service::page::PageRequest {
        page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

/// `limit` and `cursor` of every list ordered by code.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CodeListQuery {
    /// Page size, 1..=200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<CodeCursor>,
}

impl CodeListQuery {
    pub fn page(&self) -> service::page::PageRequest {
        page_request(self.limit, self.cursor.as_ref().map(|c| c.0.as_str()))
    }
}

/// A nested object that must be a JSON object: serde would also build a struct from an array
/// of its fields in order, which no client means. Read from the map itself, so that an error
/// inside names its field (`filter.email_opt_in`).
pub fn object<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    struct ObjectOnly<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }

    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

/// The items of a comma-separated parameter (`a, b,,c` gives `a`, `b`, `c`).
pub fn comma_list(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// For PATCH: tells "absent" (`None`) from "null" (`Some(None)`).
pub fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An amount on the wire: a string with 2 places on output; a string or a number on input,
/// rejected with more than 2 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&service::money::format_cents(self.0))
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        // SEC-3, SEC-4: one parser for every amount, strings and numbers alike (a float's
        // `Display` never uses an exponent, so `1e2` reads as `100`).
        let cents = match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("an amount is a decimal string such as \"500.00\" or a number")
        })? {
            Raw::Text(t) => service::money::parse_amount(&t),
            Raw::Int(i) => service::money::parse_amount(&i.to_string()),
            Raw::Float(f) if f.is_finite() => service::money::parse_amount(&f.to_string()),
            Raw::Float(_) => Err("amount is not a finite number".to_owned()),
        };
        cents.map(Money).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        // A string on output; on input a string or a number (the pattern applies to strings).
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Number,
            ]))
            .pattern(Some(r"^-?\d+(\.\d{1,2})?$"))
            .description(Some("Decimal amount with at most 2 places: always a string on output; a string or a number on input, at most 99999999.99 either way (no exponents, signs on positive amounts, separators or spaces)."))
            .examples([serde_json::json!("500.00")])
            .into()
    }
}

impl ToSchema for Money {}

/// A date a client gives: exactly `YYYY-MM-DD`, between 1900-01-01 and 2999-12-31 (SEC-4).
/// Dates the server sends are plain `NaiveDate`s. utoipa documents a type named `Date` as a
/// `format: date` string, inline, exactly as it documents `NaiveDate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

impl Date {
    /// The date given, or the server's today (UTC) when none was.
    pub fn or_today(date: Option<Date>) -> NaiveDate {
        date.map_or_else(|| service::clock::now().date_naive(), |d| d.0)
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> Self {
        d.0
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)
            .map_err(|_| serde::de::Error::custom("a date is a string in the form YYYY-MM-DD"))?;
        service::dates::parse(&text)
            .map(Date)
            .map_err(serde::de::Error::custom)
    }
}

/// Empty body of 204 responses, for documentation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}

/// Any JSON object, for bodies that the service parses field by field (so that one parser
/// serves both single requests and import rows).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct JsonObject(pub serde_json::Map<String, serde_json::Value>);

impl validator::Validate for JsonObject {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}
