//! The /images API over a real hyper connection on a unix socket: a streamed import (the body is
//! produced chunk by chunk and never held whole), list, inspect, tag and delete.

use std::sync::Arc;
use std::time::Instant;

use berth_engine::api::query::Query;
use berth_engine::api::response::error_response;
use berth_engine::api::{images, ApiRequest};
use berth_engine::config::EngineOptions;
use berth_engine::runtime::selfexe::ShimExecutable;
use berth_engine::service::container::ContainerService;
use berth_engine::service::image::ImageService;
use berth_engine::service::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};

async fn serve(engine: Arc<Engine>, listener: UnixListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let engine = engine.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let engine = engine.clone();
                async move {
                    let segments: Vec<String> = req
                        .uri()
                        .path()
                        .trim_start_matches('/')
                        .split('/')
                        .map(str::to_owned)
                        .collect();
                    let method = req.method().clone();
                    assert!(images::matches(&method, &segments), "{segments:?}");
                    let r = ApiRequest {
                        backend: engine,
                        method,
                        segments,
                        query: Query::parse(req.uri().query()),
                        api_version: "1.44".into(),
                        req: req.map(BodyExt::boxed),
                    };
                    let resp = match images::handle(r).await {
                        Ok(r) => r,
                        Err(e) => error_response(&e),
                    };
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

type ClientBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn call(
    sock: &std::path::Path,
    method: Method,
    uri: &str,
    body: ClientBody,
) -> (StatusCode, Vec<u8>) {
    let stream = UnixStream::connect(sock).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("Host", "docker")
        .body(body)
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let data = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, data)
}

fn empty() -> ClientBody {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// A tar holding one file of `size` bytes, produced in 1 MiB chunks.
fn streamed_tar(size: u64) -> ClientBody {
    let mut h = tar::Header::new_gnu();
    h.set_path("big.bin").unwrap();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let header = Bytes::copy_from_slice(h.as_bytes());
    let chunk = Bytes::from(vec![0x5au8; 1 << 20]);
    let mut chunks = vec![header];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        chunks.push(chunk.slice(..n));
        left -= n as u64;
    }
    let pad = (512 - size % 512) % 512;
    chunks.push(Bytes::from(vec![0u8; pad as usize + 1024]));
    let stream = futures_util::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Frame::data(c))),
    );
    BodyExt::boxed(StreamBody::new(stream))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_api_import_list_inspect_tag_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let data_root = tmp.path().join("data");
    let containers = ContainerService::open(
        &data_root,
        ShimExecutable::from_file("/bin/true".as_ref()).unwrap(),
    )
    .unwrap();
    containers.load();
    containers.reconcile().await;
    let engine = Arc::new(Engine {
        engine_id: "test".into(),
        options: EngineOptions::default(),
        launch: berth_engine::supervisor::Launch::of_this_process(
            &tmp.path().join("berth.sock"),
            &data_root,
            &data_root.join(berth_engine::pidfile::FILE_NAME),
            false,
        ),
        images: ImageService::open(&data_root).unwrap(),
        builds: berth_engine::service::build::BuildService::open(&data_root).unwrap(),
        execs: berth_engine::service::container::exec::ExecService::new(containers.clone()),
        volumes: berth_engine::service::volume::VolumeService::open(
            &data_root,
            containers.events().clone(),
            &containers,
        )
        .unwrap(),
        containers,
        data_root,
        stats: Default::default(),
        networks: berth_engine::service::network::NetworkService::open_offline(
            &tmp.path().join("data"),
            Default::default(),
            Default::default(),
        )
        .unwrap(),
        pulls: Arc::new(berth_engine::service::image::pull::PullService::new(
            berth_engine::registry::RegistryClient::new(Default::default()).unwrap(),
        )),
        known_blobs: Arc::new(berth_engine::service::image::push::KnownBlobs::open(
            &tmp.path().join("data"),
        )),
    });
    let sock = tmp.path().join("api.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    tokio::spawn(serve(engine.clone(), listener));

    let size = 64u64 << 20;
    let start = Instant::now();
    let (status, body) = call(
        &sock,
        Method::POST,
        "/images/create?fromSrc=-&repo=big:1&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3D1&message=hi",
        streamed_tar(size),
    )
    .await;
    let secs = start.elapsed().as_secs_f64();
    eprintln!("imported {} MiB in {secs:.2}s", size >> 20);
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let id = last["status"].as_str().expect(&text).to_string();
    assert!(id.starts_with("sha256:"));

    let (status, body) = call(&sock, Method::GET, "/images/json", empty()).await;
    assert_eq!(status, StatusCode::OK);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list[0]["Id"], id.as_str());
    assert_eq!(list[0]["RepoTags"][0], "big:1");
    assert_eq!(list[0]["Size"], size);

    let (status, body) = call(&sock, Method::GET, "/images/big:1/json", empty()).await;
    assert_eq!(status, StatusCode::OK);
    let ins: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ins["Config"]["Cmd"][0], "sh");
    assert_eq!(ins["Config"]["Env"][0], "A=1");
    assert_eq!(ins["Comment"], "hi");
    assert_eq!(ins["RootFS"]["Type"], "layers");

    let (status, _) = call(
        &sock,
        Method::POST,
        "/images/big:1/tag?repo=host:5000/team/big&tag=2",
        empty(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(
        &sock,
        Method::GET,
        "/images/host:5000/team/big:2/json",
        empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    let (status, body) = call(&sock, Method::GET, "/images/nope/json", empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["message"],
        "No such image: nope:latest"
    );
    let (status, body) = call(
        &sock,
        Method::POST,
        "/images/create?fromImage=127.0.0.1:1/busybox&tag=latest",
        empty(),
    )
    .await;
    // A pull from a registry nobody serves fails before the progress stream starts, with the
    // connection error (docker answers 500 there too).
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        String::from_utf8_lossy(&body).contains("127.0.0.1:1"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _) = call(
        &sock,
        Method::POST,
        "/images/create?fromSrc=-&changes=FROM%20x",
        empty(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A bad archive fails inside the progress stream.
    let bad = http_body_util::Full::new(Bytes::from_static(
        b"this is not a tar archive, not even close........",
    ))
    .map_err(|never| match never {})
    .boxed();
    let (status, body) = call(&sock, Method::POST, "/images/create?fromSrc=-", bad).await;
    assert_eq!(status, StatusCode::OK);
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8(body).unwrap().lines().last().unwrap()).unwrap();
    assert!(last["errorDetail"]["message"].is_string(), "{last}");
    assert_eq!(last["error"], last["errorDetail"]["message"]);

    let (status, body) = call(
        &sock,
        Method::DELETE,
        &format!("/images/{}", &id[7..19]),
        empty(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "two repositories need force");
    assert!(String::from_utf8_lossy(&body).contains("referenced in multiple repositories"));
    let (status, body) = call(
        &sock,
        Method::DELETE,
        &format!("/images/{}?force=1", &id[7..19]),
        empty(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let items: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let items = items.as_array().unwrap();
    assert!(items.iter().any(|i| i["Untagged"] == "big:1"));
    assert!(items
        .iter()
        .any(|i| i["Untagged"] == "host:5000/team/big:2"));
    assert!(items.iter().any(|i| i["Deleted"] == id.as_str()));
    assert_eq!(engine.images.count(), 0);
}
