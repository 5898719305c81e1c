//! The compiled policy: interned names, role ancestries, per-resource grant shapes.
//!
//! Built once by [`Policy::from_json`](crate::core::Policy::from_json) (see `compile.rs`); read
//! by every session. Everything here is plain data so it can be cached in the binary form.

use crate::core::attrs::AttrPath;
use crate::core::condition::{Expr, SlotTable, UserRef};
use crate::core::error::{Code, RequestError};
use crate::core::mask::Mask;
use crate::core::names::{Lazy, NameIndex, Named};
use crate::core::path::JsonPath;
use crate::core::state::FieldState;
use crate::core::window::{RoleEntry, Window};
use crate::core::workflow::Workflow;
use crate::prelude::*;
use alloc::borrow::Cow;
use alloc::sync::Arc;
use serde::{Deserialize, Serialize};

/// An action set over one resource's actions: bit `i` is the resource's action `i`;
/// [`ALL_ACTIONS`] stands for `*`.
pub type ActionMask = u64;

/// `*`: every action the resource declares.
pub const ALL_ACTIONS: ActionMask = u64::MAX;

/// Most actions one resource may declare.
pub const MAX_ACTIONS: usize = 63;

/// Whether `mask` lists the action with bit `bit` (or is `*`). An action the resource does not
/// declare has no bit (0) and is never listed, not even by `*`.
pub(crate) fn lists(mask: ActionMask, bit: ActionMask) -> bool {
    mask & bit != 0
}
/// A compiled, validated policy. Its wire form (a binary bundle's body) is read back only
/// through its integrity check, so no public path yields a policy sessions cannot trust.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Policy {
    pub(crate) header: Header,
    pub(crate) departments: Vec<Department>,
    #[serde(skip)]
    pub(crate) department_index: NameIndex,
    pub(crate) resources: Vec<Resource>,
    #[serde(skip)]
    pub(crate) resource_index: NameIndex,
    pub(crate) roles: Vec<Role>,
    #[serde(skip)]
    pub(crate) role_index: NameIndex,
    pub(crate) templates: Vec<String>,
    pub(crate) grants: Vec<Grant>,
    pub(crate) rules: Vec<Rule>,
    /// Rules from `rules` (personal denies and limits are reached through `users`).
    pub(crate) global_rules: Vec<u32>,
    /// Rules made from the resources' flows (everyone's, no exceptions).
    pub(crate) flow_rules: Vec<u32>,
    pub(crate) users: Named<UserAssignment>,
    /// Roles by department (a list: few departments have roles of their own).
    pub(crate) department_roles: Vec<(u32, Vec<RoleEntry>)>,
    pub(crate) group_roles: Named<Vec<RoleEntry>>,
    pub(crate) slots: SlotTable,
    /// Whether a condition reads `user.roles` (found on first use; sessions list the role
    /// names only then).
    #[serde(skip)]
    pub(crate) roles_read: Lazy<bool>,
}

impl Serialize for Policy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Policy::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Policy, D::Error> {
        let p = Policy::deserialize(d)?;
        p.check_integrity()
            .map_err(|e| serde::de::Error::custom(format_args!("not a sound policy: {e}")))?;
        Ok(p)
    }
}

/// The document's identity and validity window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `app`.
    pub app: String,
    /// `version`.
    pub version: u64,
    /// `issued_at` (RFC 3339), set by signing.
    pub issued_at: Option<String>,
    /// `expires_at` (RFC 3339), set by signing.
    pub expires_at: Option<String>,
    /// `subject`: the user a minimized bundle is bound to.
    pub subject: Option<String>,
    /// `person`: that user as the server resolved them (department, groups, directory roles,
    /// reporting line), signed with the policy: sessions from the bundle use it. Kept as the
    /// subject's JSON text, read when a session is made (`bundle::session_for`): the module
    /// reads subjects from text anyway, and carries no second reader for the binary form.
    pub person: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Department {
    pub name: String,
    pub parent: Option<u32>,
}

