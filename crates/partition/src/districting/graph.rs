//! The contracted graph the districting works on: every compound that fits in one grid (each of
//! its connected pieces) is one node; every other atom is a node of its own.

use std::collections::BTreeMap;

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

    /// Builds the contracted graph; compounds with households ≤ `max` are contracted.
    pub fn build(problem: &Problem, max: u32) -> Graph {
        let atoms = &problem.atoms;
        let adj = &problem.adjacency;
        let n = atoms.len();
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for a in atoms {
            if let Some(c) = &a.compound {
                *totals.entry(c.as_str()).or_default() += u64::from(a.households);
            }
        }
        let fits = |a: usize| -> Option<&str> {
            atoms[a].compound.as_deref().filter(|c| totals.get(c).is_some_and(|&h| h <= u64::from(max)))
        };
        // Components of fitting compounds (BFS over contacts within the same compound).
        let mut node_of = vec![u32::MAX; n];
        let mut next = 0u32;
        let mut queue = Vec::new();
        for s in 0..n {
            if node_of[s] != u32::MAX {
                continue;
            }
            node_of[s] = next;
            if let Some(c) = fits(s) {
                queue.clear();
                queue.push(s);
                while let Some(a) = queue.pop() {
                    for ct in adj.of(AtomIx(a as u32)) {
                        let b = ct.to.0 as usize;
                        if node_of[b] == u32::MAX && atoms[b].compound.as_deref() == Some(c) {
                            node_of[b] = next;
                            queue.push(b);
                        }
                    }
                }
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
        Graph { node_of, atom_off, atoms: atom_list, w, cnt, x, y, off, nbr, contacts, barrier, open }
    }
}
