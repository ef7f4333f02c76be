//! The engine's shared evaluation fixtures (`spec/cases/*.json`, format in
//! `spec/README.md`) through the WebAssembly build, under Node: the same
//! files `engine/tests/cases.rs` runs natively, so the two cannot drift.
//!
//! The files are compiled in with `include_str!`; a native test checks that
//! the list below names every file in `spec/cases`, so a new fixture file
//! cannot be missed here.

use serde_json::Value;

macro_rules! fixture {
    ($file:literal) => {
        ($file, include_str!(concat!("../../spec/cases/", $file)))
    };
}
/// Every `spec/cases` file, by name and contents.
const FIXTURES: [(&str, &str); 14] = [
    fixture!("compile_failures.json"),
    fixture!("in_list_large.json"),
    fixture!("in_lists.json"),
    fixture!("missing_and_mismatch.json"),
    fixture!("operators_dates.json"),
    fixture!("operators_numbers.json"),
    fixture!("operators_semver.json"),
    fixture!("operators_strings.json"),
    fixture!("prerequisites.json"),
    fixture!("reasons.json"),
    fixture!("regex.json"),
    fixture!("rollouts.json"),
    fixture!("segments.json"),
    fixture!("targets.json"),
];

fn parse(file: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("{file}: {error}"))
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn every_fixture_file_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/cases");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = FIXTURES.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        on_disk, listed,
        "update FIXTURES in sdk-wasm/tests/cases.rs"
    );
    for (file, text) in FIXTURES {
        assert!(
            parse(file, text)["cases"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        );
    }
}

#[cfg(target_arch = "wasm32")]
mod node {
    use serde_json::{Value, json};
    use vexil_wasm::VexilSnapshot;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::{FIXTURES, parse};

    fn message(error: JsValue) -> String {
        js_sys::Error::from(error).message().into()
    }

    /// Runs every case, collecting every mismatch before failing. Cases
    /// with `context_numbers` (NaN, ±Infinity) are counted and left out:
    /// the JSON context this API takes cannot write those numbers; the
    /// native runner covers them.
    /// The engine module links no regex engine: `matches` patterns fail
    /// closed until a regex host is installed. The JS client installs the
    /// regex module (`vexil-wasm-regex`); this test installs the same code
    /// in-process, so every fixture runs through the engine's host path.
    fn install_the_regex_module() {
        let regex = FIXTURES
            .iter()
            .find(|(file, _)| *file == "regex.json")
            .unwrap();
        let mut snapshot =
            VexilSnapshot::new(&parse(regex.0, regex.1)["snapshot"].to_string()).unwrap();
        assert!(snapshot.uses_regex());
        assert!(
            snapshot
                .compile_errors()
                .contains("the regex module is not loaded"),
            "{}",
            snapshot.compile_errors()
        );
        assert!(vexil_engine::install_regex_host(vexil_engine::RegexHost {
            compile: vexil_wasm_regex::compile,
            is_match: vexil_wasm_regex::is_match,
            release: vexil_wasm_regex::release,
        }));
        assert!(!snapshot.recompile().is_empty());
        assert_eq!(snapshot.compile_errors(), "[]");
    }

    #[wasm_bindgen_test]
    fn every_case_matches_through_wasm() {
        install_the_regex_module();
        let mut failures = Vec::new();
        let (mut passed, mut skipped) = (0, 0);
        for (file, text) in FIXTURES {
            let fixture = parse(file, text);
            let snapshot = VexilSnapshot::new(&fixture["snapshot"].to_string())
                .unwrap_or_else(|error| panic!("{file}: {}", message(error)));
            for case in fixture["cases"].as_array().unwrap() {
                let name = &case["name"];
                if case.get("context_numbers").is_some() {
                    skipped += 1;
                    continue;
                }
                let flag = case["flag"].as_str().unwrap();
                let context = case["context"].to_string();
                let actual: Value = match snapshot.evaluate(flag, &context) {
                    Ok(result) => serde_json::from_str(&result).unwrap(),
                    Err(error) => json!({ "thrown": message(error) }),
                };
                if numbers_equal(&actual, &case["expected"]) {
                    passed += 1;
                } else {
                    failures.push(format!(
                        "{file}: {name}: expected {}, got {actual}",
                        case["expected"]
                    ));
                }
                let all: Value =
                    serde_json::from_str(&snapshot.evaluate_all(&context).unwrap()).unwrap();
                let from_all = all.as_array().unwrap().iter().find(|r| r["flag"] == flag);
                if let Some(from_all) = from_all
                    && from_all != &actual
                {
                    failures.push(format!(
                        "{file}: {name}: evaluateAll gave {from_all}, evaluate {actual}"
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failing cases:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(passed > 600, "only {passed} cases ran");
        assert!(skipped < 30, "{skipped} cases skipped");
    }

    /// JSON equality where numbers compare by value (`100` and `100.0` are
    /// the same number in JavaScript and in the spec).
    fn numbers_equal(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| numbers_equal(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w)))
            }
            _ => a == b,
        }
    }
}
