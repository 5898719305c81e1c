//! Hashes of grants, rules and declarations as they bear on answers (not where they are
//! written), so two policies' parts are compared without comparing their text.

use super::*;

/// A hash of a grant as it bears on answers: its resource (by name), actions, field states,
/// scope and condition (read back as a tree, with attribute paths by name).
pub(crate) fn grant_hash(p: &Policy, g: &Grant) -> u64 {
    hash(&(
        targets_text(p, &g.targets),
        g.scope.as_str(),
        g.when.as_ref().map(|w| w.to_tree(&p.slots).to_string()),
    ))
}

/// A hash of a rule as it bears on answers (the exemptions are already in whether a session
/// has the rule at all).
pub(crate) fn rule_hash(p: &Policy, r: &Rule) -> u64 {
    hash(&(
        &r.id,
        format!("{:?}", r.effect),
        targets_text(p, &r.targets),
        r.when.as_ref().map(|w| w.to_tree(&p.slots).to_string()),
    ))
}

pub(crate) fn targets_text(p: &Policy, t: &Targets) -> String {
    match t {
        Targets::One(r, shape) => {
            let res = &p.resources[*r as usize];
            let actions: Vec<&str> = res
                .actions
                .iter()
                .enumerate()
                .filter(|(i, _)| crate::core::policy::lists(shape.actions, 1 << i))
                .map(|(_, a)| a.as_str())
                .collect();
            format!("{}|{actions:?}|{:?}", res.name, shape.states)
        }
        Targets::All(pattern) => format!("*|{pattern:?}"),
    }
}

pub(crate) fn hash(v: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}
