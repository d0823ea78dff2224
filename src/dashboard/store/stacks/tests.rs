//! Stacks derived from containers and files, and what a load's answer changes.

use serde_json::json;

use super::derive::stacks;
use super::*;
use crate::dashboard::store::Store;

fn container(name: &str, project: &str, service: &str, state: &str) -> serde_json::Value {
    json!({"Id": name, "Names": [format!("/{name}")], "Image": "busybox", "ImageID": "",
           "Command": "", "Created": 0, "Ports": [], "State": state, "Status": "",
           "Mounts": [], "Labels": {"com.docker.compose.project": project,
                                    "com.docker.compose.service": service}})
}

fn file(files: &str, opened: bool, loaded: Option<Result<StackInfo, String>>) -> StackFile {
    StackFile {
        files: vec![files.into()],
        working_dir: None,
        name: None,
        opened,
        profiles: Vec::new(),
        loading: false,
        loaded,
    }
}

fn info(name: &str, services: &[&str]) -> StackInfo {
    StackInfo {
        name: name.into(),
        services: services
            .iter()
            .map(|s| ServiceInfo {
                name: s.to_string(),
                image: format!("{s}:1"),
                scale: 1,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn store(rows: Vec<serde_json::Value>) -> Store {
    let mut s = Store::default();
    s.set_containers(serde_json::from_value(json!(rows)).unwrap());
    s
}

#[test]
fn projects_from_labels_with_docker_compose_ls_status() {
    let s = store(vec![
        container("shop-web-1", "shop", "web", "running"),
        container("shop-web-2", "shop", "web", "running"),
        container("shop-db-1", "shop", "db", "exited"),
        container("loose", "", "", "running"),
    ]);
    let all = stacks(&s);
    // A container with an empty project label still names a project "" (as docker compose
    // would list it); the real ones are what matter here.
    let shop = all.iter().find(|x| x.name == "shop").unwrap();
    assert_eq!(shop.status(&s), "exited(1), running(2)");
    assert_eq!(shop.services_text(), "1/2");
    let web = shop.service("web").unwrap();
    assert_eq!((web.running, web.state.as_str()), (2, "running"));
    assert_eq!(shop.service("db").unwrap().state, "exited");
}

#[test]
fn an_opened_file_without_containers_is_not_running_with_its_services() {
    let mut s = store(vec![]);
    s.stack_files.push(file(
        "todo.yaml",
        true,
        Some(Ok(info("todo", &["api", "db"]))),
    ));
    // A label's file whose project has no containers left is not listed.
    s.stack_files
        .push(file("old.yaml", false, Some(Ok(info("old", &["x"])))));
    let all = stacks(&s);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "todo");
    assert_eq!(all[0].status(&s), "not running");
    assert_eq!(all[0].services_text(), "0/2");
    assert_eq!(all[0].services[0].state, "not created");
    assert_eq!(all[0].services[0].scale, Some(1));
}

#[test]
fn a_file_joins_its_project_and_an_opened_one_wins() {
    let mut s = store(vec![container("shop-web-1", "shop", "web", "running")]);
    let mut label = file("/srv/shop/compose.yaml", false, None);
    label.name = Some("shop".into());
    s.stack_files.push(label);
    s.stack_files.push(file(
        "shop.yaml",
        true,
        Some(Ok(info("shop", &["web", "cache"]))),
    ));
    let all = stacks(&s);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].file, Some(1));
    assert_eq!(all[0].services_text(), "1/2");
    let target = all[0].target(&s);
    assert_eq!(target.load.unwrap().files, vec!["shop.yaml"]);
}

#[test]
fn a_load_answer_lands_on_its_entry() {
    let mut files = vec![file("a.yaml", true, None)];
    files[0].loading = true;
    apply_loaded(&mut files, "a.yaml", Err("bad".into()));
    assert!(!files[0].loading);
    assert_eq!(files[0].error(), Some("bad"));
    assert_eq!(files[0].project_name(), "a.yaml");
    apply_loaded(&mut files, "a.yaml", Ok(info("a", &[])));
    assert_eq!(files[0].project_name(), "a");
    // An answer for a file nobody asked for changes nothing.
    apply_loaded(&mut files, "b.yaml", Err("x".into()));
    assert_eq!(files.len(), 1);
}

#[test]
fn verbs_and_their_titles() {
    assert_eq!(
        StackOp::Down { volumes: true }.title("shop"),
        "down -v shop"
    );
    assert_eq!(
        StackOp::Scale {
            service: "web".into(),
            replicas: 3
        }
        .title("shop"),
        "scale shop web=3"
    );
    assert!(StackOp::Up.needs_file());
    assert!(!StackOp::Down { volumes: false }.needs_file());
    assert!(!StackOp::Restart.needs_file());
}