/// One declared resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Resource {
    pub name: String,
    pub actions: Vec<String>,
    pub fields: Fields,
    #[serde(skip)]
    pub field_index: NameIndex,
    /// Record slot of the owner attribute.
    pub owner: Option<u32>,
    /// Record slot of the department attribute.
    pub department: Option<u32>,
    /// Record slot of the members attribute (a list of user ids: `member` scopes).
    pub members: Option<u32>,
    /// Record slot of the outside organisation a record belongs to (`org` scopes: a partner
    /// sees its own organisation's records).
    pub org: Option<u32>,
    /// The resource whose records this one's follow (`parent` scopes).
    pub parent: Option<ParentLink>,
    /// Its approval flow, if it declares one.
    pub workflow: Option<Workflow>,
}

/// How a record reaches its parent record: the engine reads the parent under the parent
/// resource's name (`record.customer`); SQL joins the parent table through `via`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ParentLink {
    /// The parent resource.
    pub resource: u32,
    /// Record slot of the path holding the parent record (the parent resource's name).
    pub slot: u32,
    /// The attribute holding the parent's id.
    pub via: String,
}

impl Resource {
    /// The position of a declared field.
    pub fn field_pos(&self, name: &str) -> Option<u32> {
        let f = &self.fields;
        self.field_index.get(name, f.len(), |i| f.name(i))
    }

    pub fn action_bit(&self, name: &str) -> ActionMask {
        self.actions
            .iter()
            .position(|a| a == name)
            .map_or(0, |i| 1 << i)
    }
}

/// What a resource's actions let a grant give its fields in each form mode: editable in a mode
/// when it lists the mode's action (`create`, `edit`), readonly when it lists `view`. The plan
/// reads it on every decision; the admin tools ask it what a grant can reach.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModeCaps {
    /// The `view` bit.
    pub view: ActionMask,
    /// Per mode (view, create, edit), the action that makes a field editable in it.
    pub modes: [Option<ActionMask>; 3],
}

impl ModeCaps {
    /// The caps of `res`.
    pub fn of(res: &Resource) -> ModeCaps {
        ModeCaps {
            view: res.action_bit("view"),
            modes: [
                None,
                Some(res.action_bit("create")),
                Some(res.action_bit("edit")),
            ],
        }
    }

    /// The most a grant listing `actions` gives any field in mode `m`.
    pub fn cap(&self, actions: ActionMask, m: usize) -> FieldState {
        match self.modes.get(m).copied().flatten() {
            Some(bit) if lists(actions, bit) => FieldState::Editable,
            _ if lists(actions, self.view) => FieldState::Readonly,
            _ => FieldState::Hidden,
        }
    }

    /// The most a grant listing `actions` gives any field in any mode.
    #[cfg(feature = "std")]
    pub fn reach(&self, actions: ActionMask) -> FieldState {
        (0..3)
            .map(|m| self.cap(actions, m))
            .max()
            .unwrap_or(FieldState::Hidden)
    }
}

/// A resource's declared fields, in order. Their names share one string: one allocation per
/// resource instead of one per field, which was most of the work of loading a binary bundle.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Fields {
    /// The names, one after the other.
    names: String,
    /// Where each name ends in `names`.
    ends: Vec<u32>,
    /// Each field's mask (`None`: masked values show as `full`).
    masks: Vec<Option<Mask>>,
}

/// One declared field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'r> {
    pub name: &'r str,
    pub mask: Option<Mask>,
}

impl Fields {
    #[cfg(feature = "compile")]
    /// Declares the next field.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub fn push(&mut self, name: &str, mask: Option<Mask>) {
        self.names.push_str(name);
        self.ends.push(self.names.len() as u32);
        self.masks.push(mask);
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The name of field `i` (empty past the end, or for a decoded body whose offsets are not
    /// boundaries of its names: reading one never traps).
    pub fn name(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .map_or(Some(0), |j| self.ends.get(j).copied());
        let range = start.zip(self.ends.get(i).copied());
        range
            .and_then(|(a, b)| self.names.get(a as usize..b as usize))
            .unwrap_or("")
    }

    /// Field `i`.
    pub fn get(&self, i: usize) -> Field<'_> {
        Field {
            name: self.name(i),
            mask: self.masks.get(i).copied().flatten(),
        }
    }

    /// The names in order (`nth` is direct).
    pub fn names(&self) -> impl Iterator<Item = &str> + Clone {
        (0..self.len()).map(|i| self.name(i))
    }

