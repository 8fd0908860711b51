//! The contracted graph the districting works on: every compound that fits in one grid is one
//! node; every other atom is a node of its own.
//!
//! A compound's buildings need not touch each other in the adjacency (the mesh joins neighbours,
//! and a building of the compound may have only outside buildings around it). A node must stay
//! connected, or the grid holding it would be in pieces, so the pieces of such a compound are
//! joined by the chain of outside atoms with the fewest households between them (a path through
//! the adjacency, never through another fitting compound), and those atoms join the node. Only
//! when no chain keeps the whole within the maximum (or the pieces do not connect at all) does
//! the compound stay in pieces, and a note says so.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

use crate::types::{AtomIx, Problem};

/// Contracted nodes and their contacts (CSR).
pub(crate) struct Graph {
    /// Node of each atom.
    pub node_of: Vec<u32>,
    /// Atoms of node i: `atoms[atom_off[i]..atom_off[i + 1]]`.
    pub atom_off: Vec<u32>,
    /// See `atom_off`.
    pub atoms: Vec<u32>,
    /// Households of each node.
    pub w: Vec<u64>,
    /// Atoms in each node (the geometric weight).
    pub cnt: Vec<f64>,
    /// Mean point of each node.
    pub x: Vec<f64>,
    /// See `x`.
    pub y: Vec<f64>,
    /// Neighbours of node i: `nbr[off[i]..off[i + 1]]`, sorted.
    pub off: Vec<u32>,
    /// See `off`.
    pub nbr: Vec<u32>,
    /// Per neighbour entry: atom contacts between the two nodes.
    pub contacts: Vec<u32>,
    /// Per neighbour entry: the lowest barrier index crossed by a contact, if any.
    pub barrier: Vec<Option<u32>>,
    /// Per neighbour entry: true when some contact crosses no barrier.
    pub open: Vec<bool>,
    /// What the contraction did that the planner should know: compounds whose buildings touch
    /// only through other buildings (kept whole with those, or split when no chain fits).
    pub notes: Vec<String>,
}

