//! Matrices read back from a workbook or CSV: cells in English or Chinese words parsed into
//! edits, each bad cell reported with its row and column.

use super::*;

/// A field state in any spelling the page, the export or a person might write: the policy's
/// words (`read-only` too, any case) and the Chinese labels.
pub fn parse_state(text: &str) -> Option<FieldState> {
    let t = text.trim().to_lowercase().replace(['-', '_', ' '], "");
    Some(match t.as_str() {
        "hidden" | "hide" | "隐藏" | "不可见" => FieldState::Hidden,
        "masked" | "mask" | "脱敏" | "掩码" => FieldState::Masked,
        "readonly" | "read" | "view" | "只读" | "可见" => FieldState::Readonly,
        "editable" | "edit" | "write" | "可编辑" | "编辑" => FieldState::Editable,
        _ => return None,
    })
}

/// An action cell in any spelling: a scope (`all`, `own`, `department`, `department_tree`,
/// `subordinates`, `member`, `parent`, any case, spaces or dashes for `_`, the Chinese labels),
/// or not allowed (empty, `no`, `none`, `-`, `否`, `无`). `Some(None)` is "not allowed".
pub fn parse_scope(text: &str) -> Option<Option<&'static str>> {
    let t = text.trim().to_lowercase().replace(['-', ' '], "_");
    Some(Some(match t.as_str() {
        "" | "_" | "no" | "none" | "not_allowed" | "否" | "无" | "不允许" => {
            return Some(None)
        }
        "all" | "yes" | "全部" | "所有" | "是" => "all",
        "department_tree"
        | "departmenttree"
        | "dept_tree"
        | "本部门及下级部门"
        | "本部门及下级"
        | "部门及下级" => "department_tree",
        "department" | "dept" | "本部门" | "部门" => "department",
        "own" | "mine" | "本人" | "自己" => "own",
        "subordinates" | "reports" | "本人及下属" | "下属" | "本人及下级" => {
            "subordinates"
        }
        "member" | "members" | "shared" | "协作" | "协作的记录" | "共享" => "member",
        "parent" | "随上级记录" | "随上级" | "随父记录" => "parent",
        "org" | "organisation" | "organization" | "本组织" | "本组织的记录" | "所属组织" => {
            "org"
        }
        _ => return None,
    }))
}

/// The edits a sheet asks for: every cell of a role row whose value differs from the matrix
/// now (unchanged cells, comments and `#` rows are skipped).
///
/// # Errors
/// A bad header, an unknown role, or a cell that reads as no state or scope.
pub fn edits_from_table(
    now: &Matrix,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<Vec<CellEdit>, Vec<CellError>> {
    let (edits, errors) = cells_of(now, table, sheet)?;
    if errors.is_empty() {
        Ok(edits)
    } else {
        Err(errors)
    }
}

/// The edits a sheet asks for and its cells that read as nothing (an unknown role, a value
/// that is no state or scope).
///
/// # Errors
/// A header that is not this matrix's: nothing of the sheet can be read then.
pub(super) fn cells_of(
    now: &Matrix,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<(Vec<CellEdit>, Vec<CellError>), Vec<CellError>> {
    let err = |row, column: &str, message: String| CellError {
        sheet: sheet.to_string(),
        row,
        column: column.to_string(),
        message,
    };
    let want = now.header();
    let Some(head) = table.first() else {
        return Err(vec![err(1, "", "the sheet is empty".into())]);
    };
    let mut errors = Vec::new();
    for (i, w) in want.iter().enumerate() {
        if head.get(i).map(|h| h.trim()) != Some(w.as_str()) {
            let found = head.get(i).map_or("", |h| h.as_str());
            errors.push(err(
                1,
                w,
                format!("expected column {} to be `{w}`, found `{found}`", i + 1),
            ));
        }
    }
    if let Some(extra) = head.get(want.len()).filter(|h| !h.trim().is_empty()) {
        errors.push(err(1, extra, "unknown column".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut edits = Vec::new();
    for (n, row) in table.iter().enumerate().skip(1) {
        let line = n + 1;
        let first = row.first().map_or("", |c| c.trim());
        if first.starts_with('#') || row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if !now.rows.iter().any(|r| r.kind == "role" && r.name == first) {
            errors.push(err(line, "role", format!("no role `{first}`")));
            continue;
        }
        for (i, column) in want.iter().enumerate().skip(1) {
            let text = row.get(i).map_or("", |c| c.as_str());
            let Some(cell) = now.cell(first, column) else {
                continue;
            };
            let value = if column.starts_with("field:") {
                match parse_state(text) {
                    Some(s) => s.as_str().to_string(),
                    None => {
                        let msg = format!(
                            "`{}` is not hidden, masked, read-only or editable",
                            text.trim()
                        );
                        errors.push(err(line, column, msg));
                        continue;
                    }
                }
            } else {
                match parse_scope(text) {
                    Some(s) => s.unwrap_or("").to_string(),
                    None => {
                        let msg = format!(
                            "`{}` is not empty, no, all, department_tree, department, \
                             subordinates, parent, member or own",
                            text.trim()
                        );
                        errors.push(err(line, column, msg));
                        continue;
                    }
                }
            };
            if value != cell.value {
                edits.push(CellEdit {
                    role: first.to_string(),
                    column: column.clone(),
                    value,
                    row: line,
                });
            }
        }
    }
    Ok((edits, errors))
}

/// [`import`] that makes what it can: the edits that can be made on their own are made; the
/// cells that cannot (unreadable, or an edit that would change something else) are answered
/// with why. The admin confirms the whole result once.
///
/// # Errors
/// A header that is not this matrix's, or a sheet none of whose edits can be made (then every
/// reason).
pub fn import_partly(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<(Value, Vec<CellError>), Vec<CellError>> {
    let now = Matrix::build(doc, policy, resource, None)
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    let (mut edits, mut refused) = cells_of(&now, table, sheet)?;
    // Each round drops the edits that could not be made and tries the rest again; an edit
    // refused alone is refused, so this ends.
    loop {
        if edits.is_empty() {
            return if refused.is_empty() {
                Ok((doc.clone(), refused))
            } else {
                Err(refused)
            };
        }
        match apply_to(doc, policy, &now, &edits, sheet) {
            Ok(out) => return Ok((out, refused)),
            Err(errors) => {
                let of_edit = |e: &CellEdit| {
                    errors
                        .iter()
                        .any(|x| x.row == e.row && x.column == e.column)
                };
                let before = edits.len();
                edits.retain(|e| !of_edit(e));
                if edits.len() == before {
                    // Refusals that name no edit: the sheet as a whole cannot be made.
                    refused.extend(errors);
                    return Err(refused);
                }
                refused.extend(errors);
            }
        }
    }
}

/// Applies an edited sheet to the document: [`edits_from_table`], then [`apply`].
///
/// # Errors
/// Every bad cell, and every edit that cannot be made on its own.
pub fn import(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<Value, Vec<CellError>> {
    let now = Matrix::build(doc, policy, resource, None)
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    let edits = edits_from_table(&now, table, sheet)?;
    apply_to(doc, policy, &now, &edits, sheet)
}

pub(super) fn cell_error(sheet: &str, row: usize, column: &str, message: String) -> CellError {
    CellError {
        sheet: sheet.to_string(),
        row,
        column: column.to_string(),
        message,
    }
}
