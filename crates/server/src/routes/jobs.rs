//! Background jobs over HTTP: start (planner), list and read (leader, planner), follow as
//! Server-Sent Events, cancel (planner). See [`crate::jobs`].

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::jobs::{self, Snapshot, Work};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use tokio::sync::watch;
use utoipa_axum::{router::OpenApiRouter, routes};
use wangge_core::plan::PlanStatus;
use wangge_partition::Quota;
use wangge_planning::run::Selection;
use wangge_store::{JobRecord, JobStatus, Role};

/// The job routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_job, list_jobs))
        .routes(routes!(job, cancel_job))
        .routes(routes!(job_events))
}

fn bad_field(field: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::BadBody { status: StatusCode::UNPROCESSABLE_ENTITY, message: format!("field `{field}`: {reason}") }
}

/// A job to start, tagged by `kind`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum JobRequest {
    /// Partition one community, a street's communities or all of them into a draft plan.
    Partition {
        /// A community id or name, or `all`.
        community: Option<String>,
        /// A street id or name (instead of `community`).
        street: Option<String>,
        /// Fewest households in a grid.
        min: u32,
        /// Most households in a grid.
        max: u32,
        /// Ideal households in a grid (default: the middle).
        target: Option<u32>,
        /// The draft plan to save (default `draft`); an active or retired plan is never overwritten.
        plan: Option<String>,
        /// Seed of the (deterministic) search (default 1).
        seed: Option<u64>,
    },
    /// Recompute the life circles of every building and store them (as `wangge circles compute`).
    Circles {
        /// `all` (default) or catalogue ids separated by commas.
        category: Option<String>,
        /// Walking profile: `default` (1.2 m/s) or `elderly` (0.8 m/s).
        profile: Option<String>,
        /// Buildings and facilities farther than this from every walkable way are unreachable, metres (default 300).
        max_snap_m: Option<f64>,
    },
    /// Import one dataset sent in the request (as `wangge import` does with a file): a GeoJSON
    /// FeatureCollection (buildings, facilities, boundaries or walking ways; roles from the
    /// features) or a register CSV. Re-importing a dataset name replaces it.
    Import {
        /// The dataset's name (1 to 100 characters).
        dataset: String,
        /// A GeoJSON FeatureCollection (give this or `csv`).
        #[schema(value_type = Object)]
        geojson: Option<Value>,
        /// A register CSV (`building_id,households,…`), as text.
        csv: Option<String>,
        /// Coordinate system of the GeoJSON: `wgs84` (default), `gcj02` or `bd09`.
        input_coords: Option<String>,
    },
}

/// Reads the data of an import request as `wangge import` reads a file (the format detected from
/// the content), before the job starts: bad data is a 422 naming the feature or row, and nothing
/// is written.
async fn read_import(
    s: &AppState,
    dataset: String,
    geojson: Option<Value>,
    csv: Option<String>,
    input_coords: Option<&str>,
) -> Result<wangge_io::Imported, ApiError> {
    if dataset.trim().is_empty() || dataset.len() > 100 || dataset.chars().any(char::is_control) {
        return Err(bad_field("dataset", "a dataset name is 1 to 100 characters, without control characters"));
    }
    let (bytes, suffix) = match (geojson, csv) {
        (Some(g), None) => (serde_json::to_vec(&g).map_err(|e| bad_field("geojson", e))?, ".geojson"),
        (None, Some(c)) => (c.into_bytes(), ".csv"),
        _ => return Err(bad_field("geojson", "give the data as `geojson` (an object) or `csv` (text), one of them")),
    };
    let opts = wangge_io::ReadOptions {
        catalogue: (*s.catalogue).clone(),
        dataset: Some(dataset.clone()),
        population_field: None,
        input_coords: super::coords(input_coords)
            .map_err(|_| bad_field("input_coords", "one of wgs84, gcj02, bd09"))?,
        geojson_role: wangge_io::GeoJsonRole::Auto,
    };
    let field = if suffix == ".csv" { "csv" } else { "geojson" };
    tokio::task::spawn_blocking(move || {
        let file = tempfile::Builder::new().prefix("wangge-import-").suffix(suffix).tempfile()?;
        std::fs::write(file.path(), &bytes)?;
        Ok::<_, std::io::Error>(wangge_io::read(file.path(), &opts))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("reading the import: {e}")))?
    .map_err(|e| ApiError::Internal(format!("reading the import: {e}")))?
    // The reader names the temporary file: the client knows the data as the request's field.
    .map_err(|e| bad_field(field, e.to_string().split_once(": ").map_or(e.to_string(), |(_, why)| why.to_string())))
}

