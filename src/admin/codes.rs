//! The admin tools' codes, in the crate's one registry (`codes!`): what a directory, a transfer
//! or a diff is refused with, and what lint warns of. docs/errors.md and the Python package's
//! code list are written from these by `tests/codes.rs`; the server maps each to its HTTP code
//! by an exhaustive match (`server::error`), never by looking the string up.

codes! {
    /// Why an admin tool refused its input.
    pub enum AdminCode {
        /// A directory's header row: an empty sheet, or a header used twice.
        BadHeader = "bad_header",
        /// A directory cell (or JSON member) that is not a usable value: an empty or unreadable id, an unknown member, a non-string value.
        BadValue = "bad_value",
        /// A directory given as JSON that is not a list of people objects.
        BadJson = "bad_json",
        /// A directory row without an id.
        MissingId = "missing_id",
        /// Two people in a directory with the same id (also when only case or Unicode form differ).
        DuplicateId = "duplicate_id",
        /// A directory person in a department the policy does not declare.
        UnknownDepartment = "unknown_department",
        /// A directory person whose manager is not in the directory.
        UnknownManager = "unknown_manager",
        /// A directory whose reporting line goes round in a circle.
        ManagerCycle = "manager_cycle",
        /// A transfer names a user neither in `assignments.users` nor in the directory.
        UnknownUser = "unknown_user",
        /// A transfer from a user to the same user.
        SameUser = "same_user",
        /// A transfer selects an entry the leaver does not have.
        UnknownEntry = "unknown_entry",
        /// A transfer's `until` that is not an RFC 3339 time with an offset, or a stand-in's
        /// dates on a move (only a copy ends: a move leaves the leaver nothing to go back to).
        BadWindow = "bad_window",
        /// The policy an admin tool was given is not valid.
        BadPolicy = "bad_policy",
        /// A diff gave up: past its deadline or its most access changes.
        DiffTooLarge = "diff_too_large",
    }
}

codes! {
    /// What `fieldgate lint` (and the console's checks) warn of: likely mistakes that are not errors.
    pub enum LintCode {
        /// A grant that another grant of the same role always outdoes.
        ShadowedGrant = "shadowed_grant",
        /// A template no role uses.
        UnusedTemplate = "unused_template",
        /// A role nothing assigns or inherits (only the app can give it).
        UnassignedRole = "unassigned_role",
        /// A field no grant ever shows.
        FieldNeverVisible = "field_never_visible",
        /// A grant on every resource, every record, with no condition, outside an admin role.
        BroadGrant = "broad_grant",
        /// A rule whose condition never holds.
        RuleNeverApplies = "rule_never_applies",
        /// A rule (or personal limit) that caps nothing.
        RuleHasNoEffect = "rule_has_no_effect",
        /// A role or person who may both do and approve the same record.
        SodConflict = "sod_conflict",
        /// A `subordinates` grant over a directory where nobody has a manager.
        NoReportingLine = "no_reporting_line",
        /// A flow's state that no transition reaches (and records do not start in).
        UnreachableState = "unreachable_state",
        /// A flow's transition that no role, person or directory member can do.
        TransitionNobodyCanDo = "transition_nobody_can_do",
        /// A flow's step that no role, person or directory member can sign.
        StepNobodyCanSign = "step_nobody_can_sign",
        /// A flow without a separation rule (`distinct`).
        FlowWithoutSeparation = "flow_without_separation",
        /// A dated entry whose `until` has passed.
        Expired = "expired",
        /// A dated entry whose `until` comes within two weeks (`--within`).
        ExpiresSoon = "expires_soon",
        /// An internal role (not `external`) reaching a partner (a person with an `org`),
        /// which the engine ignores.
        InternalRoleToPartner = "internal_role_to_partner",
    }
}
