//! `CompiledSnapshot::knows_variant`: true exactly for a flag of the
//! snapshot and one of its variants, over every fixture in `spec/cases/`
//! (flags that failed to compile included: they still have variants).

use std::path::PathBuf;

use vexil_engine::CompiledSnapshot;
use vexil_proto::Snapshot;

#[test]
fn knows_exactly_the_snapshot_variants() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/cases");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let snapshot: Snapshot = serde_json::from_value(fixture["snapshot"].clone()).unwrap();
        let compiled = CompiledSnapshot::compile(&snapshot);
        for flag in &snapshot.flags {
            for variant in &flag.variants {
                assert!(
                    compiled.knows_variant(&flag.key, &variant.key),
                    "{}",
                    path.display()
                );
                checked += 1;
            }
            assert!(!compiled.knows_variant(&flag.key, "no-such-variant"));
            assert!(!compiled.knows_variant(&flag.key, ""));
        }
        assert!(!compiled.knows_variant("no-such-flag", "on"));
    }
    assert!(checked > 0, "no fixtures in {}", dir.display());
}
