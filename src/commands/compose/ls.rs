//! `berth compose ls`: the compose projects on the engine (any tool's: found by docker
//! compose's labels), as docker compose lists them: NAME STATUS CONFIG FILES in its
//! 20-column table, a JSON array, or the names alone.

use anyhow::Result;
use serde::Serialize;

use super::args::LsArgs;
use super::target::fail;
use crate::commands::{out, Ctx};
use crate::compose::observed::{self, ProjectSummary};
use crate::format::table::TabWriter;

/// One project as `ls` shows it (docker compose's `stackView`, in its field order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StackView {
    name: String,
    status: String,
    config_files: String,
}

/// docker compose's `--filter`: `name` only, a regular expression matched anywhere in the
/// project name (docker's filter `Match`); several values mean any of them.
struct NameFilter(Vec<regex::Regex>);

impl NameFilter {
    fn parse(flags: &[String]) -> Result<NameFilter> {
        let mut res = Vec::new();
        for f in flags {
            let Some((key, value)) = f.split_once('=') else {
                return Err(fail(format!(
                    "invalid argument {f:?} for \"--filter\" flag: bad format of filter (expected name=value)"
                )));
            };
            let key = key.trim().to_lowercase();
            if key != "name" {
                return Err(fail(format!("invalid filter '{key}'")));
            }
            // docker's Match falls back to equality for a value that is no valid expression.
            let re = regex::Regex::new(value)
                .unwrap_or_else(|_| regex::Regex::new(&regex::escape(value)).expect("escaped"));
            res.push(re);
        }
        Ok(NameFilter(res))
    }

    fn keeps(&self, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|re| re.is_match(name))
    }
}

/// docker compose's `PrintPrettySection`: a tabwriter of minimum width 20 and padding 3.
pub fn pretty_section(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut text = headers.join("\t");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    TabWriter::new(20, 3).format(&text)
}

/// The output for these projects in `format` (table, pretty, json).
fn render(list: &[ProjectSummary], format: &str) -> Result<String> {
    let view: Vec<StackView> = list
        .iter()
        .map(|p| StackView {
            name: p.name.clone(),
            status: p.status().trim().to_string(),
            config_files: p.config_files.clone(),
        })
        .collect();
    match format.to_lowercase().as_str() {
        "" | "table" | "pretty" => {
            let rows: Vec<Vec<String>> = view
                .iter()
                .map(|s| vec![s.name.clone(), s.status.clone(), s.config_files.clone()])
                .collect();
            Ok(pretty_section(&["NAME", "STATUS", "CONFIG FILES"], &rows))
        }
        // Go's encoder without HTML escaping, then its newline.
        "json" => Ok(serde_json::to_string(&view)? + "\n"),
        _ => Err(fail(format!(
            "format value {format:?} could not be parsed: parsing failed"
        ))),
    }
}

pub async fn run(ctx: &Ctx, a: LsArgs) -> Result<i32> {
    let filter = NameFilter::parse(&a.filter)?;
    let client = ctx.client().await?;
    let list: Vec<ProjectSummary> = observed::projects(&client, a.all)
        .await?
        .into_iter()
        .filter(|p| filter.keeps(&p.name))
        .collect();
    if a.quiet {
        out(&list
            .iter()
            .map(|p| format!("{}\n", p.name))
            .collect::<String>());
        return Ok(0);
    }
    out(&render(&list, a.format.as_deref().unwrap_or("table"))?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn project(name: &str, states: &[(&str, usize)]) -> ProjectSummary {
        ProjectSummary {
            name: name.into(),
            states: states
                .iter()
                .map(|(s, n)| (s.to_string(), *n))
                .collect::<BTreeMap<_, _>>(),
            config_files: format!("/tmp/cv/{name}/compose.yaml"),
            working_dir: String::new(),
        }
    }

    /// What docker compose v2.40.3 printed for the same project (`ls`, `ls -a`, `--format json`).
    #[test]
    fn as_docker_compose_prints_it() {
        let running = [project("demo", &[("running", 3)])];
        assert_eq!(
            render(&running, "table").unwrap(),
            "NAME                STATUS              CONFIG FILES\n\
             demo                running(3)          /tmp/cv/demo/compose.yaml\n"
        );
        let all = [project("demo", &[("running", 3), ("exited", 1)])];
        assert_eq!(
            render(&all, "table").unwrap(),
            "NAME                STATUS                  CONFIG FILES\n\
             demo                exited(1), running(3)   /tmp/cv/demo/compose.yaml\n"
        );
        assert_eq!(
            render(&running, "json").unwrap(),
            "[{\"Name\":\"demo\",\"Status\":\"running(3)\",\"ConfigFiles\":\"/tmp/cv/demo/compose.yaml\"}]\n"
        );
        assert_eq!(render(&[], "json").unwrap(), "[]\n");
        assert_eq!(
            render(&running, "foo").unwrap_err().to_string(),
            "format value \"foo\" could not be parsed: parsing failed"
        );
    }

    #[test]
    fn name_filters_are_expressions() {
        let f = NameFilter::parse(&["name=de".into()]).unwrap();
        assert!(f.keeps("demo"));
        assert!(!f.keeps("web"));
        let f = NameFilter::parse(&["name=^d.*o$".into(), "name=web".into()]).unwrap();
        assert!(f.keeps("demo") && f.keeps("myweb"));
        assert_eq!(
            NameFilter::parse(&["foo=bar".into()])
                .err()
                .unwrap()
                .to_string(),
            "invalid filter 'foo'"
        );
        assert!(NameFilter::parse(&["name".into()]).is_err());
    }
}
