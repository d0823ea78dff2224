//! The Stacks view: empty, a few projects (running, stopped, from labels, an opened file not
//! up yet, a file that does not load), a project unfolded into its services, the down,
//! profiles and open dialogs, the effective config, and the compose verbs each key queues.

use insta::assert_snapshot;
use serde_json::{json, Value};

use crate::dashboard::app::App;
use crate::dashboard::msg::{Effect, FeedRequest, Msg};
use crate::dashboard::store::stacks::{ServiceInfo, StackInfo, StackLoad, StackOp, StackRun};
use crate::dashboard::testing::*;

/// A compose container as docker compose labels it.
fn compose_container(project: &str, service: &str, n: u32, state: &str) -> Value {
    let mut c = container(&format!("{project}-{service}-{n}"), state, Some(project));
    let l = &mut c["Labels"];
    l["com.docker.compose.service"] = json!(service);
    l["com.docker.compose.container-number"] = json!(n.to_string());
    l["com.docker.compose.project.config_files"] = json!(format!("/srv/{project}/compose.yaml"));
    l["com.docker.compose.project.working_dir"] = json!(format!("/srv/{project}"));
    c
}

fn info(name: &str, services: &[(&str, &str, i64)], profiles: &[&str]) -> StackInfo {
    StackInfo {
        name: name.into(),
        working_dir: format!("/srv/{name}"),
        config_files: vec![format!("/srv/{name}/compose.yaml")],
        services: services
            .iter()
            .map(|(n, image, scale)| ServiceInfo {
                name: n.to_string(),
                image: image.to_string(),
                scale: *scale,
                ports: Vec::new(),
                build: false,
            })
            .collect(),
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        yaml: format!("name: {name}\nservices:\n  web:\n    image: nginx\n"),
    }
}

