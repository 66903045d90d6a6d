//! CS-1..CS-3: contact statuses describe the record, not the membership.

use crate::codes;
use crate::lookup::LookupTable;
use crate::usage::uses;

pub const TABLE: LookupTable = LookupTable {
    table: "contact_statuses",
    what: "contact status",
    check_code: codes::check_status_code,
    uses: &[uses("contacts", "status", "contacts")],
    protected: &["A"],
};

/// CS-2: the statuses every database starts with.
pub const SEEDED: [(&str, &str); 4] = [
    ("A", "Active"),
    ("I", "Inactive"),
    ("S", "Suspended"),
    ("D", "Marked for deletion"),
];

pub const DEFAULT_STATUS: &str = "A";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Active,
    Inactive,
    Suspended,
    MarkedForDeletion,
}

/// CS-1: behaviour follows the first letter only (`A`, `AX`, `ACT` are all active).
pub fn kind(code: &str) -> Option<StatusKind> {
    match code.chars().next()? {
        'A' => Some(StatusKind::Active),
        'I' => Some(StatusKind::Inactive),
        'S' => Some(StatusKind::Suspended),
        'D' => Some(StatusKind::MarkedForDeletion),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cs1_behaviour_follows_the_first_letter() {
        for code in ["A", "AX", "ACT"] {
            assert_eq!(kind(code), Some(StatusKind::Active));
        }
        assert_eq!(kind("INACT"), Some(StatusKind::Inactive));
        assert_eq!(kind("SUSP"), Some(StatusKind::Suspended));
        assert_eq!(kind("DEL"), Some(StatusKind::MarkedForDeletion));
        assert_eq!(kind("X"), None);
    }

    #[test]
    fn cs2_seeded_statuses_are_valid_codes() {
        for (code, _) in SEEDED {
            assert!(codes::check_status_code(code).is_ok());
        }
    }
}
