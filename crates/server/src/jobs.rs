//! Background jobs: long work (partitioning a street or the whole city, recomputing life-circle
//! coverage) started through the API, run on the blocking pool, followed through a watch channel
//! (which Server-Sent Events stream) and stored: a job's row is written when it starts, its
//! progress as it runs, and its end (result, failure or cancellation) before anyone is told it
//! ended, so a finished job survives a restart. At start-up, jobs left running by a previous
//! process are marked failed ([`INTERRUPTED`]).

use crate::{ApiError, AppState};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use wangge_core::plan::{PlanRecord, PlanStatus};
use wangge_partition::Quota;
use wangge_planning::PlanningError;
use wangge_planning::run::{self, Hooks, Selection};
use wangge_store::{JobRecord, JobStatus};

/// The message of a job that was running when the server stopped.
pub const INTERRUPTED: &str = "interrupted by a restart";

/// Where a job stands, as its followers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Running, done, failed or cancelled.
    pub status: JobStatus,
    /// Fraction done, 0..1.
    pub progress: f64,
    /// What is happening (or why it failed).
    pub message: String,
    /// What a finished job produced.
    pub result: Option<Value>,
}

impl Snapshot {
    /// The snapshot of a stored job.
    pub fn of(job: &JobRecord) -> Self {
        Self { status: job.status, progress: job.progress, message: job.message.clone(), result: job.result.clone() }
    }
}

struct Running {
    cancel: Arc<AtomicBool>,
    state: watch::Receiver<Snapshot>,
}

