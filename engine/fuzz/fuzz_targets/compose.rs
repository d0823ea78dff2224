//! The compose loader (`compose::load`: YAML with positions, interpolation, merge, schema,
//! normalisation) and the typed project decoding, on one compose file given as content.
#![no_main]

use std::collections::BTreeMap;

use berth::compose::load::{load_model, ConfigFile, Options};
use berth::compose::types::Project;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = std::env::temp_dir().join("berth-fuzz-compose");
    let opts = Options {
        files: vec![ConfigFile {
            filename: dir.join("compose.yaml"),
            content: Some(text.to_owned()),
        }],
        working_dir: dir,
        environment: BTreeMap::from([("FOO".to_string(), "bar".to_string())]),
        project_name: Some("fuzz".into()),
        named_by_flag: true,
    };
    if let Ok(model) = load_model(&opts) {
        let _ = Project::from_canonical(model.value);
    }
});
