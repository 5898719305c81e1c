//! Spreadsheets as tables of text cells: CSV (UTF-8 with or without a BOM, or GBK/GB18030 as
//! Excel on Chinese Windows saves it) and XLSX workbooks, read and written.
//!
//! Every writer escapes cells that a spreadsheet would run as a formula (see [`escape`]: a
//! `'` goes in front), and every reader takes that quote off again, so what is exported reads
//! back as it was. CSV cells are all quoted, so a `;` inside one never splits it into a new
//! cell where `;` separates them (Excel in many European locales).

use std::borrow::Cow;
use std::fmt;

/// Why a table could not be read or written; the message says where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// Bytes that are not text in the chosen encoding, or an encoding that does not exist.
    Encoding(String),
    /// Malformed CSV, or bytes that are not a readable XLSX workbook.
    Unreadable(String),
    /// Over a limit: rows, columns, cells, a cell's length, or the unpacked workbook.
    TooLarge(String),
    /// A workbook that cannot be written (e.g. past a sheet's size).
    Unwritable(String),
}

impl TableError {
    /// The same error, said of sheet `name`.
    fn in_sheet(self, name: &str) -> TableError {
        let at = |m: String| format!("sheet `{name}`: {m}");
        match self {
            TableError::Encoding(m) => TableError::Encoding(at(m)),
            TableError::Unreadable(m) => TableError::Unreadable(at(m)),
            TableError::TooLarge(m) => TableError::TooLarge(at(m)),
            TableError::Unwritable(m) => TableError::Unwritable(at(m)),
        }
    }

    /// What is wrong, in words.
    pub fn message(&self) -> &str {
        match self {
            TableError::Encoding(m)
            | TableError::Unreadable(m)
            | TableError::TooLarge(m)
            | TableError::Unwritable(m) => m,
        }
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TableError {}

/// The shells (the CLI) report a table problem as its message.
impl From<TableError> for String {
    fn from(e: TableError) -> String {
        e.to_string()
    }
}

fn unreadable_xlsx(e: impl fmt::Display) -> TableError {
    TableError::Unreadable(format!("not a readable XLSX workbook: {e}"))
}

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
    type Err = TableError;
    fn from_str(s: &str) -> Result<Encoding, TableError> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" => Ok(Encoding::Gbk),
            _ => Err(TableError::Encoding(format!(
                "`{s}` is not auto, utf-8 or gbk"
            ))),
        }
    }
}

/// Text from CSV bytes.
///
/// # Errors
/// A message when the bytes are not valid in the chosen encoding.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<String, TableError> {
    let bom = b"\xEF\xBB\xBF";
    let utf8 = |b: &[u8]| {
        let b = b.strip_prefix(bom).unwrap_or(b);
        std::str::from_utf8(b).map(str::to_string)
    };
    match encoding {
        Encoding::Utf8 => utf8(bytes).map_err(|e| {
            TableError::Encoding(format!(
                "the file is not UTF-8 (byte {}); save it as UTF-8 or choose GBK",
                e.valid_up_to()
            ))
        }),
        Encoding::Auto if bytes.starts_with(bom) => decode(bytes, Encoding::Utf8),
        Encoding::Auto => utf8(bytes).or_else(|_| decode(bytes, Encoding::Gbk)),
        Encoding::Gbk => {
            let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
            if had_errors {
                let msg = "the file is neither UTF-8 nor GBK text";
                return Err(TableError::Encoding(msg.into()));
            }
            Ok(text.into_owned())
        }
    }
}

/// Reads CSV bytes into rows (rows may differ in length), within [`MAX_ROWS`],
/// [`MAX_COLUMNS`], [`MAX_CELLS`] and [`MAX_CELL_CHARS`].
///
/// # Errors
/// A message for bytes that are not text in the encoding, malformed CSV, or a table over a
/// limit.
pub fn read_csv(bytes: &[u8], encoding: Encoding) -> Result<Table, TableError> {
    let text = decode(bytes, encoding)?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Grid::default();
    for (row, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| TableError::Unreadable(format!("bad CSV: {e}")))?;
        for (col, cell) in rec.iter().enumerate() {
            grid.put(row, col, unescape(cell))?;
        }
        grid.row(row)?;
    }
    Ok(grid.rows)
}

/// CSV text of the rows: UTF-8 with a BOM (so Excel reads Chinese text right), formula-like
/// cells escaped.
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv_writer(b"\xEF\xBB\xBF".to_vec());
    for row in rows {
        // Writing to memory cannot fail.
        let _ = w.write_record(row.iter().map(|c| escape(c).into_owned()));
    }
    w.into_inner().unwrap_or_default()
}

/// A CSV writer as every export needs one: each cell quoted (see the module's notes).
pub fn csv_writer<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(out)
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
pub fn xlsx_cell(row: usize, col: usize) -> Result<(u32, u16), TableError> {
    match (u32::try_from(row), u16::try_from(col)) {
        (Ok(r), Ok(c)) if r < 1_048_576 && c < 16_384 => Ok((r, c)),
        _ => Err(TableError::Unwritable(format!(
            "cell {row}:{col} is past an XLSX sheet's 1,048,576 rows or 16,384 columns"
        ))),
    }
}

