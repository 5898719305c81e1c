//! Directories read from files as admins export them: golden outputs for CSV (UTF-8, with a
//! BOM, GBK, Chinese headers), XLSX and JSON, and for every kind of error.

mod common;

use fieldgate::host::sheets::{read_directory, DirectoryLoadError};
use fieldgate::host::table::{self, Encoding, Sheet};
use fieldgate::Policy;
use serde_json::{json, Value};

fn dir() -> std::path::PathBuf {
    common::root().join("tests/golden/directory")
}

/// What reading a file gives, as JSON: the people, or every error.
fn read(name: &str, encoding: Encoding) -> Value {
    let policy = Policy::from_slice(&std::fs::read(common::sample_policy()).unwrap()).unwrap();
    let bytes = std::fs::read(dir().join(name)).unwrap();
    match read_directory(
        &bytes,
        encoding,
        fieldgate::admin::directory::Org::of(Some(&policy)),
    ) {
        Ok(d) => json!({"people": d.to_json()}),
        Err(DirectoryLoadError::Rows(rows)) => json!({"errors": rows}),
        Err(DirectoryLoadError::Unreadable(e)) => json!({"unreadable": e.message()}),
    }
}

/// Compares with `NAME.out` (`UPDATE_GOLDEN=1` rewrites it; review the diff).
fn golden(name: &str, got: &Value) {
    let path = dir().join(format!("{name}.out"));
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
    assert_eq!(text, want, "{name}");
}

#[test]
fn every_encoding_and_kind_reads_the_same_people() {
    let utf8 = read("utf8.csv", Encoding::Auto);
    golden("utf8.csv", &utf8);
    assert_eq!(utf8["people"][0]["name"], "张三");
    assert_eq!(
        utf8["people"][0]["groups"],
        json!(["east-team", "all-hands"])
    );
    for (name, enc) in [
        ("bom.csv", Encoding::Auto),
        ("gbk.csv", Encoding::Auto),
        ("gbk.csv", Encoding::Gbk),
        ("chinese-headers.csv", Encoding::Auto),
        ("people.xlsx", Encoding::Auto),
    ] {
        assert_eq!(read(name, enc), utf8, "{name}");
    }
    // JSON carries attributes too.
    let j = read("people.json", Encoding::Auto);
    golden("people.json", &j);
    assert_eq!(j["people"][1]["attrs"]["level"], 3);
    // Told to read GBK as UTF-8, it says so instead of garbling names.
    assert!(read("gbk.csv", Encoding::Utf8)["unreadable"]
        .as_str()
        .unwrap()
        .contains("not UTF-8"));
}

#[test]
fn every_bad_row_is_reported_with_row_and_column() {
    for name in ["bad-rows.csv", "bad-header.csv", "bad.json"] {
        let got = read(name, Encoding::Auto);
        golden(name, &got);
        assert!(
            got["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{name}: {got}"
        );
    }
    let rows = read("bad-rows.csv", Encoding::Auto);
    let codes: Vec<(u64, &str, &str)> = rows["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            (2, "department", "unknown_department"),
            (3, "id", "duplicate_id"),
            (4, "id", "missing_id"),
            (5, "", "bad_value")
        ]
    );
}

