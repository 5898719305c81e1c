//! The fieldgate evaluator for Python: `Policy`, `Bundle.verify` and `Session`, answering from
//! the same compiled plan as the npm package and the server. Errors are the exceptions of
//! `fieldgate.errors`, carrying the stable codes.

use fieldgate::bundle::{self, BundleError, PublicKey, TrustedKeys, VerifyOptions};
use fieldgate::core::sql::{Dialect, SqlError};
use fieldgate::core::{Input, Mode, PolicyErrors, RequestError};
use fieldgate::{Policy, Subject};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Raises the `fieldgate.errors` exception `class` with these arguments.
fn raise<'py>(py: Python<'py>, class: &str, args: impl pyo3::call::PyCallArgs<'py>) -> PyErr {
    let made = py
        .import("fieldgate.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args));
    match made {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

fn policy_error(py: Python<'_>, e: &PolicyErrors) -> PyErr {
    let all: Vec<(String, String, String)> = e
        .errors()
        .iter()
        .map(|p| {
            (
                p.code.as_str().to_string(),
                p.message.clone(),
                p.path.clone(),
            )
        })
        .collect();
    let first = all.first().cloned().unwrap_or_default();
    raise(py, "PolicyError", (first.0, first.1, first.2, all))
}

fn bundle_error(py: Python<'_>, e: &BundleError) -> PyErr {
    let path_errors: Vec<(String, String, String)> = e
        .policy_errors
        .iter()
        .flat_map(|p| p.errors())
        .map(|p| {
            (
                p.code.as_str().to_string(),
                p.message.clone(),
                p.path.clone(),
            )
        })
        .collect();
    raise(
        py,
        "BundleError",
        (e.code.as_str(), e.message.clone(), path_errors),
    )
}

fn request_error(py: Python<'_>, e: &RequestError) -> PyErr {
    raise(py, "RequestError", (e.code.as_str(), e.message.clone()))
}

fn sql_error(py: Python<'_>, e: &SqlError) -> PyErr {
    raise(py, "SqlError", (e.code.as_str(), e.message.clone()))
}

fn bad_request(py: Python<'_>, message: String) -> PyErr {
    raise(py, "RequestError", ("bad_request", message))
}

/// A Python value (dict, list, str, int, float, bool, None) as JSON.
fn to_json(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if v.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = v.cast::<PyInt>() {
        if let Ok(n) = i.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = i.extract::<u64>() {
            return Ok(Value::from(n));
        }
        return Err(bad_request(py, format!("{i} is too large a number")));
    }
    if let Ok(f) = v.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| bad_request(py, "NaN and infinities are not JSON".into()));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let k = k
                .cast::<PyString>()
                .map_err(|_| bad_request(py, "object keys must be strings".into()))?;
            m.insert(k.to_cow()?.into_owned(), to_json(py, &v)?);
        }
        return Ok(Value::Object(m));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return l
            .iter()
            .map(|x| to_json(py, &x))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t
            .iter()
            .map(|x| to_json(py, &x))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not a JSON value",
        v.get_type().name()?
    )))
}

/// JSON as a Python value.
fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(xs) => {
            let items = xs
                .iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, v) in m {
                d.set_item(k, to_py(py, v)?)?;
            }
            d.into_any()
        }
    })
}

/// An optional dict argument as JSON (`None` stays absent).
fn optional(py: Python<'_>, v: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => to_json(py, v).map(Some),
    }
}

fn mode(py: Python<'_>, m: &str) -> PyResult<Mode> {
    m.parse::<Mode>()
        .map_err(|()| bad_request(py, format!("mode must be view, create or edit, not `{m}`")))
}

/// A compiled policy.
#[pyclass(frozen, name = "Policy", module = "fieldgate")]
struct PyPolicy {
    policy: Arc<Policy>,
}

