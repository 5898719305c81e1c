//! API errors: one registry of the server's codes, each with one HTTP status, and the JSON
//! every error answers with: `{"code", "message", "errors"?, "fields"?, "cells"?}`.

use crate::core::{PolicyError, PolicyErrors};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

codes! {
    /// Every code the server answers with. A code means one thing and has one status.
    pub enum ServerCode {
        /// 400: the request is malformed (a bad parameter or member).
        BadRequest = "bad_request",
        /// 400: the body is not valid JSON, or not of the expected shape.
        BadJson = "bad_json",
        /// 401: no valid admin or service token, or nobody is logged in.
        Unauthorized = "unauthorized",
        /// 403: the caller may not do this (to this record).
        Forbidden = "forbidden",
        /// 403: the write touches fields the caller may not write (`fields` lists them).
        ForbiddenFields = "forbidden_fields",
        /// 403: a state-changing request from a page of another origin.
        ForbiddenOrigin = "forbidden_origin",
        /// 404: nothing here (or nothing the caller may see).
        NotFound = "not_found",
        /// 404: no policy is published for this app.
        UnknownApp = "unknown_app",
        /// 404: no such user or person.
        UnknownUser = "unknown_user",
        /// 404: the policy has no such resource.
        UnknownResource = "unknown_resource",
        /// 400: the resource has no such action.
        UnknownAction = "unknown_action",
        /// 409: the current version moved on since the draft's base (`If-Match`).
        Conflict = "conflict",
        /// 410: the version asked for is not stored.
        VersionGone = "version_gone",
        /// 409: the record's status does not allow this transition (e.g. approving a draft).
        WrongStatus = "wrong_status",
        /// 403: a create or edit that sets a flow's state field (or its trail): only the flow's
        /// transitions move it.
        WorkflowField = "workflow_field",
        /// 403: a restricted admin's change reaches past what they may change (the detail
        /// names each part and why); nothing was changed.
        OutOfAdminScope = "out_of_admin_scope",
        /// 409: the change would leave an app without an unrestricted admin.
        LastAdmin = "last_admin",
        /// 422: the transition needs a comment (a rejection's reason, say).
        CommentRequired = "comment_required",
        /// 412: another save of the draft came first (`If-Match`): load it again.
        StaleDraft = "stale_draft",
        /// 412: the record changed since it was read (`If-Match`).
        StaleRecord = "stale_record",
        /// 413: the body is larger than this endpoint takes.
        TooLarge = "too_large",
        /// 415: a JSON endpoint was sent something else than `application/json`.
        UnsupportedMediaType = "unsupported_media_type",
        /// 408: the request (headers or body) did not arrive in time.
        Timeout = "timeout",
        /// 422: the policy is not valid (`errors` has every mistake with its JSON path).
        BadPolicy = "bad_policy",
        /// 422: the policy names another app.
        WrongApp = "wrong_app",
        /// 422: the policy is not a JSON object.
        WrongType = "wrong_type",
        /// 422: matrix cells that cannot be read or applied (`cells`).
        BadCells = "bad_cells",
        /// 422: a directory with bad rows (`cells`).
        BadDirectory = "bad_directory",
        /// 422: the app name breaks `[a-z0-9][a-z0-9-]{0,63}`.
        BadApp = "bad_app",
        /// 422: a transfer to the leaver themselves.
        SameUser = "same_user",
        /// 422: a transfer of an entry the leaver does not have.
        UnknownEntry = "unknown_entry",
        /// 422: a stand-in's end date that is no RFC 3339 time, or one on a move.
        BadWindow = "bad_window",
        /// 422: the access diff is too large to compute (time or size).
        DiffTooLarge = "diff_too_large",
        /// 429: too many requests, events or streams from this caller (`Retry-After`).
        RateLimited = "rate_limited",
        /// 503: the server is at its connection or stream limit.
        Overloaded = "overloaded",
        /// 503: the database cannot be reached; cached bundles are still served.
        Unavailable = "unavailable",
        /// 500: something failed inside the server (the detail is in its log).
        Internal = "internal",
        /// 422: the scope filter holds a condition SQL cannot say exactly (`filter?as=sql`);
        /// the tree form (without `as`) still answers.
        SqlUnsupported = "sql_unsupported",
        /// 422: a column mapping that is not dotted SQL identifiers, or an attribute with no
        /// column (`filter?as=sql`).
        BadColumn = "bad_column",
        /// 400: `dialect` is not postgres, mysql or sqlite.
        BadDialect = "bad_dialect",
        /// 405: the endpoint does not take this method.
        MethodNotAllowed = "method_not_allowed",
    }
}