impl Graph {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.w.len()
    }
    /// Neighbour entry range of node v.
    pub fn range(&self, v: u32) -> std::ops::Range<usize> {
        self.off[v as usize] as usize..self.off[v as usize + 1] as usize
    }
    /// Atoms of node v.
    pub fn atoms_of(&self, v: u32) -> &[u32] {
        &self.atoms[self.atom_off[v as usize] as usize..self.atom_off[v as usize + 1] as usize]
    }

    /// Builds the contracted graph; compounds with households ≤ `max` are contracted (with the
    /// atoms that join their pieces, see the module docs).
    pub fn build(problem: &Problem, max: u32) -> Graph {
        let atoms = &problem.atoms;
        let adj = &problem.adjacency;
        let n = atoms.len();
        let (group, notes) = compound_groups(problem, max);
        // Nodes numbered by their first atom; the atoms of a group share one node.
        let mut members: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (a, &k) in group.iter().enumerate() {
            if k != u32::MAX {
                members.entry(k).or_default().push(a);
            }
        }
        let mut node_of = vec![u32::MAX; n];
        let mut next = 0u32;
        for s in 0..n {
            if node_of[s] != u32::MAX {
                continue;
            }
            match members.get(&group[s]) {
                Some(list) => list.iter().for_each(|&a| node_of[a] = next),
                None => node_of[s] = next,
            }
            next += 1;
        }
        let m = next as usize;
        let mut atom_off = vec![0u32; m + 1];
        for &v in &node_of {
            atom_off[v as usize + 1] += 1;
        }
        for i in 0..m {
            atom_off[i + 1] += atom_off[i];
        }
        let mut fill = atom_off.clone();
        let mut atom_list = vec![0u32; n];
        for (a, &v) in node_of.iter().enumerate() {
            atom_list[fill[v as usize] as usize] = a as u32;
            fill[v as usize] += 1;
        }
        let mut w = vec![0u64; m];
        let mut cnt = vec![0f64; m];
        let mut x = vec![0f64; m];
        let mut y = vec![0f64; m];
        let mut finite = vec![0f64; m];
        for (a, &v) in node_of.iter().enumerate() {
            let v = v as usize;
            w[v] += u64::from(atoms[a].households);
            cnt[v] += 1.0;
            let p = atoms[a].point;
            if p.x().is_finite() && p.y().is_finite() {
                x[v] += p.x();
                y[v] += p.y();
                finite[v] += 1.0;
            }
        }
        for v in 0..m {
            if finite[v] > 0.0 {
                x[v] /= finite[v];
                y[v] /= finite[v];
            }
        }
        // Node edges.
        let mut edges: Vec<(u32, u32, Option<u32>, bool)> = Vec::with_capacity(adj.contacts.len());
        for a in 0..n {
            let va = node_of[a];
            for ct in adj.of(AtomIx(a as u32)) {
                let vb = node_of[ct.to.0 as usize];
                if va != vb {
                    edges.push((va, vb, ct.barrier, ct.barrier.is_none()));
                }
            }
        }
        edges.sort_unstable_by_key(|p| (p.0, p.1));
        let mut off = vec![0u32; m + 1];
        let mut nbr = Vec::new();
        let mut contacts = Vec::new();
        let mut barrier: Vec<Option<u32>> = Vec::new();
        let mut open = Vec::new();
        let mut i = 0;
        while i < edges.len() {
            let (a, b, _, _) = edges[i];
            let mut j = i;
            let mut c = 0u32;
            let mut bar: Option<u32> = None;
            let mut op = false;
            while j < edges.len() && edges[j].0 == a && edges[j].1 == b {
                c += 1;
                if let Some(x) = edges[j].2 {
                    bar = Some(bar.map_or(x, |y: u32| y.min(x)));
                }
                op |= edges[j].3;
                j += 1;
            }
            off[a as usize + 1] += 1;
            nbr.push(b);
            contacts.push(c);
            barrier.push(bar);
            open.push(op);
            i = j;
        }
        for v in 0..m {
            off[v + 1] += off[v];
        }
        Graph { node_of, atom_off, atoms: atom_list, w, cnt, x, y, off, nbr, contacts, barrier, open, notes }
    }
}

/// Group of each atom (`u32::MAX` for none): the atoms of a compound that fits in `max`, with the
/// outside atoms that join its pieces, share a group. Also the notes on compounds that needed
/// joining. Deterministic: compounds in id order, chains by (households, barriers, hops, atom).
fn compound_groups(problem: &Problem, max: u32) -> (Vec<u32>, Vec<String>) {
    let atoms = &problem.atoms;
    let adj = &problem.adjacency;
    let n = atoms.len();
    let max = u64::from(max);
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for a in atoms {
        if let Some(c) = &a.compound {
            *totals.entry(c.as_str()).or_default() += u64::from(a.households);
        }
    }
    let fits = |a: usize| -> Option<&str> {
        atoms[a].compound.as_deref().filter(|c| totals.get(c).is_some_and(|&h| h <= max))
    };
    // Connected pieces of the fitting compounds (contacts within the same compound).
    let mut piece = vec![u32::MAX; n];
    let mut pieces: Vec<Vec<u32>> = Vec::new();
    let mut of_compound: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for s in 0..n {
        let Some(c) = fits(s) else { continue };
        if piece[s] != u32::MAX {
            continue;
        }
        let k = pieces.len() as u32;
        piece[s] = k;
        let mut list = vec![s as u32];
        let mut i = 0;
        while i < list.len() {
            for ct in adj.of(AtomIx(list[i])) {
                let b = ct.to.0 as usize;
                if piece[b] == u32::MAX && atoms[b].compound.as_deref() == Some(c) {
                    piece[b] = k;
                    list.push(b as u32);
                }
            }
            i += 1;
        }
        pieces.push(list);
        of_compound.entry(c).or_default().push(k);
    }
    let mut group = piece.clone();
    let mut notes = Vec::new();
    for (c, ks) in of_compound {
        if ks.len() < 2 {
            continue;
        }
        let total = totals.get(c).copied().unwrap_or(0);
        let name = problem
            .community
            .compounds
            .iter()
            .find(|x| x.id == c)
            .and_then(|x| x.name.clone())
            .unwrap_or_else(|| c.to_string());
        match bridge(problem, &piece, &group, &pieces, &ks, max.saturating_sub(total)) {
            Some(chain) => {
                let k = ks[0];
                for &p in &ks {
                    for &a in &pieces[p as usize] {
                        group[a as usize] = k;
                    }
                }
                for &a in &chain {
                    group[a as usize] = k;
                }
                let extra: u64 = chain.iter().map(|&a| u64::from(atoms[a as usize].households)).sum();
                let mut ids: Vec<&str> = chain.iter().map(|&a| atoms[a as usize].id.building.as_str()).collect();
                ids.dedup();
                notes.push(format!(
                    "compound {name} ({total} households) lies in {} pieces that touch only through other buildings: kept in one grid with {} ({extra} households) that join them",
                    ks.len(),
                    ids.join(", ")
                ));
            }
            None => notes.push(format!(
                "compound {name} ({total} households) lies in {} pieces that touch only through other buildings, and no chain of buildings joins them within the maximum {max}: it is split",
                ks.len()
            )),
        }
    }
    (group, notes)
}

