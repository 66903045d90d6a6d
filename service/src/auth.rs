//! Passwords (Argon2id) and tokens (JWT, HS256 pinned; `exp`, `iss`, `aud` always checked).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const ISSUER: &str = "ams";
pub const AUDIENCE: &str = "ams-api";
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 128;
/// The shortest token signing secret accepted (SEC-8).
pub const MIN_SECRET_BYTES: usize = 32;

pub fn check_password_rules(password: &str) -> std::result::Result<(), String> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(format!(
            "must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        ));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the user does not exist so that
/// unknown users and wrong passwords take the same time.
static DUMMY_HASH: LazyLock<Option<String>> =
    LazyLock::new(|| hash_blocking("no-such-user-placeholder").ok());

/// Hashing costs tens of milliseconds: it runs on the blocking pool, never on async workers.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
}

pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_blocking(&password, &h),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                let _ = verify_blocking(&password, dummy);
            }
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_seconds: i64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        // SEC-2: the server fixes the algorithm; the token's header cannot choose another.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    pub fn issue(
        &self,
        user_id: i64,
        role: &str,
        contact_id: Option<i64>,
        now: i64,
    ) -> Result<String> {
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_owned(),
            contact_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("token signing failed: {e}")))
    }

    pub fn verify(&self, token: &str) -> Result<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| {
                // The library's words name its internals (algorithms, base64 offsets): the
                // caller learns only whether to sign in again.
                let expired = matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature);
                Error::Unauthorized(
                    if expired {
                        "the token has expired; get a new one from POST /api/v1/auth/token"
                    } else {
                        "the token is not valid; get one from POST /api/v1/auth/token"
                    }
                    .into(),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn sec2_tokens_round_trip_and_carry_role_and_contact() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 3600);
        let t = keys.issue(7, "member", Some(42), now()).unwrap();
        let c = keys.verify(&t).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.role.as_str(), c.contact_id),
            ("7", "member", Some(42))
        );
    }

    #[test]
    fn sec2_expired_foreign_and_unsigned_tokens_are_rejected() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 3600);
        let expired = keys.issue(1, "staff", None, now() - 7200).unwrap();
        assert!(keys.verify(&expired).is_err());
        let other = TokenKeys::new(b"another-secret-another-secret-xx", 3600);
        assert!(
            keys.verify(&other.issue(1, "staff", None, now()).unwrap())
                .is_err()
        );
        // alg "none": header and claims without a signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = b64.encode(format!(
            r#"{{"sub":"1","role":"staff","iss":"ams","aud":"ams-api","iat":{n},"exp":{e}}}"#,
            n = now(),
            e = now() + 600
        ));
        assert!(keys.verify(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn sec2_wrong_audience_or_issuer_is_rejected() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let keys = TokenKeys::new(secret, 3600);
        let claims = Claims {
            sub: "1".into(),
            role: "staff".into(),
            contact_id: None,
            iss: ISSUER.into(),
            aud: "someone-else".into(),
            iat: now(),
            exp: now() + 600,
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert!(keys.verify(&t).is_err());
        let claims = Claims {
            aud: AUDIENCE.into(),
            iss: "evil".into(),
            ..claims
        };
        let t = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert!(keys.verify(&t).is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_blocking("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("correct horse battery", &h));
        assert!(!verify_blocking("wrong", &h));
    }
}