    /// The fields in order.
    pub fn iter(&self) -> impl Iterator<Item = Field<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Role {
    pub name: String,
    /// Every role this one inherits, transitively, sorted (not the role itself: most roles
    /// inherit nothing, and then a binary bundle stores one byte here).
    pub ancestors: Vec<u32>,
    /// The role's own grants and its templates' grants.
    pub grants: Vec<u32>,
    /// Whether partners (people with an `org`) may hold it; they hold no other role.
    pub external: bool,
}

/// Where a grant was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Origin {
    Role(u32),
    Template(u32),
    User(String),
}

impl Origin {
    /// What holds the grant (`role`, `template` or `user`) and its name.
    #[expect(
        clippy::indexing_slicing,
        reason = "a template id indexes the policy's template list"
    )]
    pub fn holder<'p>(&'p self, p: &'p Policy) -> (&'static str, &'p str) {
        match self {
            Origin::Role(r) => ("role", &p.role(*r).name),
            Origin::Template(t) => ("template", &p.templates[*t as usize]),
            Origin::User(u) => ("user", u),
        }
    }
}

/// A data scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every record.
    All,
    /// Records whose owner attribute is the user.
    Own,
    /// Records of the user's department.
    Department,
    /// Records of the user's department or any department below it.
    DepartmentTree,
    /// Records owned by the user or by anyone below them in the reporting line (`user.reports`),
    /// down to the grant's `depth`.
    Subordinates,
    /// Records whose members list (the resource's `members`) holds the user.
    Member,
    /// Records whose parent record allows the same action.
    Parent,
    /// Records of the user's outside organisation (the resource's `org` attribute equals
    /// `user.org`): a partner's own orders.
    Org,
}

impl Scope {
    /// Whether every record `other` matches, for any user, this scope matches too (at any
    /// `depth` of `subordinates` at least the other's): `all` covers every scope, a
    /// department's tree its department, a reporting line the user's own records.
    #[cfg(feature = "std")]
    pub fn includes(self, other: Scope) -> bool {
        self == other
            || self == Scope::All
            || matches!(
                (self, other),
                (Scope::DepartmentTree, Scope::Department) | (Scope::Subordinates, Scope::Own)
            )
    }

    /// The policy-document spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Own => "own",
            Scope::Department => "department",
            Scope::DepartmentTree => "department_tree",
            Scope::Subordinates => "subordinates",
            Scope::Member => "member",
            Scope::Parent => "parent",
            Scope::Org => "org",
        }
    }
}

/// How one grant or rule bears on one resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Shape {
    pub actions: ActionMask,
    /// Grants: the state per field (`g.fields[f] ?? g.fields["*"] ?? editable`).
    /// Limit rules: the cap per field (`Editable` where the rule names none).
    /// Shared, so a session's plan keeps it without copying.
    #[serde(with = "crate::core::state::codes")]
    pub states: Arc<[FieldState]>,
}

/// A grant's or rule's actions and fields as written, before they meet a resource. The names
/// are owned in a compiled policy and borrowed from the document while compiling.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pattern<S = String> {
    /// `None` for `*`.
    pub actions: Option<Vec<S>>,
    /// Per field name (`None` for `*`) a state.
    pub fields: Vec<(Option<S>, FieldState)>,
}

impl<S: AsRef<str>> Pattern<S> {
    /// The shape this pattern takes on one resource.
    #[expect(
        clippy::indexing_slicing,
        reason = "field positions come from the resource's own field index"
    )]
    pub fn shape(&self, r: &Resource) -> Shape {
        let actions = match &self.actions {
            None => ALL_ACTIONS,
            Some(names) => names.iter().fold(0, |m, a| m | r.action_bit(a.as_ref())),
        };
        let star = self
            .fields
            .iter()
            .find(|(n, _)| n.is_none())
            .map(|(_, s)| *s);
        let mut states = vec![star.unwrap_or(FieldState::Editable); r.fields.len()];
        for (name, state) in &self.fields {
            if let Some(i) = name.as_ref().and_then(|n| r.field_pos(n.as_ref())) {
                states[i as usize] = *state;
            }
        }
        Shape {
            actions,
            states: states.into(),
        }
    }

    #[cfg(feature = "compile")]
    /// The same pattern with owned names.
    pub fn owned(&self) -> Pattern {
        let own = |n: &S| n.as_ref().to_string();
        Pattern {
            actions: self.actions.as_ref().map(|a| a.iter().map(own).collect()),
            fields: self
                .fields
                .iter()
                .map(|(n, s)| (n.as_ref().map(own), *s))
                .collect(),
        }
    }
}

