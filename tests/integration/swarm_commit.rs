//! What a non-swarm dockerd answers on the swarm routes, `GET /distribution/{name}/json` against
//! Debian's docker-registry, and `docker commit` through the API and the stock docker CLI (the
//! committed image's config, history and event, and running it).

use crate::common;

use serde_json::json;

use common::api::run_detached;
use common::registry::{host_arch, write_multiarch_layout, Compression, Layer, OciImage, Registry};
use common::{image, ok, stderr, stdout, TestEngine};

const NOT_A_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \
\"docker swarm join\" to connect this node to swarm and try again.";

#[test]
fn swarm_routes_answer_as_a_node_outside_a_swarm() {
    let e = TestEngine::start();
    for (method, path) in [
        ("GET", "/swarm"),
        ("GET", "/v1.44/swarm"),
        ("GET", "/swarm/unlockkey"),
        ("POST", "/swarm/update?version=1"),
        ("GET", "/nodes"),
        ("DELETE", "/nodes/x"),
        ("GET", "/services"),
        ("POST", "/services/create"),
        ("GET", "/services/x/logs?stdout=1"),
        ("GET", "/tasks"),
        ("GET", "/v1.41/tasks/x"),
        ("GET", "/secrets"),
        ("POST", "/secrets/create"),
        ("DELETE", "/configs/x"),
        ("POST", "/configs/x/update?version=3"),
    ] {
        let r = e.api(method, path, Some("{}"));
        assert_eq!(r.status, 503, "{method} {path}: {}", r.text());
        assert_eq!(r.message(), NOT_A_MANAGER, "{method} {path}");
    }
    for path in [
        "/swarm/leave",
        "/swarm/leave?force=1",
        "/v1.44/swarm/leave?force=1",
    ] {
        let r = e.api("POST", path, None);
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.message(), "This node is not part of a swarm");
    }
    // dockerd's argument checks come before the cluster is asked.
    for (method, path, status, message) in [
        (
            "POST",
            "/swarm/init",
            400,
            "invalid ListenAddr \"\": invalid empty address",
        ),
        (
            "POST",
            "/swarm/update",
            400,
            "invalid swarm version '': strconv.ParseUint: parsing \"\": invalid syntax",
        ),
        ("POST", "/secrets/x/update", 400, "invalid secret version"),
        (
            "GET",
            "/tasks/x/logs",
            500,
            "Bad parameters: you must choose at least one stream",
        ),
        ("DELETE", "/swarm", 404, "page not found"),
        ("GET", "/nodes/x/y", 404, "page not found"),
    ] {
        let r = e.api(method, path, Some("{}"));
        assert_eq!(r.status, status, "{method} {path}: {}", r.text());
        assert_eq!(r.message(), message, "{method} {path}");
    }
    let r = e.api(
        "POST",
        "/swarm/join",
        Some(r#"{"ListenAddr":"0.0.0.0:2377"}"#),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "at least 1 RemoteAddr is required to join");

    let o = e.docker(&["swarm", "leave", "--force"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("This node is not part of a swarm"),
        "{}",
        stderr(&o)
    );
    let o = e.docker(&["service", "ls"]);
    assert!(
        stderr(&o).contains("This node is not a swarm manager"),
        "{}",
        stderr(&o)
    );
    let info = e.api_json("GET", "/info", None);
    assert_eq!(info["Swarm"]["LocalNodeState"], "inactive");
}

#[test]
fn distribution_inspect_reads_the_registry() {
    let reg = Registry::start();
    let e = TestEngine::start();
    let img = || {
        OciImage::new(host_arch())
            .raw_layer(image::busybox_rootfs_tar(), Compression::Gzip)
            .layer(Layer::new(Compression::None).file("hello", b"hi\n"))
    };
    let dir = tempfile::tempdir().unwrap();
    let w = img().write_layout(dir.path(), "v1");
    reg.push_layout(dir.path(), "single:v1");
    let r = e.api(
        "GET",
        &format!("/distribution/{}/single:v1/json", reg.addr),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["Descriptor"]["digest"], w.manifest_digest.as_str(), "{v}");
    assert!(v["Descriptor"]["size"].as_u64().unwrap() > 0);
    assert!(v["Descriptor"]["mediaType"]
        .as_str()
        .unwrap()
        .contains("manifest"));
    assert_eq!(
        v["Platforms"],
        json!([{ "architecture": host_arch(), "os": "linux" }])
    );

    let other = if host_arch() == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    let dir = tempfile::tempdir().unwrap();
    let (index_digest, _) = write_multiarch_layout(
        dir.path(),
        "v1",
        &[
            img(),
            OciImage::new(other).raw_layer(image::busybox_rootfs_tar(), Compression::Gzip),
        ],
    );
    reg.push_layout(dir.path(), "multi:v1");
    let v = e.api_json(
        "GET",
        &format!("/v1.44/distribution/{}/multi:v1/json", reg.addr),
        None,
    );
    assert_eq!(v["Descriptor"]["digest"], index_digest.as_str(), "{v}");
    let archs: Vec<_> = v["Platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["architecture"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        archs.contains(&host_arch().to_owned()) && archs.contains(&other.to_owned()),
        "{v}"
    );

    let r = e.api(
        "GET",
        &format!("/distribution/{}/nosuch:v1/json", reg.addr),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = e.api("GET", "/distribution/UPPER/x/json", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.message().contains("must be lowercase"), "{}", r.message());
    let r = e.api("GET", "/distribution/localhost:1/foo/json", None);
    assert_eq!(r.status, 500, "{}", r.text());
}

#[test]
fn commit_through_the_api_makes_an_image_with_the_containers_changes() {
    let e = TestEngine::with_busybox();
    let id = run_detached(
        &e,
        json!({
            "Image": "busybox",
            "Env": ["FOO=bar"],
            "Cmd": ["sh", "-c", "echo hi > /hello; sleep 300"],
        }),
    );
    common::eventually(std::time::Duration::from_secs(10), || {
        let r = e.api(
            "GET",
            &format!("/containers/{id}/archive?path=/hello"),
            None,
        );
        (r.status == 200).then_some(())
    })
    .expect("the container wrote /hello");
    let since = common::unix_now();
    let q = "container={id}&repo=committed&tag=t1&comment=msg&author=me\
             &changes=CMD%20%5B%22cat%22%2C%22%2Fhello%22%5D&changes=ENV%20A%3D1\
             &changes=EXPOSE%2080&changes=LABEL%20x%3Dy&changes=WORKDIR%20%2Fw\
             &changes=USER%20nobody&changes=VOLUME%20%2Fv&changes=ONBUILD%20RUN%20true";
    let r = e.api("POST", &format!("/commit?{}", q.replace("{id}", &id)), None);
    assert_eq!(r.status, 201, "{}\n{}", r.text(), e.log());
    let image_id = r.json()["Id"].as_str().unwrap().to_owned();
    assert!(image_id.starts_with("sha256:"), "{image_id}");

    let i = e.api_json("GET", "/images/committed:t1/json", None);
    assert_eq!(i["Id"], image_id.as_str());
    assert_eq!(i["Author"], "me");
    assert_eq!(i["Comment"], "msg");
    let c = &i["Config"];
    assert_eq!(c["Cmd"], json!(["cat", "/hello"]), "{i}");
    // berth records the default PATH in a container's Env at create; the rest is dockerd's.
    let env = c["Env"].as_array().unwrap();
    assert_eq!(
        env[env.len() - 2..],
        [json!("FOO=bar"), json!("A=1")],
        "{i}"
    );
    assert!(
        !env.iter()
            .any(|e| e.as_str().unwrap().starts_with("HOSTNAME=")),
        "{i}"
    );
    assert_eq!(c["ExposedPorts"], json!({ "80/tcp": {} }));
    assert_eq!(c["Labels"]["x"], "y");
    assert_eq!(c["WorkingDir"], "/w");
    assert_eq!(c["User"], "nobody");
    assert_eq!(c["Volumes"], json!({ "/v": {} }));
    assert_eq!(c["OnBuild"], json!(["RUN true"]));
    let base = e.api_json("GET", "/images/busybox/json", None);
    assert_eq!(i["Parent"], base["Id"]);
    assert_eq!(
        i["RootFS"]["Layers"].as_array().unwrap().len(),
        base["RootFS"]["Layers"].as_array().unwrap().len() + 1
    );
    let h = e.api_json("GET", "/images/committed:t1/history", None);
    assert_eq!(h[0]["Comment"], "msg", "{h}");
    assert_eq!(
        h[0]["CreatedBy"], "sh -c echo hi > /hello; sleep 300",
        "{h}"
    );
    // The container still runs, thawed, and its own upper dir is intact.
    let st = e.api_json("GET", &format!("/containers/{id}/json"), None);
    assert_eq!(st["State"]["Status"], "running", "{st}");

    let ev = e.api(
        "GET",
        &format!(
            "/events?since={since}&until={}&filters=%7B%22event%22%3A%5B%22commit%22%5D%7D",
            common::unix_now() + 1
        ),
        None,
    );
    let line = ev.text();
    let ev: serde_json::Value =
        serde_json::from_str(line.lines().next().expect("a commit event")).unwrap();
    assert_eq!(ev["Type"], "container");
    assert_eq!(ev["Actor"]["ID"], id.as_str());
    assert_eq!(ev["Actor"]["Attributes"]["imageID"], image_id.as_str());
    assert_eq!(ev["Actor"]["Attributes"]["imageRef"], "committed:t1");
    assert_eq!(ev["Actor"]["Attributes"]["comment"], "msg");

    // ENTRYPOINT without CMD clears the command, as dockerd; invalid commands are 400s.
    let r = e.api(
        "POST",
        &format!("/commit?container={id}&pause=0&changes=ENTRYPOINT%20%5B%22x%22%5D"),
        None,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let i = e.api_json(
        "GET",
        &format!("/images/{}/json", r.json()["Id"].as_str().unwrap()),
        None,
    );
    assert_eq!(i["Config"]["Entrypoint"], json!(["x"]));
    assert!(i["Config"]["Cmd"].is_null(), "{i}");
    let r = e.api(
        "POST",
        &format!("/commit?container={id}&changes=RUN%20true"),
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "run is not a valid change command");
    let r = e.api("POST", "/commit?container=nosuch", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "No such container: nosuch");
    let _ = e.api("POST", &format!("/containers/{id}/kill"), None);
}

#[test]
fn docker_commit_then_run_the_committed_image() {
    let e = TestEngine::with_busybox();
    ok(&e.docker(&[
        "run",
        "--name",
        "cc",
        "busybox",
        "sh",
        "-c",
        "echo changed > /data.txt",
    ]));
    let id = ok(&e.docker(&[
        "commit",
        "-c",
        r#"CMD ["cat","/data.txt"]"#,
        "-m",
        "msg",
        "-a",
        "me",
        "cc",
        "repo:tag",
    ]));
    assert!(id.trim().starts_with("sha256:"), "{id}");
    let o = e.docker(&["run", "--rm", "repo:tag"]);
    assert_eq!(stdout(&o), "changed\n", "{}", stderr(&o));
    let fmt = ok(&e.docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}",
        "repo:tag",
    ]));
    assert_eq!(fmt.trim(), r#"me|msg|["cat","/data.txt"]"#);
    let hist = ok(&e.docker(&[
        "history",
        "--no-trunc",
        "--format",
        "{{.Comment}}|{{.CreatedBy}}",
        "repo:tag",
    ]));
    assert!(
        hist.lines()
            .next()
            .unwrap()
            .starts_with("msg|sh -c echo changed > /data.txt"),
        "{hist}"
    );
    // A container that changed nothing gives an empty layer.
    ok(&e.docker(&["create", "--name", "c2", "busybox", "true"]));
    ok(&e.docker(&["commit", "c2", "empty"]));
    let h = e.api_json("GET", "/images/empty/history", None);
    assert_eq!(h[0]["Size"], 0, "{h}");
}
