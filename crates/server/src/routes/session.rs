//! Signing in and out: `POST /api/v1/login`, `POST /api/v1/logout`, `GET /api/v1/me`.

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The session routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(me))
}

/// The body of `POST /api/v1/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// User name.
    pub name: String,
    /// Password.
    pub password: String,
}

/// The one answer to wrong credentials, whichever part was wrong.
const WRONG: &str = "wrong name or password";

#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = Login,
    responses((status = 200, description = "`{token, token_type, name, role, expires_at}`: send the token as `Authorization: Bearer <token>`"),
        (status = 401, description = "Wrong name or password (one message for both)"),
        (status = 400, description = "Malformed JSON"), (status = 415, description = "Not JSON"), (status = 422, description = "A missing or unknown field")))]
async fn login(State(s): State<AppState>, ApiJson(body): ApiJson<Login>) -> Result<Json<Value>, ApiError> {
    let session = s.store.login(&body.name, &body.password, s.token_ttl).await?;
    let session = session.ok_or_else(|| ApiError::Unauthorized(WRONG.into()))?;
    Ok(Json(json!({
        "token": session.token,
        "token_type": "Bearer",
        "name": session.user.name,
        "role": session.user.role,
        "expires_at": session.expires_at,
    })))
}

#[utoipa::path(post, path = "/api/v1/logout", tag = "session", security(("bearer" = [])),
    responses((status = 200, description = "The token is revoked"), (status = 401, description = "No, a wrong or an expired token")))]
async fn logout(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let Some(token) = &caller.token else {
        return Err(ApiError::Unauthorized("log out with the bearer token to revoke".into()));
    };
    s.store.revoke_token(token).await?;
    Ok(Json(json!({ "status": "logged out" })))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session", security((), ("bearer" = [])),
    responses((status = 200, description = "`{name, role, households_visible}`; anonymous callers are residents"), (status = 401, description = "A wrong or expired token")))]
async fn me(caller: Caller) -> Json<Value> {
    Json(json!({
        "name": caller.user.as_ref().map(|u| &u.name),
        "role": caller.role(),
        "households_visible": caller.sees_households(),
    }))
}
