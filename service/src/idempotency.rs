//! I-4: a money movement is recorded once. The key, a hash of the request and the response
//! are stored in the same transaction as the movement, so a retry gets the first response and
//! a crash never leaves a movement without its key.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use entity::idempotency_key as k;

use crate::clock;
use crate::error::{Error, Result};

/// A caller's key for one kind of request.
#[derive(Debug, Clone)]
pub struct Key {
    /// What the key is for, e.g. `payment:invoice/42`; the same key may be reused elsewhere.
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

impl Key {
    pub fn new(scope: String, key: &str, request: &[u8]) -> Result<Key> {
        let key = key.trim();
        if key.is_empty() || key.chars().count() > 200 {
            return Err(Error::bad_parameter(
                "Idempotency-Key",
                "must be 1 to 200 characters",
            ));
        }
        let digest = Sha256::digest(request);
        let request_hash = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Key {
            scope,
            key: key.to_owned(),
            request_hash,
        })
    }
}

/// What a keyed operation gives: its own result, or the response to the first request made
/// with the key. Joins, payments and renewal runs answer alike.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    /// The same request was made before with this key: its first response.
    Replayed(Stored),
}

/// A response stored under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// The status of a claimed key whose response is not stored yet.
const IN_PROGRESS: i32 = 0;

fn in_progress() -> Error {
    Error::conflict("a request with this Idempotency-Key is in progress; retry it")
}

/// The first response for this key, if there is one. The same key with another request is
/// rejected: it would otherwise silently do nothing.
pub async fn replay(conn: &impl ConnectionTrait, key: &Key) -> Result<Option<Stored>> {
    let Some(row) = k::Entity::find_by_id((key.scope.clone(), key.key.clone()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != key.request_hash {
        return Err(Error::invalid(
            "Idempotency-Key",
            "this key was already used with a different request; use a new key for a new request",
        ));
    }
    Ok(Some(Stored {
        status: u16::try_from(row.status).unwrap_or(200),
        body: row.body,
    }))
}

/// Starts a keyed movement inside its transaction: the stored response if the key was used,
/// else the key is claimed (a placeholder row) until [`finish`] fills it in. A second request
/// with the same key waits on the claim; once the first commits it finds the response and
/// replays it instead of moving money again (if the first rolls back, it claims the key).
pub async fn begin(conn: &impl ConnectionTrait, key: &Key) -> Result<Option<Stored>> {
    if let Some(stored) = replay(conn, key).await? {
        return Ok(Some(stored));
    }
    let claimed = k::Entity::insert(k::ActiveModel {
        scope: Set(key.scope.clone()),
        key: Set(key.key.clone()),
        request_hash: Set(key.request_hash.clone()),
        status: Set(IN_PROGRESS),
        body: Set(String::new()),
        created_at: Set(clock::now()),
    })
    .on_conflict(
        OnConflict::columns([k::Column::Scope, k::Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    if claimed == 1 {
        return Ok(None);
    }
    replay(conn, key).await?.map(Some).ok_or_else(in_progress)
}

/// Stores the response under a key claimed by [`begin`], in the same transaction.
pub async fn finish(conn: &impl ConnectionTrait, key: &Key, response: &Stored) -> Result<()> {
    k::Entity::update_many()
        .col_expr(k::Column::Status, i32::from(response.status).into())
        .col_expr(k::Column::Body, response.body.clone().into())
        .filter(k::Column::Scope.eq(key.scope.clone()))
        .filter(k::Column::Key.eq(key.key.clone()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Stores the response of work that commits in several transactions (a renewal run, page by
/// page) in the transaction that completes it. No claim is held while such work runs: a claim
/// left by a killed process would refuse every retry, while the work itself is safe to repeat
/// . Of two runs with one key, the first to complete keeps its response.
pub async fn store_first(conn: &impl ConnectionTrait, key: &Key, response: &Stored) -> Result<()> {
    k::Entity::insert(k::ActiveModel {
        scope: Set(key.scope.clone()),
        key: Set(key.key.clone()),
        request_hash: Set(key.request_hash.clone()),
        status: Set(i32::from(response.status)),
        body: Set(response.body.clone()),
        created_at: Set(clock::now()),
    })
    .on_conflict(
        OnConflict::columns([k::Column::Scope, k::Column::Key])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
