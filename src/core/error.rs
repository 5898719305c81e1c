//! Typed errors with stable string codes, for policies and for requests.

use crate::prelude::*;
use core::fmt;
use serde::Serialize;

/// A stable, machine-readable error code. Its `snake_case` string is part of the public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// The input is not valid JSON.
    BadJson,
    /// The input is larger than the configured limit.
    TooLarge,
    /// The JSON nests deeper than the limit.
    TooDeep,
    /// A value has the wrong JSON type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A key the format does not define (and that does not start with `x-`).
    UnknownKey,
    /// `format` is not `fieldgate/1`.
    BadFormat,
    /// `version` is not an integer >= 0.
    BadVersion,
    /// A name is empty or otherwise unusable.
    BadName,
    /// A role that the policy does not define.
    UnknownRole,
    /// A template that the policy does not define.
    UnknownTemplate,
    /// A resource that the policy does not define.
    UnknownResource,
    /// A field that the resource does not declare.
    UnknownField,
    /// An action that the resource does not declare.
    UnknownAction,
    /// A department that the policy does not define.
    UnknownDepartment,
    /// A field state other than hidden, masked, readonly, editable.
    BadState,
    /// A scope other than all, own, department, department_tree.
    BadScope,
    /// A rule effect other than deny or limit.
    BadEffect,
    /// A mask spec that is not a preset or `keep(a,b)`.
    BadMask,
    /// A condition that does not parse.
    BadCondition,
    /// A condition longer than the limit.
    ConditionTooLong,
    /// A condition nested deeper than the limit.
    ConditionTooDeep,
    /// Scope `own` on a resource without `owner`.
    ScopeNeedsOwner,
    /// Scope `department` or `department_tree` on a resource without `department`.
    ScopeNeedsDepartment,
    /// Two rules with the same id.
    DuplicateRuleId,
    /// A name listed twice where names must be unique.
    Duplicate,
    /// The department tree has a cycle.
    DepartmentCycle,
    /// Role inheritance has a cycle.
    RoleCycle,
    /// A resource declares more actions than the evaluator supports.
    TooManyActions,
    /// A request that is malformed (bad JSON, bad mode, missing subject).
    BadRequest,
    /// An app name that is not `[a-z0-9][a-z0-9-]{0,63}`.
    BadApp,
}

impl Code {
    /// The stable string form, e.g. `unknown_field`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadJson => "bad_json",
            Code::TooLarge => "too_large",
            Code::TooDeep => "too_deep",
            Code::WrongType => "wrong_type",
            Code::MissingKey => "missing_key",
            Code::UnknownKey => "unknown_key",
            Code::BadFormat => "bad_format",
            Code::BadVersion => "bad_version",
            Code::BadName => "bad_name",
            Code::UnknownRole => "unknown_role",
            Code::UnknownTemplate => "unknown_template",
            Code::UnknownResource => "unknown_resource",
            Code::UnknownField => "unknown_field",
            Code::UnknownAction => "unknown_action",
            Code::UnknownDepartment => "unknown_department",
            Code::BadState => "bad_state",
            Code::BadScope => "bad_scope",
            Code::BadEffect => "bad_effect",
            Code::BadMask => "bad_mask",
            Code::BadCondition => "bad_condition",
            Code::ConditionTooLong => "condition_too_long",
            Code::ConditionTooDeep => "condition_too_deep",
            Code::ScopeNeedsOwner => "scope_needs_owner",
            Code::ScopeNeedsDepartment => "scope_needs_department",
            Code::DuplicateRuleId => "duplicate_rule_id",
            Code::Duplicate => "duplicate",
            Code::DepartmentCycle => "department_cycle",
            Code::RoleCycle => "role_cycle",
            Code::TooManyActions => "too_many_actions",
            Code::BadRequest => "bad_request",
            Code::BadApp => "bad_app",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
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
