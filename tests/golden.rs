//! Golden fixtures: each file under `tests/fixtures/core/` holds a policy and cases with their
//! expected answers; every case is replayed through `fieldgate eval`.

mod common;

use serde_json::Value;

#[test]
fn golden_fixtures() {
    let dir = common::root().join("tests/fixtures/core");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    let tmp = common::temp_dir("golden");
    let mut failures = Vec::new();
    let mut total = 0;
    for file in files {
        let fixture = common::read_json(&file);
        let policy_path = match &fixture["policy"] {
            Value::String(rel) => common::root().join(rel),
            inline => {
                let p = tmp.join(file.file_name().unwrap());
                std::fs::write(&p, inline.to_string()).unwrap();
                p
            }
        };
        let cases = fixture["cases"].as_array().unwrap();
        let input: String = cases
            .iter()
            .map(|c| format!("{}\n", c["request"]))
            .collect();
        let out = common::fieldgate(&["eval", "--policy", policy_path.to_str().unwrap()], &input);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Vec<Value> = common::stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            answers.len(),
            cases.len(),
            "{}: one answer per request",
            file.display()
        );
        for (case, got) in cases.iter().zip(&answers) {
            total += 1;
            let want = &case["expect"];
            let ok = match want.get("error") {
                Some(e) => got["error"]["code"] == e["code"] && got["error"]["message"].is_string(),
                None => got == want,
            };
            if !ok {
                failures.push(format!(
                    "{} / {}:\n  want {want}\n  got  {got}",
                    file.file_name().unwrap().to_string_lossy(),
                    case["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
