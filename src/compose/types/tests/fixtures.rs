//! The corpus under tests/fixtures/compose/types, recorded from docker compose v2.40.3 by its
//! record.sh: each `config --format json` output decodes into a [`Project`] that writes the
//! same bytes again (JSON and YAML), and each service hashes to what `config --hash '*'`
//! printed; the YAML they print is emitted again from the same model.

use std::path::PathBuf;

use super::super::{service_hash, to_go_json_indent, to_yaml, Project};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compose/types")
}

/// The recorded fixtures' names (`01-ports`…).
fn names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".compose.yml").map(str::to_owned)
        })
        .collect();
    v.sort();
    assert!(v.len() >= 15, "fixtures missing: {v:?}");
    v
}

fn read(name: &str, ext: &str) -> String {
    std::fs::read_to_string(dir().join(format!("{name}.{ext}"))).expect("recorded output")
}

fn load(name: &str) -> Project {
    load_from(name, "json")
}

/// Decodes one of the recorded JSON files (`json`, or `yaml.json` for the transcoded YAML).
fn load_from(name: &str, ext: &str) -> Project {
    let json: serde_json::Value = serde_json::from_str(&read(name, ext)).expect("valid JSON");
    Project::from_canonical(json).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Where two texts first differ, for a readable failure.
fn first_diff(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()));
    format!(
        "line {}:\n ours: {:?}\n real: {:?}",
        line + 1,
        a.lines().nth(line),
        b.lines().nth(line)
    )
}

#[test]
fn json_round_trips_byte_for_byte() {
    for name in names() {
        let recorded = read(&name, "json");
        let ours = to_go_json_indent(&load(&name));
        assert!(ours == recorded, "{name}: {}", first_diff(&ours, &recorded));
    }
}

/// Services whose hash cannot be taken from `config --format json`: `--hash` loads the project
/// without resolving `env_file` into `environment`, `config` resolves it and drops the files
/// (checked on its own by `env_file_service_hash_matches_docker_compose`).
const ENV_FILE_RESOLVED: &[(&str, &str)] = &[("07-environment", "filed")];

#[test]
fn service_hashes_match_docker_compose() {
    let mut checked = 0;
    for name in names() {
        let project = load(&name);
        for line in read(&name, "hash").lines() {
            let (service, want) = line.split_once(' ').expect("name hash");
            if ENV_FILE_RESOLVED.contains(&(name.as_str(), service)) {
                continue;
            }
            let s = &project.services[service];
            assert_eq!(service_hash(s), want, "{name}: service {service}");
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} hashes checked");
}

/// The YAML is checked from the transcoded YAML (which, unlike the JSON, has the extensions
/// of services, networks… and the models).
#[test]
fn yaml_matches_docker_compose_config() {
    for name in names() {
        let recorded = read(&name, "yaml");
        let ours = to_yaml(&load_from(&name, "yaml.json"));
        assert!(ours == recorded, "{name}: {}", first_diff(&ours, &recorded));
    }
}

#[test]
fn service_names_come_from_keys() {
    let p = load("09-depends");
    for (k, s) in &p.services {
        assert_eq!(&s.name, k);
    }
}

/// `--hash` sees the `env_file` entries that `config` resolved away, so the hash of 07's
/// `filed` checks [`super::super::EnvFile`]'s JSON (a required file as its bare path, an
/// optional one as `{path, required}`): the service is rebuilt as the hash path loads it.
#[test]
fn env_file_service_hash_matches_docker_compose() {
    use super::super::EnvFile;
    // The fixture directory as recorded (the context of 03's `inline` build is that directory).
    let fixture_dir = load("03-build").services["inline"]
        .build
        .as_ref()
        .expect("build")
        .context
        .clone();
    let mut filed = load("07-environment").services["filed"].clone();
    filed.environment = Default::default();
    filed.env_files = vec![
        EnvFile {
            path: format!("{fixture_dir}/base.env"),
            required: true,
            format: String::new(),
        },
        EnvFile {
            path: format!("{fixture_dir}/optional.env"),
            required: false,
            format: String::new(),
        },
    ];
    let recorded = read("07-environment", "hash");
    let want = recorded
        .lines()
        .find_map(|l| l.strip_prefix("filed "))
        .expect("filed's hash");
    assert_eq!(service_hash(&filed), want);
}