/// The stack requests among the effects.
fn stack_runs(effects: &[Effect]) -> Vec<StackRun> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                FeedRequest::Stack(run) => Some(run.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn loads(effects: &[Effect]) -> Vec<StackLoad> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Feed(r) => match &r.0 {
                FeedRequest::LoadStack(l) => Some(l.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// shop (web ×2 healthy with a port, db) running; blog stopped; `todo` opened from a file and
/// not up; `broken.yaml` opened and refused.
fn few() -> App {
    let mut a = app();
    let mut web1 = compose_container("shop", "web", 1, "running");
    web1["Status"] = json!("Up 5 minutes (healthy)");
    web1["Ports"] =
        json!([{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"}]);
    let mut web2 = compose_container("shop", "web", 2, "running");
    web2["Status"] = json!("Up 5 minutes (healthy)");
    set_containers(
        &mut a,
        vec![
            web1,
            web2,
            compose_container("shop", "db", 1, "running"),
            compose_container("blog", "app", 1, "exited"),
            container("loose", "running", None),
        ],
    );
    // The labels' files were asked for; shop's answers, blog's is gone.
    let asked = loads(&a.take_effects());
    assert!(asked.is_empty(), "set_containers took them: {asked:?}");
    a.update(Msg::StackLoaded {
        key: "/srv/shop/compose.yaml".into(),
        result: Ok(info(
            "shop",
            &[
                ("web", "nginx:1.27", 2),
                ("db", "postgres:16", 1),
                ("cache", "redis:7", 1),
            ],
            &["debug"],
        )),
    });
    a.update(Msg::StackLoaded {
        key: "/srv/blog/compose.yaml".into(),
        result: Err("open /srv/blog/compose.yaml: no such file or directory".into()),
    });
    a.open_compose_files(vec!["todo/compose.yaml".into(), "broken.yaml".into()]);
    a.update(Msg::StackLoaded {
        key: "todo/compose.yaml".into(),
        result: Ok(info("todo", &[("api", "todo-api", 1)], &[])),
    });
    a.update(Msg::StackLoaded {
        key: "broken.yaml".into(),
        result: Err("broken.yaml:3:5: services.web.ports must be a list".into()),
    });
    press(&mut a, "7");
    a.take_effects();
    a
}

#[test]
fn empty() {
    let mut a = app();
    set_containers(&mut a, vec![]);
    press(&mut a, "7");
    assert_snapshot!(render(&mut a, 100, 10));
}

#[test]
fn label_files_are_read_once() {
    let mut a = app();
    let rows = vec![
        compose_container("shop", "web", 1, "running"),
        compose_container("shop", "db", 1, "running"),
    ];
    let list = serde_json::from_value(Value::Array(rows.clone())).unwrap();
    a.update(Msg::Containers(list));
    let asked = loads(&a.take_effects());
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].files, vec!["/srv/shop/compose.yaml"]);
    assert_eq!(asked[0].name.as_deref(), Some("shop"));
    assert_eq!(asked[0].working_dir.as_deref(), Some("/srv/shop"));
    let list = serde_json::from_value(Value::Array(rows)).unwrap();
    a.update(Msg::Containers(list));
    assert!(loads(&a.take_effects()).is_empty());
}

#[test]
fn a_few_projects() {
    let mut a = few();
    let s = render(&mut a, 140, 12);
    assert!(s.contains("running(3)") && s.contains("exited(1)"), "{s}");
    assert!(s.contains("not running") && s.contains("2 healthy"), "{s}");
    assert_snapshot!(s);
}

#[test]
fn narrow() {
    let mut a = few();
    assert_snapshot!(render(&mut a, 58, 10));
}

#[test]
fn unfolded_services() {
    let mut a = few();
    // blog, broken.yaml, shop, todo: shop is the third row.
    press(&mut a, "j j enter");
    let s = render(&mut a, 140, 14);
    assert!(
        s.contains("└ web") && s.contains("not created") && s.contains("2/2"),
        "{s}"
    );
    assert_snapshot!(s);
}

#[test]
fn service_keys_queue_single_service_verbs() {
    let mut a = few();
    press(&mut a, "j j enter j");
    // On the project row the service keys say what they need.
    press(&mut a, "k b");
    assert!(stack_runs(&a.take_effects()).is_empty());
    assert!(a.status().unwrap().1.contains("select a service"));
    // cache (not created, scale 1), db, web (2 containers).
    press(&mut a, "j b j R j +");
    let ops: Vec<StackOp> = stack_runs(&a.take_effects())
        .into_iter()
        .map(|r| r.op)
        .collect();
    assert_eq!(
        ops,
        vec![
            StackOp::Build {
                service: "cache".into()
            },
            StackOp::Recreate {
                service: "db".into()
            },
            StackOp::Scale {
                service: "web".into(),
                replicas: 3
            },
        ]
    );
    press(&mut a, "-");
    let run = &stack_runs(&a.take_effects())[0];
    assert_eq!(
        run.op,
        StackOp::Scale {
            service: "web".into(),
            replicas: 1
        }
    );
    assert_eq!(run.target.name, "shop");
    assert_eq!(
        run.target.load.as_ref().unwrap().files,
        vec!["/srv/shop/compose.yaml"]
    );
}

#[test]
fn up_needs_a_file_that_loads() {
    let mut a = few();
    // blog's file is gone: up says so, down and restart work from the name.
    press(&mut a, "u");
    assert!(stack_runs(&a.take_effects()).is_empty());
    assert!(
        a.status().unwrap().1.contains("no such file"),
        "{:?}",
        a.status()
    );
    press(&mut a, "r");
    let run = &stack_runs(&a.take_effects())[0];
    assert_eq!(
        (run.op.clone(), run.target.name.as_str()),
        (StackOp::Restart, "blog")
    );
    // todo (opened, not up): up queues, start/stop starts.
    press(&mut a, "j j j u s");
    let ops: Vec<StackOp> = stack_runs(&a.take_effects())
        .into_iter()
        .map(|r| r.op)
        .collect();
    assert_eq!(ops, vec![StackOp::Up, StackOp::Start]);
    let s = render(&mut a, 100, 6);
    assert!(s.contains("start todo"), "{s}");
    // shop runs: s stops it.
    press(&mut a, "k s");
    assert_eq!(stack_runs(&a.take_effects())[0].op, StackOp::Stop);
}

#[test]
fn down_asks_with_a_volumes_option() {
    let mut a = few();
    press(&mut a, "j j D");
    let s = render(&mut a, 100, 16);
    assert!(s.contains("Down shop") && s.contains("Volumes"), "{s}");
    assert_snapshot!(s);
    press(&mut a, "space enter");
    let run = &stack_runs(&a.take_effects())[0];
    assert_eq!(run.op, StackOp::Down { volumes: true });
    press(&mut a, "D enter");
    let run = &stack_runs(&a.take_effects())[0];
    assert_eq!(run.op, StackOp::Down { volumes: false });
}

#[test]
fn profiles_dialog_reloads_with_the_choice() {
    let mut a = few();
    press(&mut a, "j j P");
    assert_snapshot!(render(&mut a, 100, 14));
    press(&mut a, "space enter");
    let asked = loads(&a.take_effects());
    assert_eq!(asked[0].profiles, vec!["debug"]);
    assert_eq!(asked[0].name.as_deref(), Some("shop"));
}

#[test]
fn open_prompt_offers_the_discovered_file() {
    let mut a = few();
    a.update(Msg::ComposeDefault("./docker-compose.yml".into()));
    press(&mut a, "o");
    assert_snapshot!(render(&mut a, 100, 12));
    press(&mut a, "enter");
    let asked = loads(&a.take_effects());
    assert_eq!(asked[0].files, vec!["./docker-compose.yml"]);
    // A file that fails to load says why on the status line; the app keeps running.
    a.update(Msg::StackLoaded {
        key: "./docker-compose.yml".into(),
        result: Err("./docker-compose.yml: yaml: line 2: mapping values are not allowed".into()),
    });
    assert!(a.status().unwrap().1.contains("mapping values"));
}

#[test]
fn config_and_logs() {
    let mut a = few();
    press(&mut a, "j j c");
    let s = render(&mut a, 100, 14);
    assert!(
        s.contains("config shop") && s.contains("image: nginx"),
        "{s}"
    );
    assert_snapshot!(s);
    press(&mut a, "esc L");
    assert_eq!(a.current(), crate::dashboard::views::ViewId::Logs);
    let s = render(&mut a, 100, 6);
    assert!(s.contains("project shop"), "{s}");
}
