//! Spreadsheets as tables of text cells: CSV (UTF-8 with or without a BOM, or GBK/GB18030 as
//! Excel on Chinese Windows saves it) and XLSX workbooks, read and written.
//!
//! Every writer escapes cells that a spreadsheet would run as a formula (a leading `=`, `+`,
//! `-`, `@`, tab or carriage return gets a `'` in front), and every reader takes that quote off
//! again, so what is exported reads back as it was.

use std::borrow::Cow;

/// Rows of cells.
pub type Table = Vec<Vec<String>>;

/// How CSV bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else GB18030.
    #[default]
    Auto,
    /// UTF-8 (a BOM is dropped).
    Utf8,
    /// GBK, read as GB18030 (its superset).
    Gbk,
}

impl std::str::FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Encoding, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" => Ok(Encoding::Gbk),
            _ => Err(format!("`{s}` is not auto, utf-8 or gbk")),
        }
    }
}

/// Text from CSV bytes.
///
/// # Errors
/// A message when the bytes are not valid in the chosen encoding.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, String> {
    let bom = b"\xEF\xBB\xBF";
    let utf8 = |b: &[u8]| {
        let b = b.strip_prefix(bom).unwrap_or(b);
        std::str::from_utf8(b).map(str::to_string)
    };
    match encoding {
        Encoding::Utf8 => utf8(bytes).map_err(|e| {
            format!(
                "the file is not UTF-8 (byte {}); save it as UTF-8 or choose GBK",
                e.valid_up_to()
            )
        }),
        Encoding::Auto if bytes.starts_with(bom) => decode(bytes, Encoding::Utf8),
        Encoding::Auto => utf8(bytes).or_else(|_| decode(bytes, Encoding::Gbk)),
        Encoding::Gbk => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                return Err("the file is neither UTF-8 nor GBK text".into());
            }
            Ok(text.into_owned())
        }
    }
}

/// Reads CSV bytes into rows (rows may differ in length).
///
/// # Errors
/// A message for bytes that are not text in the encoding, or malformed CSV.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<Table, String> {
    let text = decode(bytes, encoding)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            rec.map(|r| r.iter().map(|c| unescape(c).to_string()).collect())
                .map_err(|e| format!("bad CSV: {e}"))
        })
        .collect()
}

/// CSV text of the rows: UTF-8 with a BOM (so Excel reads Chinese text right), formula-like
/// cells escaped.
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = w.write_record(row.iter().map(|c| escape(c).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// Whether the bytes are a ZIP archive (an XLSX workbook), not CSV text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// One sheet to write or read.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    /// The sheet's name (at most 31 characters are kept).
    pub name: String,
    /// The cells.
    pub rows: Table,
    /// Rows and columns frozen at the top and left.
    pub freeze: (u32, u16),
    /// Cells whose value must be one of a list: `(first row, first col, last row, last col,
    /// the values)`, zero-based.
    pub lists: Vec<(u32, u16, u32, u16, Vec<String>)>,
    /// Notes shown on a cell: `(row, col, text)`.
    pub notes: Vec<(u32, u16, String)>,
    /// Column widths in characters, from the first column.
    pub widths: Vec<f64>,
    /// Whether the sheet is protected against edits.
    pub protected: bool,
}

/// A cell's row and column as XLSX numbers them, or a message past its limits.
///
/// # Errors
/// More rows or columns than an XLSX sheet holds.
pub fn xlsx_cell(row: usize, col: usize) -> Result<(u32, u16), String> {
    match (u32::try_from(row), u16::try_from(col)) {
        (Ok(r), Ok(c)) if r < 1_048_576 && c < 16_384 => Ok((r, c)),
        _ => Err(format!(
            "cell {row}:{col} is past an XLSX sheet's 1,048,576 rows or 16,384 columns"
        )),
    }
}

/// Writes a workbook.
///
/// # Errors
/// A message when the workbook cannot be built (e.g. a bad sheet name).
pub fn write_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{DataValidation, Format, Note, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    for s in sheets {
        let ws = book.add_worksheet();
        let name: String = s
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        ws.set_name(if name.is_empty() { "Sheet" } else { &name })
            .map_err(e)?;
        for (r, row) in s.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let text = escape(cell);
                let (r, c) = xlsx_cell(r, c)?;
                if r < s.freeze.0 {
                    ws.write_string_with_format(r, c, text, &bold).map_err(e)?;
                } else {
                    ws.write_string(r, c, text).map_err(e)?;
                }
            }
        }
        if s.freeze != (0, 0) {
            ws.set_freeze_panes(s.freeze.0, s.freeze.1).map_err(e)?;
        }
        for (r0, c0, r1, c1, values) in &s.lists {
            let v = DataValidation::new()
                .allow_list_strings(values)
                .map_err(e)?
                .ignore_blank(true);
            ws.add_data_validation(*r0, *c0, *r1, *c1, &v).map_err(e)?;
        }
        for (r, c, text) in &s.notes {
            ws.insert_note(*r, *c, &Note::new(text.as_str()).set_author("fieldgate"))
                .map_err(e)?;
        }
        for (c, w) in s.widths.iter().enumerate() {
            ws.set_column_width(xlsx_cell(0, c)?.1, *w).map_err(e)?;
        }
        if s.protected {
            ws.protect();
        }
    }
    book.save_to_buffer().map_err(e)
}

