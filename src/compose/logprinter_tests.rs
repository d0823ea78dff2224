//! The printer against what docker compose v2.40.3 printed for the same lines (`docker compose
//! logs` piped, and under `script` for the colours), and the line splitter.

use super::*;

/// A writer tests can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn printer(options: PrinterOptions) -> (LogPrinter, Shared, Shared) {
    let (out, err) = (Shared::default(), Shared::default());
    let p = LogPrinter::with_writers(options, Box::new(out.clone()), Box::new(err.clone()));
    (p, out, err)
}

#[test]
fn prefixes_widen_as_names_arrive_like_docker_compose() {
    let (p, out, _) = printer(PrinterOptions::default());
    p.log("once-1", "one shot");
    p.log("web-1", "hello from web");
    p.log("web-1", "oops");
    p.log("database-2", "db ready");
    p.log("database-1", "db ready");
    assert_eq!(
        out.text(),
        "once-1  | one shot\n\
         web-1   | hello from web\n\
         web-1   | oops\n\
         database-2  | db ready\n\
         database-1  | db ready\n"
    );
}

#[test]
fn colours_in_docker_composes_order() {
    let (p, out, _) = printer(PrinterOptions {
        color: true,
        ..Default::default()
    });
    p.log("database-2", "db ready");
    p.log("database-1", "db ready");
    p.log("once-1", "one shot");
    p.log("web-1", "hello from web");
    assert_eq!(
        out.text(),
        "\x1b[36mdatabase-2  | \x1b[0mdb ready\n\
         \x1b[33mdatabase-1  | \x1b[0mdb ready\n\
         \x1b[32monce-1      | \x1b[0mone shot\n\
         \x1b[35mweb-1       | \x1b[0mhello from web\n"
    );
    for n in ["a", "b", "c", "d", "e", "f", "g"] {
        p.register(n);
    }
    // After the five basic colours come their intense variants, then the cycle restarts.
    assert_eq!(p.prefix("a"), "\x1b[34ma           | \x1b[0m");
    assert_eq!(p.prefix("b"), "\x1b[36;1mb           | \x1b[0m");
    assert_eq!(p.prefix("f"), "\x1b[34;1mf           | \x1b[0m");
    assert_eq!(p.prefix("g"), "\x1b[36mg           | \x1b[0m");
}

#[test]
fn no_prefix_status_lines_and_stderr() {
    let (p, out, err) = printer(PrinterOptions {
        prefix: false,
        ..Default::default()
    });
    p.log("web-1", "a\nb");
    p.err("web-1", "bad");
    p.status("web-1", "exited with code 0");
    assert_eq!(out.text(), "a\nb\n\r\x1b[Kweb-1 exited with code 0\n");
    assert_eq!(err.text(), "bad\n");

    let (p, out, _) = printer(PrinterOptions {
        color: true,
        ..Default::default()
    });
    p.status("web-1", "exited with code 3");
    assert_eq!(
        out.text(),
        "\x1b[36m\r\x1b[Kweb-1 exited with code 3\n\x1b[0m"
    );
}

#[test]
fn a_sub_name_shares_its_containers_colour() {
    let (p, _, _) = printer(PrinterOptions {
        color: true,
        ..Default::default()
    });
    p.register("web-1");
    p.register("db-1");
    // Its name counts for the width like any other.
    assert_eq!(p.prefix("web-1 hook"), "\x1b[36mweb-1 hook  | \x1b[0m");
    assert_eq!(p.prefix("db-1"), "\x1b[33mdb-1        | \x1b[0m");
}

#[test]
fn timestamps_follow_the_prefix() {
    let (p, out, _) = printer(PrinterOptions {
        timestamps: true,
        ..Default::default()
    });
    p.log("web-1", "hi");
    let text = out.text();
    let rest = text.strip_prefix("web-1  | ").unwrap();
    let (stamp, line) = rest.split_once(' ').unwrap();
    assert_eq!(line, "hi\n");
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "{stamp}"
    );
    assert!(stamp.split_once('.').unwrap().1.len() >= 9, "{stamp}");
}

#[test]
fn lines_split_across_chunks() {
    let mut s = LineSplitter::default();
    assert!(s.push(b"hel").is_empty());
    assert_eq!(s.push(b"lo\nwor"), vec!["hello"]);
    assert_eq!(s.push(b"ld\n\nx"), vec!["world", ""]);
    assert_eq!(s.finish().as_deref(), Some("x"));
    assert_eq!(s.finish(), None);
}

#[test]
fn display_names_drop_the_project() {
    let c = |name: &str, number: &str| {
        Container::from_summary(&serde_json::json!({
            "Id": "x", "Names": [format!("/{name}")],
            "Labels": {
                labels::PROJECT: "demo", labels::SERVICE: "web",
                labels::CONTAINER_NUMBER: number,
            }
        }))
    };
    assert_eq!(display_name(&c("demo-web-1", "1")), "web-1");
    assert_eq!(display_name(&c("custom", "1")), "custom");
    assert_eq!(display_name(&c("demo-web-1", "2")), "demo-web-1");
}

#[tokio::test]
async fn attach_streams_print_as_lines() {
    use crate::client::demux::encode_frame;
    let (p, out, _) = printer(PrinterOptions::default());
    let mut framed = encode_frame(1, b"out 1\nout");
    framed.extend(encode_frame(2, b" 2\nerr\n"));
    framed.extend(encode_frame(1, b"last"));
    copy_lines(&framed[..], false, "web-1", &p).await.unwrap();
    assert_eq!(
        out.text(),
        "web-1  | out 1\nweb-1  | out 2\nweb-1  | err\nweb-1  | last\n"
    );
    let (p, out, _) = printer(PrinterOptions::default());
    copy_lines(&b"raw\r\nline\n"[..], true, "t-1", &p)
        .await
        .unwrap();
    assert_eq!(out.text(), "t-1  | raw\r\nt-1  | line\n");
}
