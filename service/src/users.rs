//! Logins: staff and members. A member login belongs to exactly one contact.

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use entity::user as u;

use crate::contacts::{self, NewContact};
use crate::error::{Error, Errors, Result};
use crate::{auth, clock, db::Db, settings};

pub use entity::words::Role;

fn check_username(errors: &mut Errors, username: &str) {
    let ok = (3..=100).contains(&username.chars().count())
        && username
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._@-+".contains(ch));
    if !ok {
        errors.add("username", "must be 3 to 100 letters, digits or . _ @ - +");
    }
}

/// The login of a username in any letter case: usernames are unique regardless of case
/// (`lower(username)` is indexed uniquely).
pub async fn find_by_username(
    conn: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<u::Model>> {
    Ok(u::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(u::Column::Username)))
                .eq(username.to_ascii_lowercase()),
        )
        .one(conn)
        .await?)
}

/// What a token's user is now, read on every request (SEC-8): `None` once the login is gone.
pub async fn current(
    conn: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<(Role, Option<i64>)>> {
    let row: Option<(Role, Option<i64>)> = u::Entity::find_by_id(user_id)
        .select_only()
        .column(u::Column::Role)
        .column(u::Column::ContactId)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(row)
}

pub async fn has_staff(conn: &impl ConnectionTrait) -> Result<bool> {
    Ok(u::Entity::find()
        .filter(u::Column::Role.eq(Role::Staff))
        .one(conn)
        .await?
        .is_some())
}

async fn insert_user(
    conn: &impl ConnectionTrait,
    username: &str,
    hash: String,
    role: Role,
    contact_id: Option<i64>,
) -> Result<u::Model> {
    if find_by_username(conn, username).await?.is_some() {
        return Err(Error::conflict(format!(
            "username {username} is taken (usernames are the same in any letter case)"
        )));
    }
    if let Some(cid) = contact_id
        && u::Entity::find()
            .filter(u::Column::ContactId.eq(cid))
            .one(conn)
            .await?
            .is_some()
    {
        return Err(Error::conflict(format!(
            "contact {cid} already has a login"
        )));
    }
    let now = clock::now();
    Ok(u::ActiveModel {
        username: Set(username.to_owned()),
        password_hash: Set(hash),
        role: Set(role),
        contact_id: Set(contact_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

pub async fn create(
    db: &Db,
    username: &str,
    password: &str,
    role: Role,
    contact_id: Option<i64>,
) -> Result<u::Model> {
    let mut errors = Errors::new();
    check_username(&mut errors, username);
    if let Err(m) = auth::check_password_rules(password) {
        errors.add("password", m);
    }
    if role == Role::Member && contact_id.is_none() {
        errors.add(
            "contact_id",
            "a member login belongs to a contact: give contact_id",
        );
    }
    errors.into_result()?;
    if let Some(cid) = contact_id
        && crate::contacts::find(&db.conn, cid).await?.is_none()
    {
        return Err(Error::invalid(
            "contact_id",
            format!("contact {cid} does not exist"),
        ));
    }
    let hash = auth::hash_password(password.to_owned()).await?;
    let txn = db.write().await?;
    let user = insert_user(&txn, username, hash, role, contact_id).await?;
    txn.commit().await?;
    Ok(user)
}

/// Checks a username and password. Unknown users and wrong passwords fail alike.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    username: &str,
    password: &str,
) -> Result<u::Model> {
    let user = if password.chars().count() > auth::MAX_PASSWORD {
        None
    } else {
        find_by_username(conn, username).await?
    };
    let ok = auth::verify_password(
        password.to_owned(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    match user {
        Some(u) if ok => Ok(u),
        _ => Err(Error::Unauthorized("invalid username or password".into())),
    }
}

pub struct Registration {
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// Self-registration: a person contact of the default person type and a member login for
/// it, in one transaction.
pub async fn register(db: &Db, r: Registration) -> Result<(u::Model, contacts::ContactView)> {
    let mut errors = Errors::new();
    check_username(&mut errors, &r.username);
    if let Err(m) = auth::check_password_rules(&r.password) {
        errors.add("password", m);
    }
    if r.email.trim().is_empty() {
        errors.add("email", "is required");
    }
    errors.into_result()?;
    let st = settings::get(&db.conn).await?;
    let Some(person_type) = st.default_person_type else {
        return Err(Error::conflict(
            "registration is closed: the membership settings have no default person type",
        ));
    };
    if find_by_username(&db.conn, &r.username).await?.is_some() {
        return Err(Error::conflict(format!(
            "username {} is taken (usernames are the same in any letter case)",
            r.username
        )));
    }
    let hash = auth::hash_password(r.password.clone()).await?;
    let txn = db.write().await?;
    let contact = contacts::create_in(
        &txn,
        NewContact {
            customer_type: person_type,
            first_name: Some(r.first_name),
            last_name: Some(r.last_name),
            email: Some(r.email),
            ..Default::default()
        },
    )
    .await?;
    let user = insert_user(
        &txn,
        &r.username,
        hash,
        Role::Member,
        Some(contact.contact.id),
    )
    .await?;
    txn.commit().await?;
    Ok((user, contact))
}
