//! COPY and ADD: files, directories and wildcards with docker's destination rules, `--chown` by
//! name and by id, `--chmod`, `--from` a stage name, an index and an image, local archives
//! extracted by ADD, heredocs, `.dockerignore` (applied by the CLI and again by the engine on a raw
//! context), and hostile contexts (symlinks out, `..`, very long names) that must never read the
//! host's files.

use super::{api_build, build_err, build_ok, docker, history, messages, run_sh, stream_text, Ctx};
use crate::common::{self, TestEngine};

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<shell> #(nop) COPY <kind>:<64 hex> in <dest> ` as dockerd writes a COPY/ADD history entry.
fn assert_copy_history(line: &str, prefix: &str, kind: &str, dest: &str) {
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("history {line:?} should start with {prefix:?}"));
    let rest = rest
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("history {line:?}: expected {kind}:<digest>"));
    let (digest, tail) = rest.split_at(64.min(rest.len()));
    assert!(is_hex64(digest), "history {line:?}: digest");
    assert_eq!(tail, format!(" in {dest} "), "history {line:?}");
}

#[test]
fn copy_and_add_sources_destinations_ownership_and_from() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        r#"FROM busybox AS stage1
RUN echo from-stage > /made
FROM busybox
COPY a.txt /one/
COPY *.txt /txt/
COPY dir /dirc
COPY dir/ /dirc2/
COPY --chown=app:staff b.txt /own/name
COPY --chown=1234:5678 b.txt /own/id
COPY --chmod=751 a.txt /mode/a
COPY --from=stage1 /made /from-name
COPY --from=0 /made /from-index
COPY --from=busybox /etc/group /from-image
ADD pkg.tar.gz /ext/
ADD pkg.tar.gz /ext2
WORKDIR /wd
COPY a.txt rel
COPY --link b.txt /linked
"#,
    );
    ctx.file("a.txt", "a\n");
    ctx.file("b.txt", "b\n");
    ctx.file("c.log", "c\n");
    ctx.file("dir/d1", "d1\n");
    ctx.file("dir/sub/s", "s\n");
    // A gzip tar made with the system tar, as a user would.
    let arch = ctx.path().join("arch");
    std::fs::create_dir(&arch).unwrap();
    std::fs::write(arch.join("inner.txt"), "inner\n").unwrap();
    let st = std::process::Command::new("tar")
        .arg("-czf")
        .arg(ctx.path().join("pkg.tar.gz"))
        .arg("-C")
        .arg(&arch)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    std::fs::remove_dir_all(&arch).unwrap();

    build_ok(&e, &ctx, "copies", &[]);
    let tree = run_sh(
        &e,
        "copies",
        "cd / && find one txt dirc dirc2 own mode from-name from-index from-image ext ext2 wd linked | sort",
    );
    assert_eq!(
        tree,
        "dirc\ndirc/d1\ndirc/sub\ndirc/sub/s\ndirc2\ndirc2/d1\ndirc2/sub\ndirc2/sub/s\next\next/inner.txt\n\
         ext2\next2/inner.txt\nfrom-image\nfrom-index\nfrom-name\nlinked\nmode\nmode/a\none\none/a.txt\nown\nown/id\n\
         own/name\ntxt\ntxt/a.txt\ntxt/b.txt\nwd\nwd/rel\n"
    );
    let stats = run_sh(
        &e,
        "copies",
        "cd / && stat -c '%n %u %g %a' own/name own/id one/a.txt dirc mode/a ext/inner.txt && cat from-name from-index ext/inner.txt wd/rel && cat from-image | head -1",
    );
    assert_eq!(
        stats,
        "own/name 1000 50 644\nown/id 1234 5678 644\none/a.txt 0 0 644\ndirc 0 0 755\nmode/a 0 0 751\n\
         ext/inner.txt 0 0 644\nfrom-stage\nfrom-stage\ninner\na\nroot:x:0:\n"
    );

    let h = history(&e, "copies");
    let p = "/bin/sh -c #(nop) ";
    assert_copy_history(&h[1], &format!("{p}COPY "), "file", "rel");
    assert_eq!(h[2], "/bin/sh -c #(nop) WORKDIR /wd");
    assert_copy_history(&h[3], &format!("{p}ADD "), "file", "/ext2");
    assert_copy_history(&h[4], &format!("{p}ADD "), "file", "/ext/");
    assert_copy_history(
        &h[9],
        &format!("{p}COPY --chown=1234:5678"),
        "file",
        "/own/id",
    );
    assert_copy_history(
        &h[10],
        &format!("{p}COPY --chown=app:staff"),
        "file",
        "/own/name",
    );
    assert_copy_history(&h[11], &format!("{p}COPY "), "dir", "/dirc2/");
    assert_copy_history(&h[12], &format!("{p}COPY "), "dir", "/dirc");
    assert_copy_history(&h[13], &format!("{p}COPY "), "multi", "/txt/");
    assert_copy_history(&h[14], &format!("{p}COPY "), "file", "/one/");
    // The same file content gives the same digest wherever it is copied to.
    let digest = |l: &str| l.split_once("file:").map(|(_, r)| r[..64].to_owned());
    assert_copy_history(&h[6], &format!("{p}COPY "), "file", "/from-index");
    assert_copy_history(&h[7], &format!("{p}COPY "), "file", "/from-name");
    assert_eq!(digest(&h[6]), digest(&h[7]), "{h:#?}");
    assert_ne!(digest(&h[6]), digest(&h[5]), "{h:#?}");
}

