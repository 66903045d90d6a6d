//! What a new database needs: CS-2's statuses, settings, default non-member types, a JWT
//! secret kept across restarts, and a first staff login.

use base64::Engine;
use rand::RngCore;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};

use entity::server_secret as secret;

use crate::contact_statuses;
use crate::customer_types::{self, NewCustomerType};
use crate::error::{Error, Result};
use crate::settings::{self, Settings};
use crate::users::{self, Role};
use crate::{clock, db::Db};

/// Non-member types every database starts with, so that self-registration works at once.
pub const DEFAULT_PERSON_TYPE: (&str, &str) = ("NMP", "Non-member (person)");
pub const DEFAULT_ORGANIZATION_TYPE: (&str, &str) = ("NMO", "Non-member (organization)");
/// The customer types every new database starts with.
pub const SEEDED_TYPES: [&str; 2] = [DEFAULT_PERSON_TYPE.0, DEFAULT_ORGANIZATION_TYPE.0];
pub const ADMIN_USERNAME: &str = "admin";

/// Idempotent: seeds only what is missing.
pub async fn seed_defaults(db: &Db) -> Result<()> {
    let txn = db.write().await?;
    for (code, name) in contact_statuses::SEEDED {
        contact_statuses::TABLE.ensure(&txn, code, name).await?;
    }
    let fresh = entity::membership_settings::Entity::find_by_id(settings::SETTINGS_ID)
        .one(&txn)
        .await?
        .is_none();
    txn.commit().await?;
    if fresh {
        for ((code, name), org) in [
            (DEFAULT_PERSON_TYPE, false),
            (DEFAULT_ORGANIZATION_TYPE, true),
        ] {
            if customer_types::find(&db.conn, code).await?.is_none() {
                customer_types::create(
                    db,
                    NewCustomerType {
                        code: code.into(),
                        name: name.into(),
                        is_member: false,
                        is_organization: org,
                        primary_fee: None,
                        expires_to: None,
                        renews_as: None,
                        flow_down_type: None,
                    },
                )
                .await?;
            }
        }
        let txn = db.write().await?;
        let s = Settings {
            default_person_type: Some(DEFAULT_PERSON_TYPE.0.into()),
            default_organization_type: Some(DEFAULT_ORGANIZATION_TYPE.0.into()),
            ..Settings::default()
        };
        settings::save(&txn, &s, 1).await?;
        txn.commit().await?;
    }
    Ok(())
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// The JWT secret: the configured one, else one generated once and kept in the database so
/// that tokens survive restarts.
pub async fn jwt_secret(db: &Db, configured: Option<String>) -> Result<String> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        // SEC-8: a short secret can be guessed offline from any one token.
        if s.len() < crate::auth::MIN_SECRET_BYTES {
            return Err(Error::invalid(
                "AMS_JWT_SECRET",
                format!(
                    "must be at least {} bytes (it is {}); leave it unset to have one generated and kept",
                    crate::auth::MIN_SECRET_BYTES,
                    s.len()
                ),
            ));
        }
        return Ok(s);
    }
    const NAME: &str = "jwt_secret";
    if let Some(s) = secret::Entity::find_by_id(NAME.to_owned())
        .one(&db.conn)
        .await?
    {
        return Ok(s.value);
    }
    let txn = db.write().await?;
    let value = match secret::Entity::find_by_id(NAME.to_owned())
        .one(&txn)
        .await?
    {
        Some(s) => s.value,
        None => {
            let value = random_text(48);
            secret::ActiveModel {
                name: Set(NAME.into()),
                value: Set(value.clone()),
                created_at: Set(clock::now()),
            }
            .insert(&txn)
            .await?;
            value
        }
    };
    txn.commit().await?;
    Ok(value)
}

/// With no staff login yet, creates `admin`. Returns the password when it was generated,
/// for the caller to show once.
pub async fn ensure_admin(db: &Db, password: Option<String>) -> Result<Option<String>> {
    if users::has_staff(&db.conn).await? {
        return Ok(None);
    }
    let (password, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => (p, false),
        None => (random_text(15), true),
    };
    users::create(db, ADMIN_USERNAME, &password, Role::Staff, None).await?;
    Ok(generated.then_some(password))
}

pub async fn prepare(db: &Db) -> Result<()> {
    db.migrate().await?;
    seed_defaults(db).await
}
