//! MG-2: likely duplicate contacts, found by the database: pairs of contacts with one email
//! address (ignoring case), or with one name and postal code (ignoring case and spaces). Each
//! pair is listed once per reason, the older contact first, so that staff can merge the newer
//! into it. Each side of a pair is found through an index, never by comparing every pair.

use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::error::{Error, Result};
use crate::page::{self, Page, PageRequest};
use crate::sql::Sql;

pub const EMAIL: &str = "email";
pub const NAME_POSTAL_CODE: &str = "name_postal_code";

/// A postal code as compared: upper case, without spaces. The same expression is indexed
/// (migration 27), so the database finds equal codes through the index.
pub const POSTAL_KEY: &str = "upper(replace(postal_code, ' ', ''))";

/// `POSTAL_KEY` computed here, for matching import rows (ASCII upper case, as SQLite's).
pub fn postal_key(code: &str) -> String {
    code.replace(' ', "").to_ascii_uppercase()
}

#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Duplicate {
    pub contact_id: i64,
    pub duplicate_id: i64,
    pub reason: String,
}

/// A page of likely duplicates, in (contact, duplicate, reason) order.
pub async fn list(conn: &impl ConnectionTrait, req: &PageRequest) -> Result<Page<Duplicate>> {
    let limit = req.limit()?;
    let after = req.after_text()?.map(|c| parse_cursor(&c)).transpose()?;
    let mut sql = Sql::new(conn.get_database_backend());
    sql.push(&format!(
        "SELECT contact_id, duplicate_id, reason FROM (\
         SELECT a.id AS contact_id, b.id AS duplicate_id, '{EMAIL}' AS reason \
         FROM contacts a JOIN contacts b ON b.email_key = a.email_key AND b.id > a.id \
         WHERE a.email_key IS NOT NULL AND a.merged_into IS NULL AND b.merged_into IS NULL \
         UNION ALL \
         SELECT a.id, b.id, '{NAME_POSTAL_CODE}' \
         FROM contacts a JOIN contacts b ON b.sort_name = a.sort_name \
         AND {b_key} = {a_key} AND b.id > a.id \
         WHERE a.sort_name <> '' AND a.postal_code IS NOT NULL AND {a_key} <> '' \
         AND a.merged_into IS NULL AND b.merged_into IS NULL\
         ) pairs",
        a_key = POSTAL_KEY.replace("postal_code", "a.postal_code"),
        b_key = POSTAL_KEY.replace("postal_code", "b.postal_code"),
    ));
    if let Some((contact, duplicate, reason)) = after {
        sql.push(" WHERE contact_id > ")
            .bind(contact)
            .push(" OR (contact_id = ")
            .bind(contact)
            .push(" AND (duplicate_id > ")
            .bind(duplicate)
            .push(" OR (duplicate_id = ")
            .bind(duplicate)
            .push(" AND reason > ")
            .bind(reason)
            .push(")))");
    }
    sql.push(" ORDER BY contact_id, duplicate_id, reason LIMIT ")
        .bind(limit as i64 + 1);
    let rows = Duplicate::find_by_statement(sql.build()).all(conn).await?;
    Ok(page::build(rows, limit, |d| {
        format!("{}-{}-{}", d.contact_id, d.duplicate_id, d.reason)
    }))
}

/// A cursor of this list: `{contact_id}-{duplicate_id}-{reason}`.
pub fn parse_cursor(text: &str) -> Result<(i64, i64, String)> {
    let bad = || Error::bad_parameter("cursor", "is not a cursor returned by this list");
    let id = |part: Option<&str>| {
        part.filter(|p| (1..=18).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i64>().ok())
    };
    let mut parts = text.splitn(3, '-');
    let contact = id(parts.next()).ok_or_else(bad)?;
    let duplicate = id(parts.next()).ok_or_else(bad)?;
    let reason = parts
        .next()
        .filter(|r| [EMAIL, NAME_POSTAL_CODE].contains(r))
        .ok_or_else(bad)?;
    Ok((contact, duplicate, reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mg2_the_cursor_is_the_last_pair_and_its_reason() {
        assert_eq!(
            parse_cursor("3-9-email").ok(),
            Some((3, 9, EMAIL.to_owned()))
        );
        assert!(parse_cursor("3-9-nickname").is_err());
        assert!(parse_cursor("3-email").is_err());
    }
}