/// Reads every sheet of a workbook, in order.
///
/// # Errors
/// A message when the bytes are not a readable XLSX workbook.
// TRUNCATION: `f` is a whole number below 1e15 in that branch, exactly an i64
#[allow(clippy::cast_possible_truncation)]
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, String> {
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| format!("sheet `{name}`: {e}"))?;
        // Rows start at the sheet's first row (A1), not at the first cell with a value, so row
        // numbers in messages are the ones the spreadsheet shows.
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut rows: Table = vec![Vec::new(); top as usize];
        for row in range.rows() {
            let mut cells = vec![String::new(); left as usize];
            cells.extend(row.iter().map(|c| match c {
                Data::Empty => String::new(),
                Data::String(s) => unescape(s).to_string(),
                Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
                other => other.to_string(),
            }));
            rows.push(cells);
        }
        out.push(Sheet {
            name,
            rows,
            ..Sheet::default()
        });
    }
    Ok(out)
}

/// Reads a spreadsheet whatever its kind: an XLSX workbook's sheets, or CSV as one sheet.
///
/// # Errors
/// What [`read_xlsx`] or [`read_csv`] report.
pub fn read_any(bytes: &[u8], encoding: Encoding) -> Result<Vec<Sheet>, String> {
    if is_xlsx(bytes) {
        return read_xlsx(bytes);
    }
    Ok(vec![Sheet {
        name: "CSV".into(),
        rows: read_csv(bytes, encoding)?,
        ..Sheet::default()
    }])
}

/// A cell as written to a file: with a `'` in front when a spreadsheet would run it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as read from a file: the quote [`escape`] adds is taken off.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_with_and_without_bom_and_gbk() {
        let table = vec![
            vec!["id".to_string(), "name".into()],
            vec!["u-1".into(), "张三".into()],
        ];
        let utf8 = "id,name\nu-1,张三\n".as_bytes();
        assert_eq!(read_csv(utf8, Encoding::Auto).unwrap(), table);
        let bom = [b"\xEF\xBB\xBF".as_slice(), utf8].concat();
        assert_eq!(read_csv(&bom, Encoding::Auto).unwrap(), table);
        let (gbk, _, _) = encoding_rs::GBK.encode("id,name\nu-1,张三\n");
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        assert_eq!(read_csv(&gbk, Encoding::Auto).unwrap(), table);
        assert_eq!(read_csv(&gbk, Encoding::Gbk).unwrap(), table);
        assert!(read_csv(&gbk, Encoding::Utf8)
            .unwrap_err()
            .contains("not UTF-8"));
    }

    #[test]
    fn formula_cells_are_escaped_and_read_back() {
        let rows = vec![vec![
            "=HYPERLINK(\"x\")".to_string(),
            "-1".into(),
            "ok".into(),
        ]];
        let bytes = write_csv(&rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains("'-1"), "{text}");
        assert_eq!(read_csv(&bytes, Encoding::Auto).unwrap(), rows);
        let sheet = Sheet {
            name: "m".into(),
            rows: rows.clone(),
            ..Sheet::default()
        };
        let book = write_xlsx(&[sheet]).unwrap();
        assert!(is_xlsx(&book));
        assert_eq!(read_xlsx(&book).unwrap()[0].rows, rows);
    }
}
