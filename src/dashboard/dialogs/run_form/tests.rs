//! The run form's checks and the create spec its fields make.

use super::*;
use serde_json::json;

fn form(f: impl FnOnce(&mut RunValues)) -> Result<RunRequest, (Field, String)> {
    let mut v = RunValues {
        image: "busybox".into(),
        network: "bridge".into(),
        detach: true,
        ..Default::default()
    };
    f(&mut v);
    v.build()
}

#[test]
fn fields_map_to_the_create_spec() {
    let r = form(|v| {
        v.name = "web".into();
        v.ports = "8080:80, 8443:443/tcp".into();
        v.env = "A=1, B=x,y".into();
        v.volumes = "data:/data, /srv:/c:ro".into();
        v.command = "sh -c 'echo hi; sleep 9'".into();
        v.rm = true;
    })
    .unwrap();
    assert_eq!(r.endpoint().path, "/containers/create?name=web");
    let (c, h) = (&r.spec.config, r.spec.host_config.as_ref().unwrap());
    assert_eq!(c.image, "busybox");
    assert_eq!(
        c.cmd,
        Some(vec!["sh".into(), "-c".into(), "echo hi; sleep 9".into()])
    );
    assert_eq!(c.env, ["A=1", "B=x,y"]);
    assert!(!c.tty);
    assert!(h.auto_remove);
    assert_eq!(h.network_mode, "bridge");
    assert_eq!(h.extra["Binds"], json!(["data:/data", "/srv:/c:ro"]));
    assert_eq!(
        h.extra["PortBindings"]["80/tcp"],
        json!([{"HostIp": "", "HostPort": "8080"}])
    );
    assert!(c.exposed_ports.as_ref().unwrap()["443/tcp"].is_object());
    // On the wire: docker's field names.
    let b = r.endpoint().body.unwrap();
    assert_eq!(b["Image"], "busybox");
    assert_eq!(b["HostConfig"]["AutoRemove"], true);
}

#[test]
fn attached_runs_get_a_terminal() {
    let r = form(|v| v.detach = false).unwrap();
    assert_eq!(r.endpoint().path, "/containers/create");
    let c = &r.spec.config;
    assert!(c.tty && c.open_stdin && c.attach_stdin && c.stdin_once);
    assert_eq!(c.cmd, None);
    assert!(r.endpoint().body.unwrap()["Cmd"].is_null());
}

#[test]
fn bad_fields_say_which_and_why() {
    let e = |f: fn(&mut RunValues)| form(f).unwrap_err();
    assert_eq!(e(|v| v.image = " ".into()).0, Field::Image);
    assert_eq!(e(|v| v.name = "-x".into()).0, Field::Name);
    let (f, why) = e(|v| v.ports = "8080:80, 99999:80".into());
    assert_eq!(f, Field::Ports);
    assert!(why.starts_with("99999:80"), "{why}");
    assert_eq!(e(|v| v.env = "=2, A=1".into()).0, Field::Env);
    assert_eq!(e(|v| v.env = "JUSTNAME".into()).0, Field::Env);
    assert_eq!(e(|v| v.volumes = ":/x".into()).0, Field::Volumes);
    assert_eq!(e(|v| v.network = "a b".into()).0, Field::Network);
    assert_eq!(e(|v| v.command = "echo 'unclosed".into()).0, Field::Command);
}

#[test]
fn values_starting_with_a_dash_are_not_flags() {
    let r = form(|v| v.command = "--help -x".into()).unwrap();
    assert_eq!(r.spec.config.cmd, Some(vec!["--help".into(), "-x".into()]));
    let r = form(|v| v.env = "A=-1".into()).unwrap();
    assert_eq!(r.spec.config.env, ["A=-1"]);
}

#[test]
fn engine_errors_point_at_a_field() {
    assert_eq!(
        field_of_engine_error("Conflict. The container name \"/web\" is already in use"),
        Some(Field::Name)
    );
    assert_eq!(
        field_of_engine_error("No such image: nope:latest"),
        Some(Field::Image)
    );
    assert_eq!(field_of_engine_error("something else"), None);
}