fn job_json(j: &JobRecord) -> Value {
    json!(j)
}

/// Checks a request and turns it into work.
async fn work_of(s: &AppState, req: JobRequest) -> Result<Work, ApiError> {
    match req {
        JobRequest::Partition { community, street, min, max, target, plan, seed } => {
            let selection = match (community, street) {
                (Some(_), Some(_)) => return Err(bad_field("street", "give `community` or `street`, not both")),
                (None, None) => {
                    return Err(bad_field("community", "give `community` (an id, a name or `all`) or `street`"));
                }
                (Some(c), None) if c == "all" => Selection::All,
                (Some(c), None) if c.is_empty() => return Err(bad_field("community", "empty")),
                (Some(c), None) => Selection::Community(c),
                (None, Some(st)) if st.is_empty() => return Err(bad_field("street", "empty")),
                (None, Some(st)) => Selection::Street(st),
            };
            let quota = Quota::new(min, max, target).map_err(|e| bad_field("min", e))?;
            let plan = plan.unwrap_or_else(|| "draft".into());
            if plan.trim().is_empty() || plan.len() > 100 || plan.chars().any(|c| c.is_control() || c == '/') {
                return Err(bad_field("plan", "a plan name is 1 to 100 characters, without `/` or control characters"));
            }
            if let Some(p) = s.store.plans().await?.into_iter().find(|p| p.name == plan)
                && p.status != PlanStatus::Draft
            {
                return Err(bad_field(
                    "plan",
                    format!("plan `{plan}` is {}: a job saves drafts only; choose another name", p.status.as_str()),
                ));
            }
            // Refuse an unknown community or street now rather than in a failed job.
            wangge_planning::run::select(s.atlas().layers(), &selection).map_err(|e| {
                let field = if matches!(selection, Selection::Street(_)) { "street" } else { "community" };
                bad_field(field, e)
            })?;
            Ok(Work::Partition { selection, quota, plan, seed: seed.unwrap_or(1) })
        }
        JobRequest::Circles { category, profile, max_snap_m } => {
            let spec = category.unwrap_or_else(|| "all".into());
            let selected = if spec.trim() == "all" {
                (*s.catalogue).clone()
            } else {
                let mut wanted = Vec::new();
                for id in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if s.catalogue.get(id).is_none() {
                        return Err(bad_field("category", format!("`{id}` is not a category of the catalogue")));
                    }
                    wanted.push(id.to_string());
                }
                if wanted.is_empty() {
                    return Err(bad_field("category", "no category"));
                }
                wangge_core::Catalogue {
                    categories: s.catalogue.categories.iter().filter(|c| wanted.contains(&c.id)).cloned().collect(),
                }
            };
            let profile = wangge_circles::WalkProfile::by_name(profile.as_deref().unwrap_or("default"))
                .map_err(|e| bad_field("profile", e))?;
            let max_snap_m = max_snap_m.unwrap_or(300.0);
            if !(max_snap_m.is_finite() && max_snap_m >= 0.0) {
                return Err(bad_field("max_snap_m", "a non-negative number of metres"));
            }
            if s.atlas().layers().edges.is_empty() {
                return Err(bad_field("kind", "the store has no walking network: import an OpenStreetMap file first"));
            }
            let opts = wangge_circles::NetworkOptions { max_snap_m, respect_compounds: true, frame: None };
            Ok(Work::Circles { selected, profile, opts })
        }
        JobRequest::Import { dataset, geojson, csv, input_coords } => {
            let imported = read_import(s, dataset, geojson, csv, input_coords.as_deref()).await?;
            Ok(Work::Import { imported: Box::new(imported) })
        }
    }
}

#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = JobRequest, security(("bearer" = [])),
    responses((status = 202, description = "The job, running: `{id, kind, params, status, progress, message, result, author, created_at, finished_at}` (planner)"),
        (status = 400, description = "Malformed JSON"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 422, description = "An unknown kind or field, a bad quota, an unknown community or street, a plan that is not a draft, import data that cannot be read (naming the feature or row)")))]
async fn start_job(
    State(s): State<AppState>,
    crate::auth::PlannerUser(user): crate::auth::PlannerUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: JobRequest = serde_json::from_value(body.clone()).map_err(|e| {
        let field = if body.get("kind").is_none() { "kind" } else { "job" };
        bad_field(field, format!("{e} (kinds: partition, circles, import)"))
    })?;
    let work = work_of(&s, req).await?;
    // An import's data is not kept with the job: its size stands in for it.
    let mut params = body;
    if let Some(o) = params.as_object_mut() {
        for field in ["geojson", "csv"] {
            if let Some(v) = o.remove(field) {
                let bytes = v.as_str().map_or_else(|| v.to_string().len(), str::len);
                o.insert(format!("{field}_bytes"), json!(bytes));
            }
        }
    }
    let job = jobs::start(&s, work, &params, &user.name).await?;
    Ok((StatusCode::ACCEPTED, Json(job_json(&job))))
}