#[test]
fn copy_errors_as_docker() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new("FROM busybox\nCOPY missing.txt /x\n");
    let (code, _, err) = build_err(&e, &ctx, &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(
            "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist"
        ),
        "{err}"
    );
    // Several sources need a directory destination (ending in /).
    let ctx = Ctx::new("FROM busybox\nCOPY a b /x\n");
    ctx.file("a", "a");
    ctx.file("b", "b");
    let (_, _, err) = build_err(&e, &ctx, &[]);
    assert!(
        err.contains("When using COPY with more than one source file, the destination must be a directory and end with a /"),
        "{err}"
    );
}

#[test]
fn heredocs_in_copy() {
    let e = TestEngine::with_busybox();
    let ctx = Ctx::new(
        "FROM busybox\nARG WHO=world\nCOPY <<EOF /greeting\nhello $WHO\nEOF\nCOPY <<-'EOT' /raw\n\tkeep $WHO\n\tEOT\n",
    );
    build_ok(&e, &ctx, "heredoc", &[]);
    let out = run_sh(
        &e,
        "heredoc",
        "cat /greeting /raw; stat -c '%a %u' /greeting",
    );
    assert_eq!(out, "hello world\nkeep $WHO\n644 0\n");
}

/// The `.dockerignore` used by both the CLI path and the raw API path.
const IGNORE: &str = "*.log\n!keep.log\n**/secret*\nDockerfile\n.dockerignore\ndir/sub\n";

fn ignore_ctx() -> Ctx {
    let ctx = Ctx::new("FROM busybox\nCOPY . /ctx/\n");
    ctx.file(".dockerignore", IGNORE);
    ctx.file("a.log", "x");
    ctx.file("keep.log", "k");
    ctx.file("secret1", "s");
    ctx.file("sub/deep/secret2", "s");
    ctx.file("sub/deep/ok", "ok");
    ctx.file("dir/sub/f", "d");
    ctx.file("dir/g", "d");
    ctx
}

const IGNORED_TREE: &str = ".\n./dir\n./dir/g\n./keep.log\n./sub\n./sub/deep\n./sub/deep/ok\n";

#[test]
fn dockerignore_through_the_cli() {
    let e = TestEngine::with_busybox();
    let ctx = ignore_ctx();
    // The Dockerfile and .dockerignore exclude themselves: the build still reads them.
    build_ok(&e, &ctx, "ign", &[]);
    assert_eq!(run_sh(&e, "ign", "cd /ctx && find . | sort"), IGNORED_TREE);
}

/// What dockerd keeps of a raw context (one the client did not filter): everything but the
/// Dockerfile and `.dockerignore` when they are excluded (dockerd's removeDockerfile), checked
/// against dockerd 20.10.
const RAW_TREE: &str = ".\n./a.log\n./dir\n./dir/g\n./dir/sub\n./dir/sub/f\n./keep.log\n./secret1\n./sub\n./sub/deep\n./sub/deep/ok\n./sub/deep/secret2\n";

