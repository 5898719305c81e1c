//! The admin toolkit's tables as files people open in Excel: the permission matrix (with
//! dropdowns, a frozen header and role column, field labels, notes saying where each value
//! comes from, and a protected legend sheet), and directories read from CSV, XLSX or JSON.

use super::table::{self, Encoding, Sheet, TableError};
use crate::admin::directory::{Directory, DirectoryError, Org};
use crate::admin::matrix::{Matrix, SCOPES};
use crate::core::FieldState;

/// Why a directory file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryLoadError {
    /// The bytes are not a readable file of any kind, or one over a limit.
    Unreadable(TableError),
    /// Rows or cells are wrong; nothing was loaded.
    Rows(Vec<DirectoryError>),
}

impl std::fmt::Display for DirectoryLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectoryLoadError::Unreadable(e) => e.fmt(f),
            DirectoryLoadError::Rows(errors) => {
                let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "{}; nothing was loaded", lines.join("\n"))
            }
        }
    }
}

/// Reads a directory: JSON when the text starts with `[` or `{`, an XLSX workbook (its first
/// sheet), else CSV in `encoding`. Departments are checked against `policy` when given.
///
/// # Errors
/// An unreadable file, or every bad row.
pub fn read_directory(
    bytes: &[u8],
    encoding: Encoding,
    org: Option<Org<'_>>,
) -> Result<Directory, DirectoryLoadError> {
    let unreadable = DirectoryLoadError::Unreadable;
    if table::is_xlsx(bytes) {
        let sheets = table::read_xlsx(bytes).map_err(unreadable)?;
        let first = sheets.into_iter().next().ok_or_else(|| {
            unreadable(TableError::Unreadable("the workbook has no sheet".into()))
        })?;
        return Directory::from_table_in(&first.rows, org).map_err(DirectoryLoadError::Rows);
    }
    let text = table::decode(bytes, encoding).map_err(unreadable)?;
    if text.trim_start().starts_with(['[', '{']) {
        let doc: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| unreadable(TableError::Unreadable(format!("not valid JSON: {e}"))))?;
        return Directory::from_json_in(&doc, org).map_err(DirectoryLoadError::Rows);
    }
    let rows = table::read_csv(text.as_bytes(), Encoding::Utf8).map_err(unreadable)?;
    Directory::from_table_in(&rows, org).map_err(DirectoryLoadError::Rows)
}

/// A directory as a one-sheet workbook.
///
/// # Errors
/// A message when the workbook cannot be built.
pub fn directory_workbook(d: &Directory) -> Result<Vec<u8>, TableError> {
    let rows = d.to_table();
    let widths = vec![14.0, 16.0, 16.0, 20.0, 24.0];
    table::write_xlsx(&[Sheet {
        name: "directory".into(),
        rows,
        freeze: (1, 1),
        widths,
        ..Sheet::default()
    }])
}

/// The matrix as a workbook: the matrix sheet, then a protected legend.
///
/// # Errors
/// A message when the workbook cannot be built.
pub fn matrix_workbook(m: &Matrix) -> Result<Vec<u8>, TableError> {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let all = m.table();
    // Keep the header and labels; role rows with their notes as cell notes, not `#why` rows.
    for row in &all {
        if row.first().is_some_and(|c| c == "#why") {
            for (c, text) in row.iter().enumerate().skip(1) {
                if !text.is_empty() {
                    let (r, c) = table::xlsx_cell(rows.len().saturating_sub(1), c)?;
                    notes.push((r, c, text.clone()));
                }
            }
            continue;
        }
        rows.push(row.clone());
    }
    let last = table::xlsx_cell(rows.len().saturating_sub(1), 0)?.0;
    let (nf, na) = (
        table::xlsx_cell(0, m.fields.len())?.1,
        table::xlsx_cell(0, m.actions.len())?.1,
    );
    let states: Vec<String> = FieldState::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    let mut scopes: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    scopes.push("no".into());
    let mut lists = Vec::new();
    if last >= 2 {
        if nf > 0 {
            lists.push((2, 1, last, nf, states));
        }
        if na > 0 {
            lists.push((2, nf + 1, last, nf + na, scopes));
        }
    }
    let mut widths = vec![18.0];
    widths.extend(std::iter::repeat_n(13.0, (nf + na) as usize));
    let matrix = Sheet {
        name: m.resource.clone(),
        rows,
        freeze: (2, 1),
        lists,
        notes,
        widths,
        protected: false,
    };
    table::write_xlsx(&[matrix, legend()])
}

/// The legend sheet: what the words mean, in English and Chinese.
fn legend() -> Sheet {
    let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    Sheet {
        name: "legend".into(),
        rows: vec![
            row(&["word", "meaning", "含义"]),
            row(&["hidden", "not shown, not sent", "隐藏：不显示也不下发"]),
            row(&["masked", "shown masked (138****5678)", "脱敏：打码显示"]),
            row(&["readonly", "shown, not editable (read-only)", "只读：可见不可改"]),
            row(&["editable", "shown and editable", "可编辑"]),
            row(&["all", "every record", "全部：所有记录"]),
            row(&["department_tree", "records of their department and below", "本部门及下级部门"]),
            row(&["department", "records of their department", "本部门"]),
            row(&[
                "subordinates",
                "records they or anyone reporting to them own",
                "本人及下属：自己和下属（汇报给自己的人）的记录",
            ]),
            row(&["own", "records they own", "本人：自己的记录"]),
            row(&["member", "records shared with them", "协作：共享给自己的记录"]),
            row(&[
                "parent",
                "records whose parent record they may act on the same way",
                "随上级记录：能对上级记录（如联系人的客户）做同样操作时",
            ]),
            row(&["(empty) / no", "not allowed", "不允许"]),
            row(&[]),
            row(&[
                "how",
                "Change a role's cells and import the file. Rows starting with # are for reading. \
                 A cell's note says where its value comes from; a value set by a template or a \
                 parent role changes in that template or role.",
                "修改角色行的单元格后导入。以 # 开头的行只供阅读。单元格批注说明取值来源；来自模板或上级角色的值需在模板或该角色中修改。",
            ]),
        ],
        freeze: (1, 0),
        widths: vec![18.0, 60.0, 60.0],
        protected: true,
        ..Sheet::default()
    }
}