/// The reporting line: a `manager` column (直属主管, 上级) names each person's direct manager;
/// everyone learns who is below them and how far. An unknown manager or a circle of managers is
/// a bad row, and nothing loads.
#[test]
fn the_reporting_line_reads_from_the_manager_column() {
    let got = read("managers.csv", Encoding::Auto);
    golden("managers.csv", &got);
    assert_eq!(got["people"][1]["manager"], "u-lead");
    let policy = Policy::from_slice(&std::fs::read(common::sample_policy()).unwrap()).unwrap();
    let bytes = std::fs::read(dir().join("managers.csv")).unwrap();
    let org = fieldgate::admin::directory::Org::of(Some(&policy));
    let d = read_directory(&bytes, Encoding::Auto, org).unwrap();
    let reports = |id: &str| {
        let s = d.get(id).unwrap().subject();
        serde_json::to_value(s.reports).unwrap()
    };
    assert_eq!(
        reports("u-lead"),
        json!({"u-alice": 1, "u-bob": 1, "u-eve": 2})
    );
    assert_eq!(reports("u-alice"), json!({"u-eve": 1}));
    assert_eq!(reports("u-eve"), json!({}));
    // The table form writes the column back, and reads back to the same people.
    let again = fieldgate::admin::Directory::from_table(&d.to_table(), Some(&policy)).unwrap();
    assert_eq!(again.people(), d.people());

    for (name, want) in [
        (
            "manager-cycle.csv",
            vec![
                (2, "manager_cycle"),
                (3, "manager_cycle"),
                (4, "manager_cycle"),
                (6, "manager_cycle"),
            ],
        ),
        ("unknown-manager.csv", vec![(3, "unknown_manager")]),
    ] {
        let got = read(name, Encoding::Auto);
        golden(name, &got);
        let codes: Vec<(u64, &str)> = got["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: {got}"))
            .iter()
            .map(|e| {
                assert_eq!(e["column"], "manager");
                (e["row"].as_u64().unwrap(), e["code"].as_str().unwrap())
            })
            .collect();
        assert_eq!(codes, want, "{name}");
    }
}

/// The XLSX input is made from the UTF-8 CSV by the project's own writer
/// (`UPDATE_GOLDEN=1` makes it again).
#[test]
fn the_xlsx_input_is_the_csv_as_a_workbook() {
    let csv = std::fs::read(dir().join("utf8.csv")).unwrap();
    let rows = table::read_csv(&csv, Encoding::Auto).unwrap();
    let path = dir().join("people.xlsx");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let book = table::write_xlsx(&[Sheet {
            name: "通讯录".into(),
            rows: rows.clone(),
            ..Sheet::default()
        }])
        .unwrap();
        std::fs::write(&path, book).unwrap();
    }
    let sheets = table::read_xlsx(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(sheets[0].rows, rows);
}

/// A sheet is read cell by cell, never as a dense grid from the first to the last used cell:
/// a file whose only cells are A1 and XFD1048576 asked for about 550 GB and aborted the
/// process (the server and `fieldgate matrix import`, exit 134).
#[test]
fn a_sheet_with_far_apart_cells_is_refused_without_a_dense_grid() {
    let far = common::workbook(&[(0, 0, "id"), (1_048_575, 16_383, "x")]);
    assert!(far.len() < 10_000, "a small file: {}", far.len());
    let e = table::read_xlsx(&far).unwrap_err();
    assert!(
        matches!(&e, table::TableError::TooLarge(m) if m.contains("more than")),
        "{e}"
    );
    // A1 + CV1048576 (5.7 GB before): refused on the row limit.
    let e = table::read_xlsx(&common::workbook(&[(0, 0, "id"), (1_048_575, 99, "x")])).unwrap_err();
    let rows = format!("more than {} rows", table::MAX_ROWS);
    assert!(
        matches!(&e, table::TableError::TooLarge(m) if m.contains(&rows)),
        "{e}"
    );
    // Far apart but within the limits: rows hold only up to their last value.
    let ok = table::read_xlsx(&common::workbook(&[(0, 0, "id"), (5, 900, "x")])).unwrap();
    let rows = &ok[0].rows;
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0], vec!["id".to_string()]);
    assert!(rows[1..5].iter().all(Vec::is_empty));
    assert_eq!((rows[5].len(), rows[5][900].as_str()), (901, "x"));
    // The command line reads the same way: an error, not an abort.
    let dir = common::temp_dir("directory-far-cells");
    let file = dir.join("far.xlsx");
    std::fs::write(&file, &far).unwrap();
    let out = common::fieldgate(
        &[
            "matrix",
            "import",
            "--policy",
            "examples/acme-erp.policy.json",
            "--resource",
            "customer",
            "--in",
            file.to_str().unwrap(),
            "--out",
            dir.join("out.json").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("more than"),
        "{}",
        common::stderr(&out)
    );
}