#[pymethods]
impl PyPolicy {
    /// Compiles a policy document (a JSON string or bytes) with no signature check: for
    /// policies the backend holds itself. Bundles from elsewhere go through `Bundle.verify`.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<PyPolicy> {
        let bytes: Vec<u8> = match text.cast::<PyString>() {
            Ok(s) => s.to_cow()?.as_bytes().to_vec(),
            Err(_) => text.extract()?,
        };
        let policy = Policy::from_slice(&bytes).map_err(|e| policy_error(py, &e))?;
        Ok(PyPolicy {
            policy: Arc::new(policy),
        })
    }

    /// The app it is for.
    #[getter]
    fn app(&self) -> String {
        self.policy.header().app.clone()
    }

    /// Its version.
    #[getter]
    fn version(&self) -> u64 {
        self.policy.header().version
    }

    /// The resources, in declaration order.
    fn resources(&self) -> Vec<String> {
        self.policy.resource_names().map(String::from).collect()
    }

    /// One user's decisions at `now_ms` (default now; dated access counts inside its dates):
    /// `subject` is `{"id", "roles"?, "department"?, "groups"?, "attrs"?}`.
    #[pyo3(signature = (subject, now_ms=None))]
    fn session(
        &self,
        py: Python<'_>,
        subject: &Bound<'_, PyAny>,
        now_ms: Option<i64>,
    ) -> PyResult<PySession> {
        let json = to_json(py, subject)?;
        let subject: Subject = serde_json::from_value(json)
            .map_err(|e| bad_request(py, format!("bad subject: {e}")))?;
        let session = bundle::session_for(&self.policy, &subject, now_ms.unwrap_or_else(now))
            .map_err(|e| bundle_error(py, &e))?;
        Ok(PySession {
            session: Mutex::new(session),
        })
    }

    fn __repr__(&self) -> String {
        format!("<fieldgate.Policy {} v{}>", self.app(), self.version())
    }
}

/// A verified bundle: the policy and what the signatures said.
#[pyclass(frozen, name = "Bundle", module = "fieldgate")]
struct PyBundle {
    #[pyo3(get)]
    policy: Py<PyPolicy>,
    #[pyo3(get)]
    key_ids: Vec<String>,
    #[pyo3(get)]
    issued_at_ms: i64,
    #[pyo3(get)]
    expires_at_ms: i64,
}