#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    responses((status = 200, description = "`{jobs: [...]}`, newest first (leader, planner)"), (status = 401, description = "Not signed in"),
        (status = 403, description = "A resident")))]
async fn list_jobs(State(s): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Leader)?;
    let jobs = s.store.jobs().await?;
    Ok(Json(json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() })))
}

fn job_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(|| ApiError::BadParam {
        param: "id",
        reason: format!("`{id}` is not a job id (a positive integer)"),
    })
}

async fn load(s: &AppState, id: &str) -> Result<JobRecord, ApiError> {
    let n = job_id(id)?;
    s.store.job(n).await?.ok_or_else(|| ApiError::NotFound { kind: "job", id: id.to_string() })
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Job id")), security(("bearer" = [])),
    responses((status = 200, description = "The job: status, progress, message, result summary (leader, planner)"),
        (status = 400, description = "Not a job id"), (status = 401, description = "Not signed in"), (status = 403, description = "A resident"),
        (status = 404, description = "No such job")))]
async fn job(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Leader)?;
    Ok(Json(job_json(&load(&s, &id).await?)))
}

#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Job id")), security(("bearer" = [])),
    responses((status = 202, description = "The job is asked to stop; it ends `cancelled` (planner)"),
        (status = 400, description = "Not a job id"), (status = 401, description = "Not signed in"), (status = 403, description = "Not a planner"),
        (status = 404, description = "No such job"), (status = 409, description = "The job already ended, with `current`")))]
async fn cancel_job(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Planner)?;
    let job = load(&s, &id).await?;
    if job.status.is_finished() || !s.jobs.cancel(job.id) {
        let current = s.store.job(job.id).await?.map(|j| job_json(&j)).unwrap_or(Value::Null);
        return Err(ApiError::Conflict {
            code: "JobFinished",
            message: format!("job {} has ended ({})", job.id, current["status"].as_str().unwrap_or("unknown")),
            current,
        });
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": job.id, "status": "cancelling" }))))
}

/// One SSE event of a snapshot: `progress` while running, else the final status.
fn event(id: i64, s: &Snapshot) -> Event {
    let name = match s.status {
        JobStatus::Running => "progress",
        JobStatus::Done => "done",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    };
    let data =
        json!({ "id": id, "status": s.status, "progress": s.progress, "message": s.message, "result": s.result });
    Event::default().event(name).data(data.to_string())
}

enum Feed {
    Live(watch::Receiver<Snapshot>, bool),
    Once(Snapshot),
    End,
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}/events", tag = "jobs", params(("id" = String, Path, description = "Job id")), security(("bearer" = [])),
    responses((status = 200, description = "Server-Sent Events: `progress` events `{id, status, progress, message}`, then one of `done` (with `result`), `failed`, `cancelled`, and the stream ends (leader, planner)", content_type = "text/event-stream"),
        (status = 400, description = "Not a job id"), (status = 401, description = "Not signed in"), (status = 403, description = "A resident"),
        (status = 404, description = "No such job")))]
async fn job_events(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    caller.require(Role::Leader)?;
    let job = load(&s, &id).await?;
    let jid = job.id;
    let store = s.store.clone();
    let feed = match s.jobs.follow(jid) {
        Some(rx) if !job.status.is_finished() => Feed::Live(rx, true),
        // Ended (maybe just now): the store has its end.
        _ => Feed::Once(Snapshot::of(&s.store.job(jid).await?.unwrap_or(job))),
    };
    let stream = stream::unfold(feed, move |feed| {
        let store = store.clone();
        async move {
            match feed {
                Feed::End => None,
                Feed::Once(snap) => Some((Ok(event(jid, &snap)), Feed::End)),
                Feed::Live(mut rx, first) => {
                    if !first && rx.changed().await.is_err() {
                        // The job ended and its sender is gone: the store has its end.
                        let snap = match store.job(jid).await {
                            Ok(Some(j)) => Snapshot::of(&j),
                            _ => Snapshot {
                                status: JobStatus::Failed,
                                progress: 0.0,
                                message: "the job is gone".into(),
                                result: None,
                            },
                        };
                        return Some((Ok(event(jid, &snap)), Feed::End));
                    }
                    let snap = rx.borrow_and_update().clone();
                    let next = if snap.status.is_finished() { Feed::End } else { Feed::Live(rx, false) };
                    Some((Ok(event(jid, &snap)), next))
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
