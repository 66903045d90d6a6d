//! Who is calling: the bearer token decides, in one place (SEC-1, SEC-2).

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use service::access::Actor;
use service::users::Role;

use crate::problem::ApiError;
use crate::state::AppState;

/// Any authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub user_id: i64,
    pub role: Role,
    pub contact_id: Option<i64>,
}

impl Caller {
    pub fn actor(&self) -> Result<Actor, ApiError> {
        match (self.role, self.contact_id) {
            (Role::Staff, _) => Ok(Actor::Staff),
            (Role::Member, Some(contact_id)) => Ok(Actor::Member { contact_id }),
            (Role::Member, None) => Err(ApiError::forbidden("this login has no contact")),
        }
    }
}

/// A staff caller; members get 403.
#[derive(Debug, Clone, Copy)]
pub struct Staff(pub Caller);

/// A member caller with their contact; staff get 403 (self-service is for members).
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub caller: Caller,
    pub contact_id: i64,
}

/// The token's claims, checked (SEC-2), before the user is looked up.
fn claimed(req: &HttpRequest) -> Result<(web::Data<AppState>, Caller), ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("authentication is not configured"))?;
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "send Authorization: Bearer <token> (get one from POST /api/v1/auth/token)",
        )
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be Bearer <token>"))?;
    let claims = state.keys.verify(token).map_err(ApiError::from)?;
    let user_id = claims
        .sub
        .parse::<i64>()
        .map_err(|_| ApiError::unauthorized("the token is not valid"))?;
    let role = Role::parse(&claims.role)
        .ok_or_else(|| ApiError::unauthorized("the token is not valid"))?;
    Ok((
        state,
        Caller {
            user_id,
            role,
            contact_id: claims.contact_id,
        },
    ))
}

/// SEC-8: a token is honoured only while its user exists with the role and contact it was
/// issued for; a purged login, or a forged subject signed with the right key, gets 401.
async fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let (state, caller) = claimed(req)?;
    let current = state
        .login_status
        .current(&state.db, caller.user_id)
        .await?;
    if current != Some((caller.role, caller.contact_id)) {
        return Err(ApiError::unauthorized(
            "the token's login no longer exists or has changed; sign in again",
        ));
    }
    Ok(caller)
}

/// Who the request's bearer token names, decided by [`identify`] before any extractor runs,
/// so that a refused caller is refused before the body is read, as a token alone once
/// decided it.
#[derive(Clone)]
struct Identity(Result<Caller, ApiError>);

/// Middleware: checks the bearer token of every request that sends one, the user included
/// (one primary-key read), and leaves the outcome for the extractors.
pub async fn identify(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Liveness, readiness and the documents take no token: no work for them.
    let guarded = req.path().starts_with("/api/") || req.path() == "/metrics";
    if guarded && req.headers().contains_key(header::AUTHORIZATION) {
        let identity = Identity(authenticate(req.request()).await);
        req.extensions_mut().insert(identity);
    }
    next.call(req).await
}

fn caller(req: &HttpRequest) -> Result<Caller, ApiError> {
    let caller = match req.extensions().get::<Identity>() {
        Some(Identity(outcome)) => outcome.clone(),
        None => Err(ApiError::unauthorized(
            "send Authorization: Bearer <token> (get one from POST /api/v1/auth/token)",
        )),
    }?;
    service::audit::identify(caller.user_id);
    Ok(caller)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req))
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).and_then(|c| match c.role {
            Role::Staff => Ok(Staff(c)),
            Role::Member => Err(ApiError::forbidden("this endpoint is for staff")),
        }))
    }
}

impl FromRequest for Member {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).and_then(|c| match (c.role, c.contact_id) {
            (Role::Member, Some(contact_id)) => Ok(Member {
                caller: c,
                contact_id,
            }),
            (Role::Member, None) => Err(ApiError::forbidden("this login has no contact")),
            (Role::Staff, _) => Err(ApiError::forbidden(
                "self-service endpoints are for member logins",
            )),
        }))
    }
}