impl ServerCode {
    /// What it means, in Chinese (for `Accept-Language: zh`): the answer's `message` says
    /// this, and the English specifics stay in `message_en`.
    pub fn zh(self) -> &'static str {
        use ServerCode::*;
        match self {
            BadRequest => "请求有误，请检查参数",
            BadJson => "请求内容不是有效的 JSON，或格式不对",
            Unauthorized => "未登录，或管理令牌无效",
            Forbidden => "没有权限执行此操作",
            ForbiddenFields => "没有权限修改其中的部分字段",
            ForbiddenOrigin => "请求来自其他网站，已拒绝",
            NotFound => "没有找到（或你无权查看）",
            UnknownApp => "这个应用还没有发布任何策略",
            UnknownUser => "通讯录中没有这个人",
            UnknownResource => "策略中没有这个表单",
            UnknownAction => "这个表单没有这个操作",
            Conflict => "当前版本已被其他管理员更新：请先查看他们的修改并合并",
            VersionGone => "这个版本已不存在",
            WrongStatus => "单据当前的状态不允许此操作",
            WorkflowField => "审批状态只能通过审批流程改变，不能直接修改",
            OutOfAdminScope => "这项修改超出了你的管理范围，未做任何修改",
            LastAdmin => "每个应用至少要保留一位不受限的管理员",
            CommentRequired => "请填写审批意见",
            StaleDraft => "草稿已在其他页面保存过：请重新加载",
            StaleRecord => "记录已被他人修改：请重新加载",
            TooLarge => "内容太大，超出此操作的上限",
            UnsupportedMediaType => "请以 JSON 格式提交",
            Timeout => "请求超时",
            BadPolicy => "策略有误：请按下列位置逐条修改",
            WrongApp => "这个策略属于其他应用",
            WrongType => "策略必须是一个 JSON 对象",
            BadCells => "表格中有无法读取或无法应用的单元格",
            BadDirectory => "通讯录中有错误的行：未导入任何人员",
            BadApp => "应用名只能用小写字母、数字和 -",
            SameUser => "不能转交给离职人员本人",
            UnknownEntry => "离职人员没有这一项权限",
            BadWindow => "截止时间有误：请填写带时区的时间，且只有代岗（复制）才能设截止时间",
            DiffTooLarge => "变更影响太大，无法计算：请分几次发布",
            RateLimited => "请求太频繁，请稍后再试",
            Overloaded => "服务器繁忙，请稍后再试",
            Unavailable => "数据库暂时无法访问，请稍后再试",
            Internal => "服务器内部错误",
            SqlUnsupported => "这个条件无法转换为 SQL",
            BadColumn => "列映射有误",
            BadDialect => "数据库类型只能是 postgres、mysql 或 sqlite",
            MethodNotAllowed => "此地址不支持这种请求方法",
        }
    }

    /// Its HTTP status.
    pub fn status(self) -> StatusCode {
        use ServerCode::*;
        match self {
            BadRequest | BadJson | UnknownAction | BadDialect => StatusCode::BAD_REQUEST,
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden | ForbiddenFields | ForbiddenOrigin | WorkflowField | OutOfAdminScope => {
                StatusCode::FORBIDDEN
            }
            NotFound | UnknownApp | UnknownUser | UnknownResource => StatusCode::NOT_FOUND,
            Timeout => StatusCode::REQUEST_TIMEOUT,
            Conflict | WrongStatus | LastAdmin => StatusCode::CONFLICT,
            VersionGone => StatusCode::GONE,
            StaleRecord | StaleDraft => StatusCode::PRECONDITION_FAILED,
            TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BadPolicy | WrongApp | WrongType | BadCells | BadDirectory | BadApp | SameUser
            | UnknownEntry | BadWindow | DiffTooLarge | SqlUnsupported | BadColumn
            | CommentRequired => StatusCode::UNPROCESSABLE_ENTITY,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Overloaded | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// A code read back from an answer's JSON (the Chinese message layer reads it there).
    pub fn named(code: &str) -> Option<ServerCode> {
        ServerCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }
}

/// Each core code as the server answers it: a request's own mistakes keep their code, and
/// every policy-compiling code (which a request cannot cause) is a `bad_request`. Exhaustive:
/// a new core code must be placed here.
impl From<crate::core::Code> for ServerCode {
    fn from(c: crate::core::Code) -> ServerCode {
        use crate::core::Code as C;
        match c {
            C::BadJson => ServerCode::BadJson,
            C::TooLarge => ServerCode::TooLarge,
            C::WrongType => ServerCode::WrongType,
            C::UnknownResource => ServerCode::UnknownResource,
            C::UnknownAction => ServerCode::UnknownAction,
            C::BadApp => ServerCode::BadApp,
            C::BadRequest
            | C::TooDeep
            | C::MissingKey
            | C::UnknownKey
            | C::BadFormat
            | C::BadVersion
            | C::BadWindow
            | C::BadName
            | C::UnknownRole
            | C::UnknownTemplate
            | C::UnknownField
            | C::UnknownDepartment
            | C::BadState
            | C::BadScope
            | C::BadEffect
            | C::BadMask
            | C::BadCondition
            | C::ConditionTooLong
            | C::ConditionTooDeep
            | C::ScopeNeedsOwner
            | C::ScopeNeedsDepartment
            | C::ScopeNeedsOrg
            | C::ScopeNeedsMembers
            | C::ScopeNeedsParent
            | C::ParentCycle
            | C::DuplicateRuleId
            | C::Duplicate
            | C::DepartmentCycle
            | C::RoleCycle
            | C::TooManyActions
            | C::BadWorkflow
            | C::UnknownState => ServerCode::BadRequest,
        }
    }
}

/// Each admin tool's refusal as the server answers it.
impl From<crate::admin::AdminCode> for ServerCode {
    fn from(c: crate::admin::AdminCode) -> ServerCode {
        use crate::admin::AdminCode as A;
        match c {
            A::BadHeader
            | A::BadValue
            | A::BadJson
            | A::MissingId
            | A::DuplicateId
            | A::UnknownDepartment
            | A::UnknownManager
            | A::ManagerCycle => ServerCode::BadDirectory,
            A::UnknownUser => ServerCode::UnknownUser,
            A::SameUser => ServerCode::SameUser,
            A::UnknownEntry => ServerCode::UnknownEntry,
            A::BadWindow => ServerCode::BadWindow,
            A::BadPolicy => ServerCode::BadPolicy,
            A::DiffTooLarge => ServerCode::DiffTooLarge,
        }
    }
}

/// A scope filter's SQL refusal as the server answers it.
impl From<crate::core::sql::SqlCode> for ServerCode {
    fn from(c: crate::core::sql::SqlCode) -> ServerCode {
        use crate::core::sql::SqlCode as S;
        match c {
            S::Unsupported => ServerCode::SqlUnsupported,
            S::BadColumn => ServerCode::BadColumn,
            S::BadDialect => ServerCode::BadDialect,
        }
    }
}

/// An error answer of the server.
#[derive(Debug, Serialize)]
pub struct ApiError {
    /// The stable code (its status goes with it).
    pub code: ServerCode,
    /// Human-readable explanation.
    pub message: String,
    /// What some codes add (boxed: most errors have none, and every handler returns this).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub more: Option<Box<More>>,
    /// Seconds to wait before trying again (`rate_limited`), sent as `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// The members some error answers add.
#[derive(Debug, Default, Serialize)]
pub struct More {
    /// Policy mistakes with JSON paths (`bad_policy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<PolicyError>>,
    /// The fields a write may not touch (`forbidden_fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
    /// Bad cells or rows, each with where and why (`bad_cells`, `bad_directory`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cells: Option<serde_json::Value>,
    /// More about the error (e.g. the current version on `conflict`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

impl ApiError {
    /// An error without details.
    pub fn new(code: ServerCode, message: impl Into<String>) -> ApiError {
        let mut message = message.into();
        bound_text(&mut message, MAX_ECHOED_CHARS);
        ApiError {
            code,
            message,
            more: None,
            retry_after: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ServerCode::BadRequest, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ServerCode::NotFound, message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ServerCode::Unauthorized, message)
    }

    /// 500 `internal`: the detail goes to the log, not to the caller.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(target: "fieldgate::server", "internal error: {detail}");
        ApiError::new(ServerCode::Internal, "internal error")
    }

    /// 422 `bad_policy` with every mistake.
    pub fn bad_policy(errors: &PolicyErrors) -> ApiError {
        let message = format!(
            "the policy is not valid: {} error(s)",
            errors.errors().len()
        );
        ApiError::new(ServerCode::BadPolicy, message)
            .with(|m| m.errors = Some(errors.errors().to_vec()))
    }

    /// 429 `rate_limited`, to try again after `seconds`.
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> ApiError {
        ApiError {
            retry_after: Some(seconds.max(1)),
            ..ApiError::new(ServerCode::RateLimited, message)
        }
    }

    /// With more detail.
    pub fn with_detail(self, detail: serde_json::Value) -> ApiError {
        self.with(|m| m.detail = Some(detail))
    }

    /// With bad cells or rows (`bad_cells`, `bad_directory`).
    /// Only the first [`MAX_ECHOED`] are kept, and long texts in them are cut.
    pub fn with_cells(self, cells: impl Serialize) -> ApiError {
        let mut cells = serde_json::to_value(cells).ok();
        if let Some(v) = &mut cells {
            bound_value(v);
        }
        self.with(|m| m.cells = cells)
    }

    /// With the fields a write may not touch.
    pub fn with_fields(self, fields: Vec<String>) -> ApiError {
        self.with(|m| m.fields = Some(fields))
    }

    fn with(mut self, f: impl FnOnce(&mut More)) -> ApiError {
        f(self.more.get_or_insert_with(Box::default));
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.code.status(), Json(&self)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

/// Most characters of an error's message: an answer never grows with what the request sent
/// (a 400 MB header cell is not echoed back).
pub const MAX_ECHOED_CHARS: usize = 1_000;
/// Most characters of a text in an error's cells (a column name, a cell's message).
pub const MAX_CELL_ECHO_CHARS: usize = 200;
/// Most entries of a list in an error's cells.
pub const MAX_ECHOED: usize = 200;

/// Cuts `s` to `max` characters, marking the cut.
fn bound_text(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
        s.push('…');
    }
}

/// Bounds every text and list in `v` ([`MAX_CELL_ECHO_CHARS`], [`MAX_ECHOED`]).
fn bound_value(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) => bound_text(s, MAX_CELL_ECHO_CHARS),
        Value::Array(items) => {
            items.truncate(MAX_ECHOED);
            items.iter_mut().for_each(bound_value);
        }
        Value::Object(members) => members.values_mut().for_each(bound_value),
        _ => {}
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::core::RequestError> for ApiError {
    fn from(e: crate::core::RequestError) -> ApiError {
        ApiError::new(e.code.into(), e.message)
    }
}

impl From<crate::server::store::StoreError> for ApiError {
    fn from(e: crate::server::store::StoreError) -> ApiError {
        match e {
            crate::server::store::StoreError::Unavailable(m) => {
                crate::server::services::metrics::store_error("unavailable");
                tracing::warn!(target: "fieldgate::store", "store unavailable: {m}");
                ApiError::new(
                    ServerCode::Unavailable,
                    "the database cannot be reached; try again shortly",
                )
            }
            other => {
                crate::server::services::metrics::store_error("other");
                ApiError::internal(other)
            }
        }
    }
}

/// A plain-text error answer (from the HTTP layers below the handlers, e.g. a bad path
/// parameter) as JSON with a code.
pub fn as_json(status: StatusCode, text: &str) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ServerCode::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ServerCode::UnsupportedMediaType,
        StatusCode::NOT_FOUND => ServerCode::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ServerCode::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ServerCode::Timeout,
        s if s.is_server_error() => ServerCode::Internal,
        _ => ServerCode::BadRequest,
    };
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.trim().to_string()
    };
    ApiError::new(code, message)
}
