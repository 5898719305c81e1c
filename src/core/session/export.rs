//! Exports: which records an export holds, which columns, and each cell. The server's streamed
//! export and the package's `exportRows` both ask these, so a file and a screen never disagree.

use super::data::{as_object, get, split};
use super::{Input, Session};
use crate::core::error::RequestError;
use crate::core::state::{FieldState, Mode};
use crate::prelude::*;
use serde_json::Value;

impl Session {
    /// One record of an export: `None` when the user may not both `export` and `view` it (an
    /// export shows nothing the screen would not); else the record as the view shows it
    /// (hidden out, masked masked) and, per declared field, whether it shows.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action` (a resource without `export`); `bad_request` when
    /// the record is not an object.
    pub fn export_row(
        &self,
        resource: &str,
        record: &Value,
        context: Option<&Value>,
    ) -> Result<Option<(Value, Vec<bool>)>, RequestError> {
        as_object(record, "record")?;
        let input = Input::json(Some(record), context);
        if !self.can("export", resource, input)? || !self.can("view", resource, input)? {
            return Ok(None);
        }
        let shown = self.redact(resource, Mode::View, record, context)?;
        let states = self.fields(resource, Mode::View, input)?;
        let visible = states
            .states
            .iter()
            .map(|s| *s > FieldState::Hidden)
            .collect();
        Ok(Some((shown, visible)))
    }

    /// A whole export of `records` at once: the columns (`id` first) and a row per record the
    /// user may export, as [`ExportColumns`] and [`export_cells`] make them.
    ///
    /// # Errors
    /// As [`Session::export_row`].
    pub fn export_table(
        &self,
        resource: &str,
        records: &[Value],
        context: Option<&Value>,
    ) -> Result<(Vec<String>, Vec<Vec<Value>>), RequestError> {
        let mut columns = ExportColumns::default();
        let mut shown = Vec::new();
        for record in records {
            if let Some((row, visible)) = self.export_row(resource, record, context)? {
                columns.see(&visible);
                shown.push(row);
            }
        }
        let policy = self.policy();
        policy.resource_id(resource)?;
        let declared = policy.field_names(resource).unwrap_or_default();
        let names = columns.of(&declared);
        let rows = shown.iter().map(|s| export_cells(s, &names)).collect();
        let head = core::iter::once("id")
            .chain(names)
            .map(String::from)
            .collect();
        Ok((head, rows))
    }
}

/// The columns of an export: a declared field is one when it shows on at least one exported
/// record (a column hidden on every row would only tell that the field exists).
#[derive(Default)]
pub struct ExportColumns {
    seen: Vec<bool>,
}

impl ExportColumns {
    /// Takes in one exported record's `visible` (per declared field, from
    /// [`Session::export_row`]).
    pub fn see(&mut self, visible: &[bool]) {
        if self.seen.len() < visible.len() {
            self.seen.resize(visible.len(), false);
        }
        for (s, v) in self.seen.iter_mut().zip(visible) {
            *s |= *v;
        }
    }

    /// Of the resource's declared field `names` (in order), those that are columns.
    pub fn of<'n>(&self, names: &[&'n str]) -> Vec<&'n str> {
        names
            .iter()
            .zip(&self.seen)
            .filter(|(_, s)| **s)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// A shown record's cells: its `id`, then each column's value (null where hidden).
pub fn export_cells(shown: &Value, columns: &[&str]) -> Vec<Value> {
    let mut cells = vec![shown.get("id").cloned().unwrap_or(Value::Null)];
    cells.extend(
        columns
            .iter()
            .map(|c| get(shown, &split(c)).cloned().unwrap_or(Value::Null)),
    );
    cells
}