/// Writes a workbook.
///
/// # Errors
/// A message when the workbook cannot be built (e.g. a bad sheet name).
pub fn write_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, TableError> {
    use rust_xlsxwriter::{DataValidation, Format, Note, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| TableError::Unwritable(e.to_string());
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

/// The media type of an XLSX workbook (answers and downloads name it).
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Most bytes a workbook's parts may unpack to, all together, counted as they unpack (a
/// ZIP entry may claim any size): what bounds the memory and time of reading one.
pub const MAX_UNPACKED: u64 = 64 << 20;
/// Most rows of a sheet or CSV file.
pub const MAX_ROWS: usize = 200_000;
/// Most columns.
pub const MAX_COLUMNS: usize = 1_000;
/// Most cells a table holds, counting the empty ones before a row's last value.
pub const MAX_CELLS: usize = 4_000_000;
/// Most characters in a cell (Excel's own limit).
pub const MAX_CELL_CHARS: usize = 32_767;

/// A table built cell by cell within the limits, holding only up to each row's last value
/// (a sheet whose only cells are A1 and XFD1048576 never becomes a dense grid).
#[derive(Default)]
struct Grid {
    rows: Table,
    cells: usize,
}

impl Grid {
    /// Makes sure row `row` exists (rows before it stay empty).
    fn row(&mut self, row: usize) -> Result<&mut Vec<String>, TableError> {
        if row >= MAX_ROWS {
            let msg = format!("the table has more than {MAX_ROWS} rows");
            return Err(TableError::TooLarge(msg));
        }
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        #[expect(clippy::indexing_slicing, reason = "the row was just made to exist")]
        Ok(&mut self.rows[row])
    }

    /// Puts a value at `(row, col)`, zero-based; cells before it in the row stay empty.
    fn put(&mut self, row: usize, col: usize, value: &str) -> Result<(), TableError> {
        if col >= MAX_COLUMNS {
            return Err(TableError::TooLarge(format!(
                "row {} has more than {MAX_COLUMNS} columns",
                row + 1
            )));
        }
        if value.chars().count() > MAX_CELL_CHARS {
            return Err(TableError::TooLarge(format!(
                "the cell at row {}, column {} has more than {MAX_CELL_CHARS} characters",
                row + 1,
                col + 1
            )));
        }
        let cells = self.cells;
        let cells_in_row = self.row(row)?;
        let grow = (col + 1).saturating_sub(cells_in_row.len());
        if cells + grow > MAX_CELLS {
            let msg = format!("the table has more than {MAX_CELLS} cells");
            return Err(TableError::TooLarge(msg));
        }
        if grow > 0 {
            cells_in_row.resize_with(col + 1, String::new);
        }
        #[expect(
            clippy::indexing_slicing,
            reason = "the row was just made at least `col + 1` long"
        )]
        {
            cells_in_row[col] = value.to_string();
        }
        self.cells = cells + grow;
        Ok(())
    }
}

/// Unpacks every part of a ZIP archive into nothing, failing once they come to more than
/// [`MAX_UNPACKED`] bytes: checked before the workbook reader unpacks them for real.
fn check_unpacked(bytes: &[u8]) -> Result<(), TableError> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable_xlsx)?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(unreadable_xlsx)?;
        let mut bounded = std::io::Read::take(entry, MAX_UNPACKED - total + 1);
        total += std::io::copy(&mut bounded, &mut std::io::sink()).map_err(unreadable_xlsx)?;
        if total > MAX_UNPACKED {
            return Err(TableError::TooLarge(format!(
                "the workbook unpacks to more than {} MiB",
                MAX_UNPACKED >> 20
            )));
        }
    }
    Ok(())
}

/// Reads every sheet of a workbook, in order, cell by cell within the limits (see
/// [`MAX_UNPACKED`]). Row and column numbers are the ones the spreadsheet shows: rows start
/// at A1, not at the first cell with a value.
///
/// # Errors
/// A message when the bytes are not a readable XLSX workbook or a sheet is over a limit.
#[expect(
    clippy::cast_possible_truncation,
    reason = "`f` is a whole number below 1e15 in that branch, exactly an i64"
)]
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<Sheet>, TableError> {
    use calamine::{DataRef, Reader};
    check_unpacked(bytes)?;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(unreadable_xlsx)?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let bad = |e: calamine::XlsxError| TableError::Unreadable(format!("sheet `{name}`: {e}"));
        let mut cells = book.worksheet_cells_reader(&name).map_err(bad)?;
        let mut grid = Grid::default();
        while let Some(cell) = cells.next_cell().map_err(bad)? {
            let (row, col) = cell.get_position();
            let text = match cell.get_value() {
                DataRef::Empty => continue,
                DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                    unescape(s).to_string()
                }
                DataRef::SharedString(s) => unescape(s).to_string(),
                DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                    format!("{}", *f as i64)
                }
                other => calamine::Data::from(other.clone()).to_string(),
            };
            grid.put(row as usize, col as usize, &text)
                .map_err(|e| e.in_sheet(&name))?;
        }
        out.push(Sheet {
            name,
            rows: grid.rows,
            ..Sheet::default()
        });
    }
    Ok(out)
}