/// The resources a grant or rule covers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Targets {
    /// One resource, shaped at compile time.
    One(u32, Shape),
    /// `*`: shaped per resource when a session first needs it (shaping every wildcard for
    /// every resource at compile time would be quadratic).
    All(Pattern),
}

impl Targets {
    /// The shape on `resource`, or `None` when the grant or rule does not cover it.
    pub fn shape<'t>(&'t self, resources: &[Resource], resource: u32) -> Option<Cow<'t, Shape>> {
        match self {
            Targets::One(r, s) => (*r == resource).then_some(Cow::Borrowed(s)),
            Targets::All(p) => resources
                .get(resource as usize)
                .map(|r| Cow::Owned(p.shape(r))),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub origin: Origin,
    /// Position in the holder's `grants` list.
    pub index: u32,
    pub targets: Targets,
    pub scope: Scope,
    /// For `subordinates`: how far down the reporting line (`None`: all the way).
    pub depth: Option<u32>,
    pub when: Option<Expr>,
    /// A personal grant's dates (`from`, `until`).
    pub window: Option<Window>,
}

impl Grant {
    /// The grant's JSON path in the document, e.g. `roles.sales.grants[0]` (rendered when asked
    /// for, so compiled policies and binary bundles do not carry one string per grant).
    pub fn path(&self, p: &Policy) -> String {
        let root = JsonPath::ROOT;
        let assignments = root.key("assignments");
        let list = match self.origin {
            Origin::Role(_) => root.key("roles"),
            Origin::Template(_) => root.key("templates"),
            Origin::User(_) => assignments.key("users"),
        };
        let holder = list.key(self.origin.holder(p).1);
        // A template is its list of grants; roles and users hold theirs under `grants`.
        let grants = match self.origin {
            Origin::Template(_) => holder,
            _ => holder.key("grants"),
        };
        grants.index(self.index as usize).render()
    }
}

