use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::auth::Staff;
use crate::dto::auth::{
    NewUserRequest, RegisterRequest, RegisterResponse, TokenRequest, TokenResponse, UserDto,
};
use crate::dto::contacts::ContactDto;
use crate::extract::Body;
use crate::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;
use utoipa_actix_web::service_config::ServiceConfig;

/// Exchange a username and password for a bearer token.
///
/// Unknown users and wrong passwords get the same 401 after the same work. Repeated failures
/// for a username from one address, or too many attempts from one address, get 429 with
/// `Retry-After` until the window ends (`AMS_LOGIN_*`).
#[utoipa::path(tag = "auth", operation_id = "createToken", request_body = TokenRequest, security(()),
    responses((status = 200, body = TokenResponse),
        (status = 401, description = "Unknown username or wrong password (the same answer for both)",
            content_type = "application/problem+json", body = Problem),
        (status = 429, description = "Too many login attempts: wait `Retry-After` seconds",
            content_type = "application/problem+json", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
#[post("/auth/token")]
pub async fn token(
    http: HttpRequest,
    state: web::Data<AppState>,
    body: Body<TokenRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let ip = state.client_address(&http);
    state
        .logins
        .attempt(ip, &req.username)
        .await?
        .map_err(ApiError::too_many_requests)?;
    let user =
        match service::users::authenticate(&state.db.conn, &req.username, &req.password).await {
            Ok(user) => {
                state.logins.succeeded(ip, &req.username).await?;
                user
            }
            Err(e) => {
                if matches!(e, service::Error::Unauthorized(_)) {
                    state.logins.failed(ip, &req.username).await?;
                }
                return Err(e.into());
            }
        };
    let now = chrono::Utc::now().timestamp();
    let access_token = state
        .keys
        .issue(user.id, user.role.as_str(), user.contact_id, now)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.keys.ttl_seconds,
        }))
}

/// Self-registration: a person contact of the default non-member type and a member login.
/// Usernames are unique in any letter case. Registrations per client address are limited per
/// hour (`AMS_REGISTRATIONS_PER_HOUR`): past it, 429 with `Retry-After`.
#[utoipa::path(tag = "auth", operation_id = "register", request_body = RegisterRequest, security(()),
    responses((status = 201, body = RegisterResponse),
        (status = 429, description = "Too many registrations from this address: wait `Retry-After` seconds",
            content_type = "application/problem+json", body = Problem,
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
#[post("/auth/register")]
pub async fn register(
    http: HttpRequest,
    state: web::Data<AppState>,
    body: Body<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    state
        .logins
        .register(state.client_address(&http))
        .await?
        .map_err(|wait| ApiError::too_many("registrations from this address", wait))?;
    let r = body.0;
    let (user, contact) = service::users::register(
        &state.db,
        service::users::Registration {
            username: r.username,
            password: r.password,
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/v1/me"))
        .json(RegisterResponse {
            user: user.into(),
            contact: ContactDto::from(contact),
        }))
}

/// Create a login (staff only).
#[utoipa::path(tag = "users", operation_id = "createUser", request_body = NewUserRequest,
    security(("bearer" = ["staff"])), responses((status = 201, body = UserDto)))]
#[post("/users")]
pub async fn create_user(
    _staff: Staff,
    state: web::Data<AppState>,
    body: Body<NewUserRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.0;
    let user = service::users::create(
        &state.db,
        &r.username,
        &r.password,
        r.role.into(),
        r.contact_id,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserDto::from(user)))
}

/// Registers this module's routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(token).service(register).service(create_user);
}
