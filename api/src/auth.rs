//! Who is calling: the bearer token decides, in one place (SEC-1, SEC-2).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use service::contacts::Actor;
use service::users::Role;

use crate::app::AppState;
use crate::problem::ApiError;

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

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
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
        .map_err(|_| ApiError::unauthorized("invalid token subject"))?;
    let role =
        Role::parse(&claims.role).ok_or_else(|| ApiError::unauthorized("invalid token role"))?;
    service::audit::identify(user_id);
    Ok(Caller {
        user_id,
        role,
        contact_id: claims.contact_id,
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

impl FromRequest for Staff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|c| match c.role {
            Role::Staff => Ok(Staff(c)),
            Role::Member => Err(ApiError::forbidden("this endpoint is for staff")),
        }))
    }
}

impl FromRequest for Member {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            authenticate(req).and_then(|c| match (c.role, c.contact_id) {
                (Role::Member, Some(contact_id)) => Ok(Member {
                    caller: c,
                    contact_id,
                }),
                (Role::Member, None) => Err(ApiError::forbidden("this login has no contact")),
                (Role::Staff, _) => Err(ApiError::forbidden(
                    "self-service endpoints are for member logins",
                )),
            }),
        )
    }
}