/// Rule effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// Forbids the listed actions.
    Deny,
    /// Caps field states.
    Limit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Rule {
    /// The rule's id; for personal denies and limits, their JSON path.
    pub id: String,
    pub effect: Effect,
    pub targets: Targets,
    pub when: Option<Expr>,
    pub except_roles: Vec<u32>,
    /// A personal deny's or limit's dates (`from`, `until`).
    pub window: Option<Window>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct UserAssignment {
    pub roles: Vec<RoleEntry>,
    pub grants: Vec<u32>,
    /// Personal denies, then personal limits (rules for this user alone).
    pub rules: Vec<u32>,
}

impl Policy {
    /// Whether role `name` is external (partners may hold it); false for an unknown role.
    pub fn role_is_external(&self, name: &str) -> bool {
        self.role_pos(name).is_some_and(|r| self.role(r).external)
    }

    /// The approval flow `resource` declares, if any.
    pub fn workflow(&self, resource: &str) -> Option<&Workflow> {
        let r = self.resource_pos(resource)?;
        self.resources.get(r as usize)?.workflow.as_ref()
    }

    /// Resolves a resource name.
    ///
    /// # Errors
    /// `unknown_resource`.
    pub fn resource_id(&self, name: &str) -> Result<ResourceId, RequestError> {
        self.resource_pos(name).map(ResourceId).ok_or_else(|| {
            RequestError::new(Code::UnknownResource, format!("no resource `{name}`"))
        })
    }

    /// Resolves an action name of a resource.
    ///
    /// # Errors
    /// `unknown_action` when the resource does not declare it.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a resource has at most 63 actions"
    )]
    pub fn action_id(&self, resource: ResourceId, name: &str) -> Result<ActionId, RequestError> {
        let res = self.resource_at(resource.0);
        res.actions
            .iter()
            .position(|a| a == name)
            .map(|i| ActionId(i as u8))
            .ok_or_else(|| {
                let msg = format!("resource `{}` has no action `{name}`", res.name);
                RequestError::new(Code::UnknownAction, msg)
            })
    }

    /// The resource with this id (as handed out by [`Policy::resource_id`]), if any.
    pub fn resource_id_at(&self, id: u32) -> Option<ResourceId> {
        ((id as usize) < self.resources.len()).then_some(ResourceId(id))
    }

    /// The action with this index on a resource, if declared.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "`index` is below the action count, at most 63"
    )]
    pub fn action_at(&self, resource: ResourceId, index: u32) -> Option<ActionId> {
        let n = self.resource_at(resource.0).actions.len();
        ((index as usize) < n).then_some(ActionId(index as u8))
    }

    /// Number of declared fields of a resource.
    pub fn field_count(&self, resource: ResourceId) -> usize {
        self.resource_at(resource.0).fields.len()
    }

    /// The record slots decisions about resource `r` can read: its owner, department, members
    /// and org attributes, its parent record (read whole), and every slot the conditions of
    /// grants and rules covering it read, sorted
    /// (what a caller handing records over as slots must fill; the others are never read).
    pub fn record_slots(&self, r: ResourceId) -> Vec<u32> {
        let res = self.resource_at(r.0);
        let parent = res.parent.as_ref().map(|l| l.slot);
        let mut slots: Vec<u32> = [res.owner, res.department, res.members, res.org, parent]
            .into_iter()
            .flatten()
            .collect();
        let covers = |t: &Targets| match t {
            Targets::One(x, _) => *x == r.0,
            Targets::All(_) => true,
        };
        let grants = self.grants.iter().map(|g| (&g.targets, &g.when));
        for (targets, when) in grants.chain(self.rules.iter().map(|x| (&x.targets, &x.when))) {
            if let (true, Some(when)) = (covers(targets), when) {
                when.record_slots(&mut slots);
            }
        }
        sort_ids(&mut slots);
        slots.dedup();
        slots
    }

    /// Whether any grant's or rule's condition reads `user.roles`.
    pub(crate) fn reads_user_roles(&self) -> bool {
        *self.roles_read.get_or_init(|| {
            let grants = self.grants.iter().map(|g| &g.when);
            let rules = self.rules.iter().map(|r| &r.when);
            grants
                .chain(rules)
                .flatten()
                .any(|e| e.reads_user(UserRef::Roles))
        })
    }
    /// The `app` this policy is for.
    pub fn app(&self) -> &str {
        &self.header.app
    }

    /// The policy `version`.
    pub fn version(&self) -> u64 {
        self.header.version
    }

    /// The most a grant on `resource` listing the actions `listed` says yes to can give a
    /// field in any form mode (hidden for a resource it does not declare): what an editor asks
    /// before raising a field in a grant.
    #[cfg(feature = "std")]
    pub fn grant_reach(&self, resource: &str, listed: impl Fn(&str) -> bool) -> FieldState {
        self.resources
            .iter()
            .find(|r| r.name == resource)
            .map_or(FieldState::Hidden, |res| {
                let mask = res
                    .actions
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| listed(a))
                    .fold(0, |m, (i, _)| m | (1 << i));
                ModeCaps::of(res).reach(mask)
            })
    }

    /// The header: app, version, validity window, bound subject.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Resource names in declaration order.
    pub fn resource_names(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|r| r.name.as_str())
    }

    /// Field names of `resource` in declaration order, or `None` for an unknown resource.
    pub fn field_names(&self, resource: &str) -> Option<Vec<&str>> {
        let r = self.resource(resource)?;
        Some(r.fields.names().collect())
    }

    /// The resource whose records `resource`'s follow (`parent` scopes) and the attribute
    /// holding the parent's id, if it declares one.
    pub fn parent_of(&self, resource: &str) -> Option<(&str, &str)> {
        let link = self.resource(resource)?.parent.as_ref()?;
        let up = self.resources.get(link.resource as usize)?;
        Some((&up.name, &link.via))
    }

    /// The record attribute (dotted) holding the ids `resource`'s records are shared with
    /// (`member` scopes), if it declares one.
    pub fn members_attribute(&self, resource: &str) -> Option<String> {
        let slot = self.resource(resource)?.members?;
        self.slots.record.get(slot as usize).map(AttrPath::dotted)
    }

    /// The record attribute (dotted) holding a record's outside organisation, if `resource`
    /// declares one (`org` scopes).
    pub fn org_attribute(&self, resource: &str) -> Option<String> {
        let slot = self.resource(resource)?.org?;
        self.slots.record.get(slot as usize).map(AttrPath::dotted)
    }

    /// Action names of `resource` in declaration order, or `None` for an unknown resource.
    pub fn action_names(&self, resource: &str) -> Option<Vec<&str>> {
        let r = self.resource(resource)?;
        Some(r.actions.iter().map(String::as_str).collect())
    }

    /// The record attribute paths (dotted) the policy reads; `Slots` values go in this order.
    pub fn record_paths(&self) -> Vec<String> {
        self.slots.record.iter().map(|p| p.dotted()).collect()
    }

    /// The context attribute paths (dotted) the policy reads; `Slots` values go in this order.
    pub fn context_paths(&self) -> Vec<String> {
        self.slots.context.iter().map(|p| p.dotted()).collect()
    }

    /// Role names in declaration order.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(|r| r.name.as_str())
    }

    /// Department ids in declaration order.
    pub fn department_names(&self) -> impl Iterator<Item = &str> {
        self.departments.iter().map(|d| d.name.as_str())
    }

    /// The parent of a department, if it has one.
    pub fn department_parent(&self, name: &str) -> Option<&str> {
        let d = self.department_pos(name)?;
        let parent = self.department(d).parent?;
        Some(&self.department(parent).name)
    }

    /// Groups named in `assignments.groups`, in document order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.group_roles.names()
    }

    /// User ids named in `assignments.users`, sorted.
    pub fn user_ids(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = self.users.names().collect();
        ids.sort_unstable();
        ids.into_iter()
    }

    // Typed access to the tables by the ids the policy stores. Every id a policy holds indexes
    // its own tables: the compiler makes them so, and `check_integrity` proves it for a decoded
    // policy. These are the only places that index them.

    /// The resource with id `r`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids a policy stores index its own tables"
    )]
    #[inline]
    pub(crate) fn resource_at(&self, r: u32) -> &Resource {
        &self.resources[r as usize]
    }

    /// The role with id `r`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids a policy stores index its own tables"
    )]
    #[inline]
    pub(crate) fn role(&self, r: u32) -> &Role {
        &self.roles[r as usize]
    }

    /// The grant with id `g`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids a policy stores index its own tables"
    )]
    #[inline]
    pub(crate) fn grant(&self, g: u32) -> &Grant {
        &self.grants[g as usize]
    }

    /// The rule with id `r`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids a policy stores index its own tables"
    )]
    #[inline]
    pub(crate) fn rule(&self, r: u32) -> &Rule {
        &self.rules[r as usize]
    }

    /// The department with id `d`.
    #[expect(
        clippy::indexing_slicing,
        reason = "ids a policy stores index its own tables"
    )]
    #[inline]
    pub(crate) fn department(&self, d: u32) -> &Department {
        &self.departments[d as usize]
    }

    pub(crate) fn resource(&self, name: &str) -> Option<&Resource> {
        self.resource_pos(name).map(|i| self.resource_at(i))
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the name index holds positions in the resource list only"
    )]
    pub(crate) fn resource_pos(&self, name: &str) -> Option<u32> {
        let r = &self.resources;
        self.resource_index.get(name, r.len(), |i| &r[i].name)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the name index holds positions in the role list only"
    )]
    pub(crate) fn role_pos(&self, name: &str) -> Option<u32> {
        let r = &self.roles;
        self.role_index.get(name, r.len(), |i| &r[i].name)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the name index holds positions in the department list only"
    )]
    pub(crate) fn department_pos(&self, name: &str) -> Option<u32> {
        let d = &self.departments;
        self.department_index.get(name, d.len(), |i| &d[i].name)
    }
}