#[test]
fn dockerignore_on_a_raw_context_as_dockerd() {
    let e = TestEngine::with_busybox();
    let ctx = ignore_ctx();
    // The whole directory, ignored files included, as a client that does not filter sends it.
    let r = api_build(
        &e,
        "t=rawign",
        &[("Content-Type", "application/x-tar")],
        &ctx.tar(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let msgs = messages(&r);
    assert!(
        !msgs.iter().any(|m| m.get("error").is_some()),
        "{}",
        r.text()
    );
    assert!(stream_text(&msgs).contains("Successfully tagged rawign:latest"));
    assert_eq!(run_sh(&e, "rawign", "cd /ctx && find . | sort"), RAW_TREE);
}

#[test]
fn hostile_contexts_never_reach_host_files() {
    let e = TestEngine::with_busybox();
    // A file on the host that nothing may copy.
    let host = tempfile::Builder::new()
        .prefix("berth-host-")
        .tempdir()
        .unwrap();
    let secret = host.path().join("secret.txt");
    std::fs::write(&secret, "HOSTSECRET\n").unwrap();

    let ctx = Ctx::new("FROM busybox\n");
    std::os::unix::fs::symlink(&secret, ctx.path().join("abs-link")).unwrap();
    std::os::unix::fs::symlink(host.path(), ctx.path().join("absdir-link")).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../../etc/passwd",
        ctx.path().join("rel-link"),
    )
    .unwrap();

    let check = |dockerfile: &str, expect: &str| {
        ctx.file("Dockerfile", &format!("FROM busybox\n{dockerfile}\n"));
        // Both the CLI (which sends the symlinks as symlinks) and a raw tar.
        let o = docker(&e, &["build", "--no-cache", ctx.arg()]);
        let all = format!("{}{}", common::stdout(&o), common::stderr(&o));
        assert!(!o.status.success(), "{dockerfile}: must fail:\n{all}");
        assert!(
            all.contains(expect),
            "{dockerfile}: expected {expect:?} in:\n{all}"
        );
        assert!(!all.contains("HOSTSECRET"));
        let r = api_build(&e, "nocache=1", &[], &ctx.tar());
        assert!(
            r.text().contains(expect),
            "{dockerfile} (API): {}",
            r.text()
        );
    };
    check(
        "COPY abs-link /x",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat abs-link: file does not exist",
    );
    check(
        "COPY absdir-link/secret.txt /x",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat absdir-link/secret.txt: file does not exist",
    );
    check(
        "COPY rel-link /x",
        "COPY failed: file not found in build context or excluded by .dockerignore: stat rel-link: file does not exist",
    );
    check(
        "COPY ../../../../etc/passwd /x",
        "COPY failed: forbidden path outside the build context: ../../../../etc/passwd ()",
    );

    // A symlink whose target exists inside the context (resolved in scope) copies that file.
    let inside = ctx.path().join(secret.strip_prefix("/").unwrap());
    std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
    std::fs::write(&inside, "INSIDE\n").unwrap();
    ctx.file("Dockerfile", "FROM busybox\nCOPY abs-link /x\n");
    build_ok(&e, &ctx, "scoped", &["--no-cache"]);
    assert_eq!(run_sh(&e, "scoped", "cat /x"), "INSIDE\n");

    // A 255-byte name deep enough for a path past every tar header field.
    let name = "n".repeat(255);
    let long = Ctx::new("FROM busybox\nCOPY long /long\n");
    long.file(
        &format!("long/{}/{}/{name}", "d".repeat(200), "e".repeat(200)),
        "long\n",
    );
    build_ok(&e, &long, "longname", &[]);
    assert_eq!(
        run_sh(&e, "longname", &format!("cat /long/*/*/{name}")),
        "long\n"
    );
}

/// A tiny HTTP server on 127.0.0.1 (the engine fetches from the host): every GET answers
/// `body` with a Last-Modified date. Runs until the test process ends.
fn serve(body: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let mut req = Vec::new();
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Sat, 03 Feb 2001 04:05:06 GMT\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
        }
    });
    port
}

#[test]
fn add_remote_url_with_checksum() {
    let e = TestEngine::with_busybox();
    let body = "remote content\n";
    let port = serve(body);
    let digest = common::sha256(body.as_bytes());
    let ctx = Ctx::new(&format!(
        "FROM busybox\nADD http://127.0.0.1:{port}/files/data.txt /dl/\nADD --checksum={digest} http://127.0.0.1:{port}/x /checked\n"
    ));
    build_ok(&e, &ctx, "remote", &[]);
    // As docker: the name from the URL, mode 0600, the mtime from Last-Modified.
    assert_eq!(
        run_sh(
            &e,
            "remote",
            "cat /dl/data.txt /checked; stat -c '%a %Y' /dl/data.txt"
        ),
        format!("{body}{body}600 981173106\n")
    );
    let wrong = format!("sha256:{}", "0".repeat(64));
    ctx.file(
        "Dockerfile",
        &format!("FROM busybox\nADD --checksum={wrong} http://127.0.0.1:{port}/x /checked\n"),
    );
    let (code, out, err) = build_err(&e, &ctx, &["--no-cache"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("digest mismatch"), "{err}");
}

/// A tar whose symlinks point out of the destination (relative and absolute) with files written
/// through them.
fn evil_tar(rel_target: &str, abs_target: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut link = |name: &str, target: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, name, target).unwrap();
    };
    link("esc", rel_target);
    link("abs", abs_target);
    for name in ["esc/pwned", "abs/pwned"] {
        let mut h = tar::Header::new_gnu();
        h.set_size(6);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, &b"pwned\n"[..]).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn add_of_a_hostile_archive_never_writes_outside_the_image() {
    let e = TestEngine::with_busybox();
    let host = tempfile::Builder::new()
        .prefix("berth-evil-")
        .tempdir()
        .unwrap();
    let h = host.path().to_str().unwrap().to_owned();
    let rel = format!("../../../../../../../..{h}");
    let ctx = Ctx::new(&format!(
        "FROM busybox\nRUN mkdir -p {h}\nADD evil.tar /x/\n"
    ));
    ctx.bytes("evil.tar", &evil_tar(&rel, &h));
    let o = docker(&e, &["build", "-t", "evil", ctx.arg()]);
    // dockerd refuses this archive; whatever berth does, nothing lands on the host.
    let listing: Vec<_> = std::fs::read_dir(host.path())
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert!(
        listing.is_empty(),
        "written on the host: {listing:?}\n{}{}",
        common::stdout(&o),
        common::stderr(&o)
    );
    if o.status.success() {
        // Then the links were resolved inside the image.
        let inside = run_sh(&e, "evil", &format!("cat {h}/pwned; ls -A {h} | wc -l"));
        assert_eq!(inside, "pwned\n1\n");
    }
}