/// Reads a spreadsheet whatever its kind: an XLSX workbook's sheets, or CSV as one sheet.
///
/// # Errors
/// What [`read_xlsx`] or [`read_csv`] report.
pub fn read_any(bytes: &[u8], encoding: Encoding) -> Result<Vec<Sheet>, TableError> {
    if is_xlsx(bytes) {
        return read_xlsx(bytes);
    }
    Ok(vec![Sheet {
        name: "CSV".into(),
        rows: read_csv(bytes, encoding)?,
        ..Sheet::default()
    }])
}

/// Whether a spreadsheet would read `cell` as a formula: its first character is `=`, `+`,
/// `-`, `@` (or their full-width forms, which some spreadsheets take too), or a tab, carriage
/// return or line feed, once the white space and invisible characters that spreadsheets skip
/// (spaces, no-break and zero-width spaces, joiners, byte order marks) are passed over.
fn formula_like(cell: &str) -> bool {
    let invisible = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}');
    cell.trim_start_matches(invisible).starts_with([
        '=', '+', '-', '@', '\t', '\r', '\n', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ])
}

/// A cell as written to a file: with a `'` in front when a spreadsheet would run it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as read from a file: the quote [`escape`] adds is taken off.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
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
        let e = read_csv(&gbk, Encoding::Utf8).unwrap_err();
        assert!(
            matches!(&e, TableError::Encoding(m) if m.contains("not UTF-8")),
            "{e}"
        );
    }

    #[test]
    fn the_cell_count_is_bounded_across_rows() {
        let mut g = Grid::default();
        let per_row = MAX_COLUMNS - 1;
        let fill = MAX_CELLS / MAX_COLUMNS;
        for row in 0..fill {
            g.put(row, per_row, "x").unwrap();
        }
        let e = g.put(fill, per_row, "x").unwrap_err();
        let cells = format!("more than {MAX_CELLS} cells");
        assert!(
            matches!(&e, TableError::TooLarge(m) if m.contains(&cells)),
            "{e}"
        );
        let long = "长".repeat(MAX_CELL_CHARS + 1);
        let e = Grid::default().put(0, 0, &long).unwrap_err();
        assert!(
            matches!(&e, TableError::TooLarge(m) if m.contains("characters")),
            "{e}"
        );
        let n = e.message().len();
        assert!(n < 200, "the cell is not echoed: {n}");
    }

    #[test]
    fn a_workbook_unpacking_past_the_limit_is_refused_as_it_unpacks() {
        use std::io::Write;
        // One part of zeros that compresses to a few hundred KB: the reader that unpacked
        // shared strings whole took gigabytes for such a file.
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/sharedStrings.xml", opts).unwrap();
        let block = vec![b'a'; 1 << 20];
        for _ in 0..=(MAX_UNPACKED >> 20) {
            zip.write_all(&block).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        assert!(bytes.len() < 1 << 20, "{}", bytes.len());
        let e = read_xlsx(&bytes).unwrap_err();
        assert!(
            matches!(&e, TableError::TooLarge(m) if m.contains("unpacks to more than")),
            "{e}"
        );
    }

    #[test]
    fn formula_escaping_sees_past_what_spreadsheets_skip_and_quotes_every_csv_cell() {
        for cell in [
            " =1+1",
            "\n=1+1",
            "\u{200b}=1+1",
            "\u{feff}@SUM(A1)",
            "\u{ff1d}1+1",
            "\u{a0}-2",
            "\t=x",
        ] {
            assert_eq!(escape(cell), format!("'{cell}"), "{cell:?}");
            assert_eq!(unescape(&escape(cell)), cell);
        }
        for cell in ["x;=1+1", "ok", "a-b", "", "'quoted"] {
            assert_eq!(escape(cell), cell, "{cell:?}");
        }
        let rows = vec![vec!["x;=1+1".to_string(), " =1+1".into(), "plain".into()]];
        let bytes = write_csv(&rows);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "\"x;=1+1\",\"' =1+1\",\"plain\"\n",
            "quoted, so `;` locales keep one cell"
        );
        assert_eq!(read_csv(&bytes, Encoding::Auto).unwrap(), rows);
    }

    #[test]
    fn csv_is_held_to_the_same_limits() {
        let wide = format!("{}x\n", ",".repeat(MAX_COLUMNS));
        let e = read_csv(wide.as_bytes(), Encoding::Auto).unwrap_err();
        assert!(
            matches!(&e, TableError::TooLarge(m) if m.contains("columns")),
            "{e}"
        );
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
