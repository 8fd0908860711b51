//! Editing one community of a stored plan: the community as an engine problem, the plan's rows as
//! an engine plan, an edit applied with the engine's [`Editor`], and the community's rows of the
//! plan rebuilt from the result. Changes are kept per atom (building or unit, from grid, to grid)
//! so that an edit can be undone and redone by replaying them.

use crate::run::{Selection, frame_of, is_barrier, plan_rows, plan_rows_unshaped, prepare, previous_by_atom, select};
use crate::{PlanningError, Result};
use geo::{Contains, Point};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use wangge_core::Layers;
use wangge_core::plan::{PlanAssignment, PlanRecord};
use wangge_core::projection::LocalFrame;
use wangge_partition::edit::{EditOutcome, Editor, GridEdit};
use wangge_partition::{AtomId, GridIx, Plan, Problem, Quota, Violation};

/// One atom that changed grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Building source id.
    pub building: String,
    /// Unit label (`None`: the whole building).
    pub unit: Option<String>,
    /// Grid before.
    pub from: String,
    /// Grid after.
    pub to: String,
}

/// One community of a plan, ready to edit.
#[derive(Debug)]
pub struct Session {
    /// The community id, as the plan's grids name it.
    pub community: String,
    /// The metric frame the problem is in.
    pub frame: LocalFrame,
    /// The problem and the current plan.
    pub editor: Editor,
}

/// The quota of a stored plan.
pub fn quota_of(record: &PlanRecord) -> Result<Quota> {
    Quota::new(record.quota_min, record.quota_max, Some(record.quota_target))
        .map_err(|source| PlanningError::Engine { context: format!("the quota of plan `{}`", record.name), source })
}

/// The community a grid of `record` belongs to.
pub fn community_of_grid<'a>(record: &'a PlanRecord, grid: &str) -> Option<&'a str> {
    record.grids.iter().find(|g| g.grid == grid).map(|g| g.community.as_str())
}

/// The community of `record` whose boundary (in `layers`) holds the WGS84 point `p`; the plan's
/// only community when it has one.
pub fn community_at(layers: &Layers, record: &PlanRecord, p: Point<f64>) -> Option<String> {
    let in_plan: BTreeSet<&str> = record.grids.iter().map(|g| g.community.as_str()).collect();
    if in_plan.len() == 1 {
        return in_plan.into_iter().next().map(str::to_string);
    }
    layers
        .regions
        .iter()
        .filter(|r| r.level == wangge_core::RegionLevel::Community && in_plan.contains(r.source_id.as_str()))
        .find(|r| r.area.contains(&p))
        .map(|r| r.source_id.clone())
}

/// The plan of `problem` from atom → grid id (grids ordered by id); an atom without a grid is an error.
fn plan_from(problem: &Problem, grid_of: &BTreeMap<AtomId, String>) -> Result<Plan> {
    let ids: Vec<String> = grid_of.values().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let index: BTreeMap<&str, u32> = ids.iter().enumerate().map(|(i, g)| (g.as_str(), i as u32)).collect();
    let mut out = Vec::with_capacity(problem.atoms.len());
    for a in &problem.atoms {
        let g = grid_of.get(&a.id).ok_or_else(|| {
            PlanningError::Mismatch(format!(
                "building `{}` of community `{}` has no grid in the plan",
                a.id.building, problem.community.id
            ))
        })?;
        out.push(GridIx(index[g.as_str()]));
    }
    Ok(Plan { grid_of: out, grid_ids: ids })
}

/// Atom → grid id of a plan.
fn grid_map(problem: &Problem, plan: &Plan) -> BTreeMap<AtomId, String> {
    problem.atoms.iter().zip(&plan.grid_of).map(|(a, g)| (a.id.clone(), plan.grid_ids[g.0 as usize].clone())).collect()
}

/// Opens community `community` of `record` for editing over the model `layers`.
pub fn session(layers: &Layers, record: &PlanRecord, community: &str) -> Result<Session> {
    let quota = quota_of(record)?;
    let has_communities = layers.regions.iter().any(|r| r.level == wangge_core::RegionLevel::Community);
    let selection = if community == "all" && !has_communities {
        Selection::All
    } else {
        Selection::Community(community.to_string())
    };
    let mut inputs = select(layers, &selection)?;
    inputs.retain(|i| i.id == community);
    if inputs.is_empty() {
        return Err(PlanningError::Mismatch(format!("community `{community}` has no buildings with households")));
    }
    let frame = frame_of(&inputs)?;
    let barriers: Vec<_> = layers.basemap.iter().filter(|f| is_barrier(f.kind, &f.class)).cloned().collect();
    let problem = prepare(inputs, &layers.compounds, &barriers, &quota, &frame)?
        .into_iter()
        .next()
        .ok_or_else(|| PlanningError::Empty(format!("community `{community}`")))?;
    let grid_of = previous_by_atom(std::slice::from_ref(&problem), &record.assignments);
    let plan = plan_from(&problem, &grid_of)?;
    Ok(Session { community: community.to_string(), frame, editor: Editor::new(problem, quota, plan) })
}