/// The outside atoms that join the pieces `ks` of one compound (the first piece grows by the
/// cheapest chain to the nearest other piece, until all are joined), with at most `budget`
/// households among them; `None` when no such chains exist. A chain uses only atoms in no
/// fitting compound and in no group yet.
fn bridge(
    problem: &Problem,
    piece: &[u32],
    group: &[u32],
    pieces: &[Vec<u32>],
    ks: &[u32],
    budget: u64,
) -> Option<Vec<u32>> {
    let atoms = &problem.atoms;
    let adj = &problem.adjacency;
    let mut left: BTreeSet<u32> = ks[1..].iter().copied().collect();
    let mut inside: BTreeSet<u32> = pieces[ks[0] as usize].iter().copied().collect();
    let mut chain: Vec<u32> = Vec::new();
    let mut budget = budget;
    // Cost of reaching an atom: (households of chain atoms, barriers crossed, hops).
    type Cost = (u64, u32, u32);
    while !left.is_empty() {
        let mut best: HashMap<u32, Cost> = HashMap::new();
        let mut prev: HashMap<u32, u32> = HashMap::new();
        let mut heap: BinaryHeap<Reverse<(Cost, u32)>> = BinaryHeap::new();
        for &a in &inside {
            best.insert(a, (0, 0, 0));
            heap.push(Reverse(((0, 0, 0), a)));
        }
        let mut reached = None;
        while let Some(Reverse((cost, a))) = heap.pop() {
            if best.get(&a).is_some_and(|&c| c < cost) {
                continue;
            }
            if left.contains(&piece[a as usize]) {
                reached = Some(a);
                break;
            }
            for ct in adj.of(AtomIx(a)) {
                let b = ct.to.0;
                let step = if left.contains(&piece[b as usize]) {
                    0
                } else if piece[b as usize] == u32::MAX && group[b as usize] == u32::MAX {
                    u64::from(atoms[b as usize].households)
                } else {
                    continue;
                };
                let c = (cost.0 + step, cost.1 + u32::from(ct.barrier.is_some()), cost.2 + 1);
                if c.0 > budget || best.get(&b).is_some_and(|&old| old <= c) {
                    continue;
                }
                best.insert(b, c);
                prev.insert(b, a);
                heap.push(Reverse((c, b)));
            }
        }
        let end = reached?;
        let k = piece[end as usize];
        left.remove(&k);
        inside.extend(pieces[k as usize].iter().copied());
        let mut at = end;
        while let Some(&p) = prev.get(&at) {
            if inside.contains(&p) {
                break;
            }
            chain.push(p);
            inside.insert(p);
            budget = budget.saturating_sub(u64::from(atoms[p as usize].households));
            at = p;
        }
    }
    chain.sort_unstable();
    Some(chain)
}