#[pymethods]
impl PyBundle {
    /// Verifies a signed bundle (JSON or binary) against trusted public keys (base64), with
    /// every check the browser makes: signatures (`threshold` of them), app, anti-rollback
    /// (`min_version`), validity window (`now_ms`, default now) and subject binding (`user`).
    #[staticmethod]
    #[pyo3(signature = (data, trusted_keys, app=None, min_version=0, now_ms=None, user=None, threshold=1, max_bytes=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "Python's keyword arguments: every check of the browser's verifier, each optional"
    )]
    fn verify(
        py: Python<'_>,
        data: &[u8],
        trusted_keys: Vec<String>,
        app: Option<&str>,
        min_version: u64,
        now_ms: Option<i64>,
        user: Option<&str>,
        threshold: usize,
        max_bytes: Option<usize>,
    ) -> PyResult<PyBundle> {
        let keys = trusted_keys
            .iter()
            .map(|k| PublicKey::from_base64(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bundle_error(py, &e))?;
        if keys.is_empty() {
            return Err(raise(
                py,
                "BundleError",
                (
                    "bad_key",
                    "trusted_keys must name at least one key",
                    Vec::<(String, String, String)>::new(),
                ),
            ));
        }
        let keys = TrustedKeys::new(keys).with_threshold(threshold);
        let now = now_ms.unwrap_or_else(now);
        let mut opts = VerifyOptions::new(&keys, now);
        opts.app = app;
        opts.min_version = min_version;
        opts.subject = user;
        if let Some(m) = max_bytes {
            opts.max_bytes = m;
        }
        let b = bundle::verify(data, &opts).map_err(|e| bundle_error(py, &e))?;
        Ok(PyBundle {
            policy: Py::new(
                py,
                PyPolicy {
                    policy: Arc::new(b.policy),
                },
            )?,
            key_ids: b.key_ids,
            issued_at_ms: b.issued_at_ms,
            expires_at_ms: b.expires_at_ms,
        })
    }

    /// The bundle's version.
    #[getter]
    fn version(&self, py: Python<'_>) -> u64 {
        self.policy.borrow(py).version()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One user's decisions. A session fills its per-resource plans on first use, so threads
/// take turns (the evaluator's calls are microseconds).
#[pyclass(frozen, name = "Session", module = "fieldgate")]
struct PySession {
    session: Mutex<fieldgate::Session>,
}

impl PySession {
    fn get(&self) -> std::sync::MutexGuard<'_, fieldgate::Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl PySession {
    /// Whether `action` is allowed on `resource` (on `record`, if given: without one, whether
    /// it is allowed on some record).
    #[pyo3(signature = (action, resource, record=None, context=None))]
    fn can(
        &self,
        py: Python<'_>,
        action: &str,
        resource: &str,
        record: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        let (record, context) = (optional(py, record)?, optional(py, context)?);
        self.get()
            .can(
                action,
                resource,
                Input::json(record.as_ref(), context.as_ref()),
            )
            .map_err(|e| request_error(py, &e))
    }

    /// Field name -> `hidden`, `masked`, `readonly` or `editable`, in `mode`.
    #[pyo3(signature = (resource, mode, record=None, context=None))]
    fn fields<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        mode: &str,
        record: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = self::mode(py, mode)?;
        let (record, context) = (optional(py, record)?, optional(py, context)?);
        let session = self.get();
        let states = session
            .fields(resource, m, Input::json(record.as_ref(), context.as_ref()))
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &states.to_json())
    }

    /// The record as `mode` shows it: hidden fields left out, masked ones masked.
    #[pyo3(signature = (resource, mode, record, context=None))]
    fn redact<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        mode: &str,
        record: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = self::mode(py, mode)?;
        let (record, context) = (to_json(py, record)?, optional(py, context)?);
        let out = self
            .get()
            .redact(resource, m, &record, context.as_ref())
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &out)
    }

    /// The part of `data` that may be written in `mode` (to `record`, if given).
    #[pyo3(signature = (resource, mode, data, record=None, context=None))]
    fn writable<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        mode: &str,
        data: &Bound<'_, PyAny>,
        record: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let m = self::mode(py, mode)?;
        let data = to_json(py, data)?;
        let (record, context) = (optional(py, record)?, optional(py, context)?);
        let out = self
            .get()
            .writable(resource, m, record.as_ref(), &data, context.as_ref())
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &out)
    }

    /// The reasons for a decision: grants, rules and field states, as a dict.
    #[pyo3(signature = (action, resource, record=None, context=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        action: &str,
        resource: &str,
        record: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (record, context) = (optional(py, record)?, optional(py, context)?);
        let e = self
            .get()
            .explain(
                action,
                resource,
                Input::json(record.as_ref(), context.as_ref()),
            )
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &serde_json::to_value(e).unwrap_or(Value::Null))
    }

    /// The record's approval flow as this person may move it now: a list of dicts, one per
    /// transition (`allowed`, `reason`, `step`, `completes`, `steps`); empty without a flow.
    #[pyo3(signature = (resource, record, context=None))]
    fn transitions<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        record: &Bound<'_, PyAny>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let record = to_json(py, record)?;
        let context = optional(py, context)?;
        let t = self
            .get()
            .transitions(resource, &record, context.as_ref())
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &fieldgate::core::transitions_json(&t))
    }

    /// The condition a record must meet for `action`: the filter tree (`True`, `False`, or
    /// nested `and`/`or`/`not`/`op` dicts).
    #[pyo3(signature = (resource, action, context=None))]
    fn scope_filter<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        action: &str,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let context = optional(py, context)?;
        let session = self.get();
        let f = session
            .scope_filter(resource, action, context.as_ref())
            .map_err(|e| request_error(py, &e))?;
        to_py(py, &f.to_json(&session))
    }

    /// The scope filter as a SQL `WHERE` clause and its parameters, `(clause, params)`, for
    /// `dialect` (postgres, mysql, sqlite) and a mapping of attribute paths to columns.
    /// Raises `SqlError` where SQL cannot say the filter exactly.
    #[pyo3(signature = (resource, action, dialect, columns=None, context=None))]
    fn scope_filter_sql<'py>(
        &self,
        py: Python<'py>,
        resource: &str,
        action: &str,
        dialect: &str,
        columns: Option<BTreeMap<String, String>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(String, Bound<'py, PyAny>)> {
        let d: Dialect = dialect.parse().map_err(|e| sql_error(py, &e))?;
        let context = optional(py, context)?;
        let session = self.get();
        let f = session
            .scope_filter(resource, action, context.as_ref())
            .map_err(|e| request_error(py, &e))?;
        let sql = f
            .to_sql(&session, d, &columns.unwrap_or_default())
            .map_err(|e| sql_error(py, &e))?;
        Ok((sql.clause, to_py(py, &Value::Array(sql.params))?))
    }

    /// The user's effective roles.
    fn roles(&self) -> Vec<String> {
        self.get().roles().into_iter().map(String::from).collect()
    }
}

#[pymodule]
fn _fieldgate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPolicy>()?;
    m.add_class::<PyBundle>()?;
    m.add_class::<PySession>()?;
    Ok(())
}