/// The jobs running in this process.
#[derive(Default)]
pub struct Jobs {
    running: std::sync::Mutex<HashMap<i64, Running>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").finish_non_exhaustive()
    }
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Running>> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver of a running job's state; `None` when it is not running here.
    pub fn follow(&self, id: i64) -> Option<watch::Receiver<Snapshot>> {
        self.lock().get(&id).map(|r| r.state.clone())
    }

    /// Asks a running job to stop; `false` when it is not running here.
    pub fn cancel(&self, id: i64) -> bool {
        match self.lock().get(&id) {
            Some(r) => {
                r.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// What a job does, checked before it starts.
#[derive(Debug, Clone)]
pub enum Work {
    /// Partition communities into a draft plan.
    Partition {
        /// Which communities.
        selection: Selection,
        /// The quota.
        quota: Quota,
        /// The draft plan to save.
        plan: String,
        /// Seed of the search.
        seed: u64,
    },
    /// Recompute the life circles (nearest facilities, completeness, coverage) and store them.
    Circles {
        /// The categories to compute.
        selected: wangge_core::Catalogue,
        /// Walking speed.
        profile: wangge_circles::WalkProfile,
        /// How the network is built.
        opts: wangge_circles::NetworkOptions,
    },
    /// Import a dataset already read: merged with the store, written, and served.
    Import {
        /// What was read.
        imported: Box<wangge_io::Imported>,
    },
}

impl Work {
    /// The job kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Partition { .. } => "partition",
            Self::Circles { .. } => "circles",
            Self::Import { .. } => "import",
        }
    }
}

/// Starts `work` as a job by `author` with the request `params`: stores it, runs it in the
/// background and returns its record.
pub async fn start(state: &AppState, work: Work, params: &Value, author: &str) -> Result<JobRecord, ApiError> {
    let job = state.store.create_job(work.kind(), params, author).await?;
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = watch::channel(Snapshot::of(&job));
    state.jobs.lock().insert(job.id, Running { cancel: cancel.clone(), state: rx });
    let state2 = state.clone();
    let id = job.id;
    tokio::spawn(async move {
        let end = supervise(&state2, id, work, cancel, &tx).await;
        let (status, message, result) = match end {
            Ok(result) => (JobStatus::Done, "done".to_string(), Some(result)),
            Err(PlanningError::Cancelled) => (JobStatus::Cancelled, "cancelled".to_string(), None),
            Err(e) => (JobStatus::Failed, e.to_string(), None),
        };
        // Stored before anyone is told, so that what followers see survives a restart.
        if let Err(e) = state2.store.finish_job(id, status, &message, result.as_ref()).await {
            tracing::error!(job = id, error = %e, "recording the end of a job");
        }
        let progress = if status == JobStatus::Done { 1.0 } else { tx.borrow().progress };
        tx.send_replace(Snapshot { status, progress, message, result });
        state2.jobs.lock().remove(&id);
    });
    Ok(job)
}

/// Runs the work on the blocking pool while recording its progress in the store (at most every
/// 200 ms); returns the result summary.
async fn supervise(
    state: &AppState,
    id: i64,
    work: Work,
    cancel: Arc<AtomicBool>,
    tx: &watch::Sender<Snapshot>,
) -> Result<Value, PlanningError> {
    match work {
        Work::Circles { selected, profile, opts } => circles(state, id, (selected, profile, opts), cancel, tx).await,
        Work::Import { imported } => import(state, *imported, &cancel, tx).await,
        Work::Partition { selection, quota, plan, seed } => {
            let atlas = state.atlas();
            let previous = state.store.active_plan().await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
            let tx2 = tx.clone();
            let cancel2 = cancel.clone();
            let handle = tokio::task::spawn_blocking(move || {
                let progress = |fraction: f64, message: &str| {
                    tx2.send_modify(|s| {
                        s.progress = fraction.clamp(0.0, 1.0);
                        s.message = message.to_string();
                    });
                };
                let hooks = Hooks { progress: &progress, cancel: &cancel2 };
                let layers = atlas.layers();
                let inputs = run::select(layers, &selection)?;
                let communities = inputs.len();
                let barriers: Vec<_> =
                    layers.basemap.iter().filter(|f| run::is_barrier(f.kind, &f.class)).cloned().collect();
                let prev = previous.as_ref().map(|p| p.assignments.as_slice());
                run::run(inputs, &layers.compounds, &barriers, &quota, seed, prev, &hooks).map(|r| (r, communities))
            });
            let (result, communities) = follow_progress(state, id, tx, handle).await?;
            if cancel.load(Ordering::Relaxed) {
                return Err(PlanningError::Cancelled);
            }
            let metrics = serde_json::to_value(
                result.reports.iter().map(|(c, r)| (c.clone(), r)).collect::<std::collections::BTreeMap<_, _>>(),
            )
            .map_err(|e| PlanningError::Mismatch(e.to_string()))?;
            let record = PlanRecord {
                name: plan.clone(),
                status: PlanStatus::Draft,
                version: 0,
                quota_min: quota.min,
                quota_max: quota.max,
                quota_target: quota.target,
                metrics,
                assignments: result.assignments,
                grids: result.grids,
                created_at: String::new(),
            };
            let saved = state.store.save_plan(&record).await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
            if let Err(e) = state.plan_changed(&saved).await {
                tracing::warn!(job = id, error = %e, "refreshing tiles after a partition job");
            }
            let within = saved.grids.iter().filter(|g| quota.holds(g.households)).count();
            Ok(json!({
                "plan": saved.name,
                "version": saved.version,
                "communities": communities,
                "grids": saved.grids.len(),
                "grids_within_quota": within,
                "assignments": saved.assignments.len(),
            }))
        }
    }
}

/// The life-circle work: computed on the blocking pool, then stored.
async fn circles(
    state: &AppState,
    id: i64,
    (selected, profile, opts): (wangge_core::Catalogue, wangge_circles::WalkProfile, wangge_circles::NetworkOptions),
    cancel: Arc<AtomicBool>,
    tx: &watch::Sender<Snapshot>,
) -> Result<Value, PlanningError> {
    let atlas = state.atlas();
    let plan = state.store.active_plan().await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
    let tx2 = tx.clone();
    let cancel2 = cancel.clone();
    let handle = tokio::task::spawn_blocking(move || {
        let progress = |fraction: f64, message: &str| {
            tx2.send_modify(|s| {
                s.progress = fraction.clamp(0.0, 1.0);
                s.message = message.to_string();
            });
        };
        let hooks = Hooks { progress: &progress, cancel: &cancel2 };
        let layers = atlas.layers();
        let facilities: Vec<wangge_core::Facility> =
            layers.facilities.iter().filter(|f| selected.get(&f.category).is_some()).cloned().collect();
        wangge_planning::circles::compute(layers, &selected, &facilities, &profile, &opts, plan.as_ref(), &hooks)
            .map(|o| o.run)
    });
    let run = follow_progress(state, id, tx, handle).await?;
    if cancel.load(Ordering::Relaxed) {
        return Err(PlanningError::Cancelled);
    }
    let meta = state.store.save_circles(&run).await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
    // The buildings' completeness and the heat and cell tiles come from the stored run: the
    // tiles the new scores touch are dropped and encoded again from them.
    crate::tiles::atlas_changed(state, &state.atlas()).await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
    Ok(json!({
        "computed_at": meta.computed_at,
        "profile": meta.profile,
        "categories": meta.categories.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        "results": run.results.len(),
        "scores": run.scores.len(),
        "coverage": run.coverage.len(),
        "grid_plan": meta.graph.extra.get("grid_plan"),
    }))
}

/// One import at a time: each merges with what the store holds and derives values over everything,
/// so two at once would each miss the other's data.
static IMPORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The import work: merge with the store and write in one transaction
/// ([`wangge_planning::import::commit`]), then serve the new model (walking network and tiles
/// follow).
async fn import(
    state: &AppState,
    imported: wangge_io::Imported,
    cancel: &AtomicBool,
    tx: &watch::Sender<Snapshot>,
) -> Result<Value, PlanningError> {
    let step = |fraction: f64, message: &str| {
        tx.send_modify(|s| {
            s.progress = fraction;
            s.message = message.to_string();
        });
    };
    step(0.0, "waiting for other imports");
    let _one = IMPORTS.lock().await;
    if cancel.load(Ordering::Relaxed) {
        return Err(PlanningError::Cancelled);
    }
    step(0.2, "merging with the store and writing");
    let committed =
        wangge_planning::import::commit(&*state.store, std::slice::from_ref(&imported), &Default::default())
            .await
            .map_err(|e| PlanningError::Mismatch(e.to_string()))?;
    step(0.7, "serving the new data");
    let counts = wangge_planning::import::counts(&imported.layers);
    let atlas = tokio::task::spawn_blocking(move || wangge_core::Atlas::new(committed.layers))
        .await
        .map_err(|e| PlanningError::Mismatch(format!("rebuilding the model: {e}")))?;
    state.replace_atlas(atlas).await.map_err(|e| PlanningError::Mismatch(e.to_string()))?;
    const NOTES: usize = 50;
    Ok(json!({
        "dataset": imported.dataset.name,
        "format": imported.dataset.format,
        "counts": counts,
        "written": committed.written,
        "estimate": committed.estimate,
        "notes": imported.notes.iter().take(NOTES).collect::<Vec<_>>(),
        "notes_total": imported.notes.len(),
    }))
}

/// Waits for the blocking work, writing its progress to the store as it goes.
async fn follow_progress<T: Send + 'static>(
    state: &AppState,
    id: i64,
    tx: &watch::Sender<Snapshot>,
    mut handle: tokio::task::JoinHandle<Result<T, PlanningError>>,
) -> Result<T, PlanningError> {
    let mut rx = tx.subscribe();
    let mut written = (0.0, String::new());
    loop {
        tokio::select! {
            done = &mut handle => {
                return done.map_err(|e| PlanningError::Mismatch(format!("the job stopped: {e}")))?;
            }
            changed = rx.changed() => {
                if changed.is_err() {
                    continue;
                }
                let now = { let s = rx.borrow_and_update(); (s.progress, s.message.clone()) };
                if now != written {
                    if let Err(e) = state.store.job_progress(id, now.0, &now.1).await {
                        tracing::warn!(job = id, error = %e, "recording job progress");
                    }
                    written = now;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// At start-up: marks the jobs a previous process left running as failed.
pub async fn fail_interrupted(store: &dyn wangge_store::Store) -> Result<u64, wangge_store::StoreError> {
    let n = store.fail_running_jobs(INTERRUPTED).await?;
    if n > 0 {
        tracing::warn!(jobs = n, "jobs left running by a previous process are marked failed");
    }
    Ok(n)
}
