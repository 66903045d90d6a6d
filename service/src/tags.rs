//! Contact tags: how a tag is written, compared and checked, for contacts, filters, segments
//! and the settings that name tags.

use crate::error::Errors;

/// Tags are stored trimmed and lower-cased; a filter value is compared the same way.
pub fn key(tag: &str) -> String {
    tag.trim().to_lowercase()
}

/// A tag as stored: 1 to 60 lower-case letters, digits, '-', '_', '.' or ':'.
pub fn is_valid(t: &str) -> bool {
    !t.is_empty()
        && t.chars().count() <= 60
        && t == t.to_lowercase()
        && t.chars()
            .all(|ch| ch.is_alphanumeric() || "-_.:".contains(ch))
}

/// The tags as stored, each once; a bad tag is reported on `tags`.
pub fn normalize(errors: &mut Errors, tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = key(t);
        if !is_valid(&t) {
            errors.add(
                "tags",
                format!("tag {t:?} must be 1 to 60 letters, digits, '-', '_', '.' or ':'"),
            );
        } else if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}