/// What an edit (or its undoing) did to a plan.
#[derive(Debug, Clone)]
pub struct Edited {
    /// The plan with the community's rows replaced (version as it was).
    pub record: PlanRecord,
    /// Atoms that changed grid.
    pub changes: Vec<Change>,
    /// Every violation of the community after the change.
    pub violations: Vec<Violation>,
    /// Those the community did not have before.
    pub new_violations: Vec<Violation>,
    /// Grids that gained, lost, appeared or disappeared, sorted.
    pub changed_grids: Vec<String>,
}

fn changes_between(problem: &Problem, before: &Plan, after: &Plan) -> Vec<Change> {
    let (b, a) = (grid_map(problem, before), grid_map(problem, after));
    b.iter()
        .filter_map(|(id, from)| {
            let to = &a[id];
            (to != from).then(|| Change {
                building: id.building.clone(),
                unit: id.unit.clone(),
                from: from.clone(),
                to: to.clone(),
            })
        })
        .collect()
}

/// `record` with the rows of the session's community rebuilt from its current plan.
fn rebuild(session: &Session, record: &PlanRecord, changes: Vec<Change>, before: Vec<Violation>) -> Result<Edited> {
    let problem = session.editor.problem();
    let plan = session.editor.plan();
    let changed_grids: BTreeSet<String> = changes.iter().flat_map(|c| [c.from.clone(), c.to.clone()]).collect();
    let (grids, assignments) = match plan_rows(problem, plan, &session.frame) {
        Ok(rows) => rows,
        // Violations are shown, not refused: a grid in pieces has no one outline, so the grids
        // the change touched lose theirs and the others keep the ones they had.
        Err(PlanningError::Engine { .. }) => {
            let (mut grids, assignments) = plan_rows_unshaped(problem, plan, &session.frame)?;
            for g in &mut grids {
                if !changed_grids.contains(&g.grid) {
                    g.area = record.grids.iter().find(|r| r.grid == g.grid).and_then(|r| r.area.clone());
                }
            }
            (grids, assignments)
        }
        Err(e) => return Err(e),
    };
    let buildings: BTreeSet<&str> = problem.atoms.iter().map(|a| a.id.building.as_str()).collect();
    let mut out = record.clone();
    out.assignments.retain(|a| !buildings.contains(a.building.as_str()));
    out.assignments.extend(assignments);
    out.assignments.sort();
    out.grids.retain(|g| g.community != session.community);
    out.grids.extend(grids);
    out.grids.sort_by(|a, b| a.grid.cmp(&b.grid));
    let after = session.editor.violations();
    let new_violations = after.iter().filter(|v| !before.contains(v)).cloned().collect();
    Ok(Edited {
        record: out,
        changes,
        violations: after,
        new_violations,
        changed_grids: changed_grids.into_iter().collect(),
    })
}

/// Applies `edit` (in the session's metric frame) to the session's community of `record`.
/// Refused edits (unknown grid or atom, empty selection, a line that does not cut) are
/// [`PlanningError::Engine`] with the engine's reason.
pub fn apply(session: &mut Session, record: &PlanRecord, edit: &GridEdit) -> Result<(Edited, EditOutcome)> {
    let before_plan = session.editor.plan().clone();
    let before = session.editor.violations();
    let outcome =
        session.editor.apply(edit).map_err(|source| PlanningError::Engine { context: "the edit".into(), source })?;
    let changes = changes_between(session.editor.problem(), &before_plan, session.editor.plan());
    Ok((rebuild(session, record, changes, before)?, outcome))
}

/// Replays `changes` on the session's community of `record`: forwards (redo) or backwards (undo).
/// An atom whose grid is no longer the one the change left it in is still moved (the last word wins).
pub fn replay(session: &mut Session, record: &PlanRecord, changes: &[Change], backwards: bool) -> Result<Edited> {
    let problem = session.editor.problem().clone();
    let before_plan = session.editor.plan().clone();
    let before = session.editor.violations();
    let mut map = grid_map(&problem, &before_plan);
    for c in changes {
        let id = AtomId { building: c.building.clone(), unit: c.unit.clone() };
        let grid = if backwards { &c.from } else { &c.to };
        if let Some(g) = map.get_mut(&id) {
            *g = grid.clone();
        }
    }
    let plan = plan_from(&problem, &map)?;
    let quota = quota_of(record)?;
    let applied = changes_between(&problem, &before_plan, &plan);
    session.editor = Editor::new(problem, quota, plan);
    rebuild(session, record, applied, before)
}

/// Assignments of `record` keyed by (building, unit), for comparing plans.
pub fn assignment_map(record: &PlanRecord) -> BTreeMap<(String, Option<String>), String> {
    record.assignments.iter().map(|a: &PlanAssignment| ((a.building.clone(), a.unit.clone()), a.grid.clone())).collect()
}
