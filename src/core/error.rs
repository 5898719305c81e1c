//! Typed errors with stable string codes, for policies and for requests.

use crate::prelude::*;
use core::fmt;
use serde::Serialize;

codes! {
    /// A stable, machine-readable error code. Its `snake_case` string is part of the public contract.
    pub enum Code {
        /// The input is not valid JSON.
        BadJson = "bad_json",
        /// The input is larger than the configured limit.
        TooLarge = "too_large",
        /// The JSON nests deeper than the limit.
        TooDeep = "too_deep",
        /// A value has the wrong JSON type.
        WrongType = "wrong_type",
        /// A required key is absent.
        MissingKey = "missing_key",
        /// A key the format does not define (and that does not start with `x-`).
        UnknownKey = "unknown_key",
        /// `format` is not `fieldgate/1`.
        BadFormat = "bad_format",
        /// `version` is not an integer >= 0.
        BadVersion = "bad_version",
        /// A name is empty or otherwise unusable.
        BadName = "bad_name",
        /// A role that the policy does not define.
        UnknownRole = "unknown_role",
        /// A template that the policy does not define.
        UnknownTemplate = "unknown_template",
        /// A resource that the policy does not define.
        UnknownResource = "unknown_resource",
        /// A field that the resource does not declare.
        UnknownField = "unknown_field",
        /// An action that the resource does not declare.
        UnknownAction = "unknown_action",
        /// A department that the policy does not define.
        UnknownDepartment = "unknown_department",
        /// A field state other than hidden, masked, readonly, editable.
        BadState = "bad_state",
        /// A scope other than all, own, department, department_tree, subordinates, member,
        /// parent (or a `depth` that is not a whole number from 1, or not on `subordinates`).
        BadScope = "bad_scope",
        /// A rule effect other than deny or limit.
        BadEffect = "bad_effect",
        /// A `from` or `until` that is not an RFC 3339 time with an offset, or an `until`
        /// before its `from`.
        BadWindow = "bad_window",
        /// A mask spec that is not a preset or `keep(a,b)`.
        BadMask = "bad_mask",
        /// A condition that does not parse.
        BadCondition = "bad_condition",
        /// A condition longer than the limit.
        ConditionTooLong = "condition_too_long",
        /// A condition nested deeper than the limit.
        ConditionTooDeep = "condition_too_deep",
        /// Scope `own` on a resource without `owner`.
        ScopeNeedsOwner = "scope_needs_owner",
        /// Scope `department` or `department_tree` on a resource without `department`.
        ScopeNeedsDepartment = "scope_needs_department",
        /// Scope `org` on a resource without `org`.
        ScopeNeedsOrg = "scope_needs_org",
        /// Scope `member` on a resource without `members`.
        ScopeNeedsMembers = "scope_needs_members",
        /// Scope `parent` on a resource without `parent`.
        ScopeNeedsParent = "scope_needs_parent",
        /// A resource's parents lead back to it, or climb more than four levels.
        ParentCycle = "parent_cycle",
        /// Two rules with the same id.
        DuplicateRuleId = "duplicate_rule_id",
        /// A name listed twice where names must be unique.
        Duplicate = "duplicate",
        /// The department tree has a cycle.
        DepartmentCycle = "department_cycle",
        /// Role inheritance has a cycle.
        RoleCycle = "role_cycle",
        /// A resource declares more actions than the evaluator supports.
        TooManyActions = "too_many_actions",
        /// A request that is malformed (bad JSON, bad mode, missing subject).
        BadRequest = "bad_request",
        /// A flow that cannot work: no states, a `comment` other than required or optional, a
        /// separation rule naming fewer than two steps, a field holding the trail.
        BadWorkflow = "bad_workflow",
        /// A state that the resource's flow does not declare.
        UnknownState = "unknown_state",
        /// An app name that is not `[a-z0-9][a-z0-9-]{0,63}`.
        BadApp = "bad_app",
    }
}

/// One mistake in a policy document, located by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    /// JSON path of the mistake, e.g. `roles.sales.grants[0].fields.phon` (empty for the root).
    pub path: String,
    /// Stable error code.
    pub code: Code,
    /// Human-readable explanation.
    pub message: String,
    /// For condition errors: the character position in the condition string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "$"
        } else {
            &self.path
        };
        write!(f, "{path}: {}: {}", self.code, self.message)
    }
}

/// Every mistake found while loading a policy; loading reports all of them, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// The individual errors, in document order.
    pub fn errors(&self) -> &[PolicyError] {
        &self.0
    }

    /// The code of the first error (the one to show when only one fits).
    pub fn first_code(&self) -> Code {
        self.0.first().map_or(Code::BadJson, |e| e.code)
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl core::error::Error for PolicyErrors {}

/// A request that cannot be answered: unknown resource, unknown action or a malformed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestError {
    /// `unknown_resource`, `unknown_action`, `unknown_field` or `bad_request`.
    pub code: Code,
    /// Human-readable explanation.
    pub message: String,
}

impl RequestError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        RequestError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl core::error::Error for RequestError {}
