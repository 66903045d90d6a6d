//! Keyset pagination: the cursor is the last key of the previous page (an id, or a code for
//! lists ordered by code), so a page deep in a million rows costs the same as the first, and
//! any key is a valid starting point, even one deleted since.

use crate::error::{Error, Result};

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// The request side: how many items, after which key.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

impl PageRequest {
    pub fn limit(&self) -> Result<u64> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Error::bad_parameter(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    pub fn after_text(&self) -> Result<Option<String>> {
        Ok(self.cursor.clone())
    }

    pub fn after_id(&self) -> Result<Option<i64>> {
        match self.after_text()? {
            None => Ok(None),
            Some(text) => text.parse::<i64>().map(Some).map_err(|_| bad_cursor()),
        }
    }
}

fn bad_cursor() -> Error {
    Error::bad_parameter("cursor", "is not a cursor returned by this list")
}

/// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
pub fn build<T>(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> String) -> Page<T> {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(key) } else { None };
    Page {
        items: rows,
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_is_the_last_key_and_an_id_list_wants_an_id() {
        let req = PageRequest {
            limit: None,
            cursor: Some("CHAPT/EAST".into()),
        };
        assert_eq!(req.after_text().unwrap().as_deref(), Some("CHAPT/EAST"));
        let id = PageRequest {
            limit: None,
            cursor: Some("1042".into()),
        };
        assert_eq!(id.after_id().unwrap(), Some(1042));
        let not_id = PageRequest {
            limit: None,
            cursor: Some("abc".into()),
        };
        assert!(not_id.after_id().is_err());
    }

    #[test]
    fn limit_bounds() {
        let mk = |l| PageRequest {
            limit: Some(l),
            cursor: None,
        };
        assert!(mk(0).limit().is_err());
        assert!(mk(201).limit().is_err());
        assert_eq!(mk(200).limit().unwrap(), 200);
        assert_eq!(PageRequest::default().limit().unwrap(), 50);
    }

    #[test]
    fn build_sets_cursor_only_when_more_rows_exist() {
        let page = build(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.next_cursor.is_some());
        let page = build(vec![1, 2], 2, |n| n.to_string());
        assert!(page.next_cursor.is_none());
    }
}
