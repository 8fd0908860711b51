//! Human-readable notes on what was skipped, repaired or could not be assembled. Single cases are
//! one line each; large groups of the same kind are summarised with the first ids listed.

/// How many ids a group note lists.
const LISTED: usize = 10;

/// Notes collected during one conversion.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    lines: Vec<String>,
    groups: Vec<(String, Vec<String>)>,
}

impl Notes {
    /// Adds one line.
    pub fn line(&mut self, text: String) {
        self.lines.push(text);
    }

    /// Adds `id` to the group `label` (e.g. "building ways cut at the extract edge skipped").
    pub fn group(&mut self, label: &str, id: String) {
        match self.groups.iter_mut().find(|(l, _)| l == label) {
            Some((_, ids)) => ids.push(id),
            None => self.groups.push((label.to_string(), vec![id])),
        }
    }

    /// The notes: single lines first, then one line per group.
    pub fn into_lines(self) -> Vec<String> {
        let mut out = self.lines;
        for (label, ids) in self.groups {
            let n = ids.len();
            let listed = ids.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
            if n > LISTED {
                out.push(format!("{n} {label}: {listed}, … (first {LISTED} listed)"));
            } else {
                out.push(format!("{n} {label}: {listed}"));
            }
        }
        out
    }
}
