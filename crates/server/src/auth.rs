//! Who is calling: the [`Caller`] extractor reads `Authorization: Bearer <token>`. No header means
//! an anonymous resident; a header that is malformed, or a token that is unknown or expired, is a
//! 401 (never silently anonymous, so a client learns that it must log in again). The check runs
//! once per request in [`authenticate`], a middleware over every route, so a bad token is refused
//! even by routes that show the same to everyone.

use crate::{ApiError, AppState};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use wangge_store::{Role, User};

/// The caller of a request.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The signed-in user; `None` for an anonymous caller.
    pub user: Option<User>,
    /// The bearer token the caller sent (when signed in).
    pub token: Option<String>,
    /// The role of anonymous callers ([`AppState::anonymous_role`]: resident unless a local demo
    /// says otherwise).
    pub anonymous_role: Role,
}

impl Caller {
    /// The caller's role: a signed-in user's, else resident.
    pub fn role(&self) -> Role {
        self.user.as_ref().map_or(self.anonymous_role, |u| u.role)
    }

    /// The user, when signed in with a role of at least `needed`; else 401 (anonymous, whatever
    /// the anonymous role: acting needs a name) or 403.
    pub fn require(&self, needed: Role) -> Result<&User, ApiError> {
        match &self.user {
            None => Err(ApiError::Unauthorized(format!("sign in (POST /api/v1/login) as a {needed} or higher"))),
            Some(u) if u.role >= needed => Ok(u),
            Some(u) => Err(ApiError::Forbidden { needed, have: u.role }),
        }
    }

    /// Whether per-building household numbers may be shown.
    pub fn sees_households(&self) -> bool {
        self.role().sees_households()
    }
}

/// The token of an `Authorization` header value, if it is `Bearer <token>` (scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// Resolves the caller of a request from its `Authorization` header.
async fn resolve(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let anonymous = Caller { user: None, token: None, anonymous_role: state.anonymous_role };
    let Some(value) = parts.headers.get(AUTHORIZATION) else { return Ok(anonymous) };
    let token = value
        .to_str()
        .ok()
        .and_then(bearer)
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?;
    match state.store.token_user(token).await? {
        Some(user) => Ok(Caller { user: Some(user), token: Some(token.to_string()), ..anonymous }),
        None => Err(ApiError::Unauthorized("the bearer token is unknown or expired: log in again".into())),
    }
}

/// Middleware: resolves the caller once (a 401 for a bad header or token, whatever the route) and
/// leaves it in the request's extensions for [`Caller`]'s extractor.
pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match resolve(&parts, &state).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e) => e.into_response(),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(c) => Ok(c.clone()),
            None => resolve(parts, state).await,
        }
    }
}

/// A signed-in planner, checked before the request body is read: an anonymous caller gets 401 and a
/// leader or resident 403 whatever the body holds (extract it before any body extractor).
#[derive(Debug, Clone)]
pub struct PlannerUser(pub User);

/// A signed-in leader or planner, checked before the request body is read (see [`PlannerUser`]).
#[derive(Debug, Clone)]
pub struct LeaderUser(pub User);

impl FromRequestParts<AppState> for PlannerUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(Self(caller.require(Role::Planner)?.clone()))
    }
}

impl FromRequestParts<AppState> for LeaderUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(Self(caller.require(Role::Leader)?.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_header() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer a b"), None);
    }
}
