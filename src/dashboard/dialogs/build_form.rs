//! The build form (`b` in the images and builds views): context directory, Dockerfile, tags,
//! target and build args, checked before anything is sent, then built as a background task
//! whose progress (the current step, the latest output) shows in its dialog and the task list.
//! Reading the directory and sending it is the feed's job (`feed::build`); the form only says
//! what to build. A build that failed offers its values again, so nothing typed is lost.

use super::network_form::{Field, Form, Values};
use crate::dashboard::msg::BuildSpec;
use crate::dashboard::store::tasks::TaskState;
use crate::dashboard::store::Store;
use crate::dashboard::views::images::split_new_name;
use crate::dashboard::views::Cmd;

/// The form, filled with the last failed build's values when there is one (a fix and Enter
/// retries it), else the directory berth was started in.
pub fn open(store: &Store) -> Form {
    let retry = store
        .tasks
        .iter()
        .rev()
        .find(|t| t.build.is_some())
        .filter(|t| matches!(t.state, TaskState::Failed(_)))
        .and_then(|t| t.build.clone());
    form(retry.as_ref())
}

/// The form, with `spec`'s values or the defaults.
pub fn form(spec: Option<&BuildSpec>) -> Form {
    let (dir, dockerfile, tags, target, args) = match spec {
        Some(s) => (
            s.context_dir.display().to_string(),
            s.dockerfile.clone().unwrap_or_default(),
            s.tags.join(", "),
            s.target.clone().unwrap_or_default(),
            s.build_args
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => (
            ".".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ),
    };
    Form::new(
        "Build an image",
        vec![
            Field::text(
                "Context",
                &dir,
                "the directory to build (. is where berth started)",
            ),
            Field::text(
                "Dockerfile",
                &dockerfile,
                "empty: Dockerfile in the context",
            ),
            Field::text("Tags", &tags, "name[:tag], more with commas (optional)"),
            Field::text("Target", &target, "the stage to stop at (optional)"),
            Field::text("Build args", &args, "NAME=value, NAME2=value2 (optional)"),
        ],
        |v: &Values| {
            let spec = spec_of(v)?;
            Ok(vec![Cmd::StartBuild { spec, show: true }])
        },
    )
}

/// The form's values as a build, or what is wrong with them.
pub fn spec_of(v: &Values) -> Result<BuildSpec, String> {
    let dir = v.text(0);
    if dir.is_empty() {
        return Err("type the directory to build, e.g. . or ~/src/app".into());
    }
    let dockerfile = match v.text(1) {
        "" => None,
        d if d.contains(char::is_whitespace) => {
            return Err("a Dockerfile path has no spaces here".into())
        }
        d => Some(d.to_string()),
    };
    let tags = split_list(v.text(2))
        .map(|t| {
            let (repo, tag) = split_new_name(t)?;
            Ok(format!("{repo}:{tag}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let target = match v.text(3) {
        "" => None,
        t if t.contains(char::is_whitespace) => return Err("a target is one stage name".into()),
        t => Some(t.to_string()),
    };
    let build_args = parse_build_args(v.text(4))?;
    Ok(BuildSpec {
        context_dir: dir.into(),
        dockerfile,
        tags,
        target,
        build_args,
    })
}

/// Items separated by commas or spaces.
fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty())
}

/// `NAME=value` pairs separated by commas or spaces, in order (a name given twice: the last
/// wins, as with repeated `--build-arg`).
pub fn parse_build_args(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in split_list(s) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("build arg \"{pair}\" needs the form NAME=value"))?;
        if k.is_empty() {
            return Err(format!("build arg \"{pair}\" has an empty name"));
        }
        out.retain(|(old, _)| old != k);
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::network_form::Value;
    use super::*;

    fn values(fields: [&str; 5]) -> Values {
        Values(fields.iter().map(|f| Value::Text(f.to_string())).collect())
    }

    #[test]
    fn values_become_a_build_or_say_what_is_wrong() {
        let spec = spec_of(&values([
            " ~/src/shop ",
            "docker/Dockerfile.web",
            "shop/web:dev, shop/web registry:5000/web:1",
            "runtime",
            "VERSION=1.2, DEBUG=  VERSION=1.3",
        ]))
        .unwrap();
        assert_eq!(spec.context_dir.to_str(), Some("~/src/shop"));
        assert_eq!(spec.dockerfile.as_deref(), Some("docker/Dockerfile.web"));
        assert_eq!(
            spec.tags,
            vec!["shop/web:dev", "shop/web:latest", "registry:5000/web:1"]
        );
        assert_eq!(spec.target.as_deref(), Some("runtime"));
        assert_eq!(
            spec.build_args,
            vec![
                ("DEBUG".to_string(), String::new()),
                ("VERSION".to_string(), "1.3".to_string())
            ]
        );
        let minimal = spec_of(&values([".", "", "", "", ""])).unwrap();
        assert_eq!(minimal.dockerfile, None);
        assert!(minimal.tags.is_empty() && minimal.build_args.is_empty());
        assert!(spec_of(&values(["", "", "", "", ""]))
            .unwrap_err()
            .contains("directory"));
        assert!(spec_of(&values([".", "", "Shop/Web", "", ""]))
            .unwrap_err()
            .contains("lowercase"));
        assert!(spec_of(&values([".", "", "", "", "NOVALUE"]))
            .unwrap_err()
            .contains("NAME=value"));
        assert!(spec_of(&values([".", "", "", "", "=x"]))
            .unwrap_err()
            .contains("empty name"));
    }
}
