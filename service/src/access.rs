//! SEC-1: who asks, and what they may see. Staff see every record; a member sees only the
//! records that are theirs, and any other is "not found", never "forbidden", so that ids tell
//! nothing about records that are not theirs.

use crate::error::{Error, Result};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Staff,
    Member { contact_id: i64 },
}

/// "Not found" for `what` `id` unless the actor may see a record held by (or billed to) one
/// of `holders`.
pub fn check(actor: Actor, what: &'static str, id: i64, holders: &[i64]) -> Result<()> {
    match actor {
        Actor::Member { contact_id } if !holders.contains(&contact_id) => {
            Err(Error::not_found(what, id))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec1_members_see_only_their_own_records_and_staff_every_one() {
        let member = Actor::Member { contact_id: 7 };
        assert!(check(member, "invoice", 1, &[7]).is_ok());
        assert!(check(member, "invoice", 1, &[3, 7]).is_ok());
        let err = check(member, "invoice", 1, &[3]).unwrap_err();
        assert_eq!(err.code(), "not_found");
        assert!(check(Actor::Staff, "invoice", 1, &[3]).is_ok());
    }
}