/// A resource, resolved once by name for the fast paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceId(pub(crate) u32);

/// An action of one resource, resolved once by name for the fast paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionId(pub(crate) u8);

/// The highest version a policy may have: JavaScript numbers hold integers exactly up to here
/// (`Number.MAX_SAFE_INTEGER`), and the package compares versions as numbers.
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// Whether `name` is a usable app name: `[a-z0-9][a-z0-9-]{0,63}`. App names become file and
/// URL path segments, so nothing else is accepted.
#[expect(clippy::indexing_slicing, reason = "`b` is not empty (checked first)")]
pub fn valid_app_name(name: &str) -> bool {
    let b = name.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 64 && ok(&b[0]) && b[1..].iter().all(|c| ok(c) || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_index_finds_names_and_only_them() {
        let names = ["view", "edit", "approve"];
        let at = |i: usize| names[i];
        let idx = NameIndex::build(names.iter().copied());
        assert_eq!(idx.get("edit", 3, at), Some(1));
        assert_eq!(idx.get("delete", 3, at), None);
        // Lazily built after decoding.
        let lazy = NameIndex::default();
        assert_eq!(lazy.get("approve", 3, at), Some(2));
        // An index that does not match the names (a bad decoded body) finds nothing, and
        // never reads past them.
        assert_eq!(idx.get("approve", 2, at), None);
    }

    #[test]
    fn named_values_keep_document_order_and_wire_form() {
        let named = Named::from(vec![
            ("u-bob".to_string(), 1),
            ("u-al".to_string(), 2),
            ("u-bob".to_string(), 3),
        ]);
        assert_eq!(named.get("u-al"), Some(&2));
        assert_eq!(named.get("u-bob"), Some(&1), "a repeated name: the first");
        assert_eq!(named.get("u-x"), None);
        assert_eq!(
            named.names().collect::<Vec<_>>(),
            ["u-bob", "u-al", "u-bob"]
        );
        // The wire form is that of a map: binary bundles that held a `BTreeMap` still read.
        let as_map: alloc::collections::BTreeMap<String, u8> =
            [("a".to_string(), 7), ("b".to_string(), 9)].into();
        let bytes = postcard::to_allocvec(&as_map).unwrap();
        let back: Named<u8> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!((back.get("a"), back.get("b")), (Some(&7), Some(&9)));
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
    }

    #[test]
    fn fields_share_one_string_and_never_trap() {
        let mut f = Fields::default();
        f.push("名前", None);
        f.push("phone", Some(Mask::Email));
        f.push("", None);
        f.push("x", None);
        assert_eq!(f.len(), 4);
        assert_eq!(f.names().collect::<Vec<_>>(), ["名前", "phone", "", "x"]);
        assert_eq!(f.names().nth(3), Some("x"));
        assert_eq!(f.get(1).mask, Some(Mask::Email));
        assert_eq!(f.get(9).name, "");
        // A decoded body whose offsets cut a character or run past the names reads as empty
        // names, not a trap.
        let bad = Fields {
            names: "名x".into(),
            ends: vec![1, 4, 99],
            masks: vec![],
        };
        assert_eq!(bad.names().collect::<Vec<_>>(), ["", "", ""]);
        assert_eq!(bad.get(0).mask, None);
    }

    #[test]
    fn grant_paths_are_rebuilt_from_holder_and_position() {
        let doc = br#"{"format": "fieldgate/1", "app": "a", "version": 1,
            "resources": {"r": {"actions": ["view"], "fields": {"f": {}}}},
            "templates": {"base": [{"resource": "r", "actions": ["view"]}]},
            "roles": {"sales": {"grants": [
                {"resource": "r", "actions": ["view"]}, {"resource": "*", "actions": ["view"]}]}},
            "assignments": {"users": {"u.1": {"grants": [{"resource": "r", "actions": ["view"]}]}}}}"#;
        let p = Policy::from_slice(doc).expect("compiles");
        let paths: Vec<String> = p.grants.iter().map(|g| g.path(&p)).collect();
        assert_eq!(
            paths,
            [
                "templates.base[0]",
                "roles.sales.grants[0]",
                "roles.sales.grants[1]",
                "assignments.users[\"u.1\"].grants[0]",
            ]
        );
    }
}
