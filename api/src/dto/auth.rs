use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::words::RoleDto;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "admin", "password": "the password"}))]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub username: String,
    /// Longer than any password a login can have (128), shorter than a hashing workload.
    #[validate(length(min = 1, max = 1024, message = "must be 1 to 1024 characters"))]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9...", "token_type": "Bearer", "expires_in": 3600}))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ana.silva", "password": "a long passphrase", "first_name": "Ana", "last_name": "Silva", "email": "ana@example.org"}))]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[validate(length(min = 1, max = 100))]
    pub first_name: String,
    #[validate(length(min = 1, max = 100))]
    pub last_name: String,
    #[validate(email)]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub user: UserDto,
    pub contact: super::contacts::ContactDto,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "ana.silva", "password": "a long passphrase", "role": "member", "contact_id": 42}))]
pub struct NewUserRequest {
    pub username: String,
    pub password: String,
    pub role: RoleDto,
    /// Required for members: the contact the login belongs to.
    pub contact_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub role: RoleDto,
    pub contact_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<service::entity::user::Model> for UserDto {
    fn from(u: service::entity::user::Model) -> Self {
        UserDto {
            id: u.id,
            username: u.username,
            role: u.role.into(),
            contact_id: u.contact_id,
            created_at: u.created_at,
        }
    }
}
