use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

#[derive(Debug, PartialEq)]
struct Item {
    path: String,
    kind: char,
    mode: u32,
    link: Option<String>,
    content: Vec<u8>,
}

/// The tar's entries: path, type ('f', 'd', 'l' symlink, 'h' hard link), mode, target and
/// content; every owner must be 0:0.
fn entries(tar_bytes: &[u8]) -> Vec<Item> {
    let mut a = tar::Archive::new(tar_bytes);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        let kind = match h.entry_type() {
            tar::EntryType::Regular => 'f',
            tar::EntryType::Directory => 'd',
            tar::EntryType::Symlink => 'l',
            tar::EntryType::Link => 'h',
            tar::EntryType::Fifo => 'p',
            other => panic!("unexpected {other:?}"),
        };
        let link = e
            .link_name()
            .unwrap()
            .map(|l| l.to_string_lossy().into_owned());
        let mut content = Vec::new();
        e.read_to_end(&mut content).unwrap();
        out.push(Item {
            path: e.path().unwrap().to_string_lossy().into_owned(),
            kind,
            mode: h.mode().unwrap(),
            link,
            content,
        });
    }
    out
}

fn paths(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.path.as_str()).collect()
}

fn write(root: &Path, rel: &str, content: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

fn no_stdin() -> Box<dyn Read + Send> {
    Box::new(io::empty())
}

fn tar_of(spec: &ContextSpec) -> (Vec<Item>, String, Option<PathBuf>) {
    let p = prepare(spec, no_stdin()).unwrap();
    let name = p.dockerfile.clone();
    let dir = p.dir.clone();
    let mut buf = Vec::new();
    let n = p.write_to(&mut buf).unwrap();
    assert_eq!(n as usize, buf.len());
    (entries(&buf), name, dir)
}

fn dir_spec(dir: &Path) -> ContextSpec {
    ContextSpec {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    }
}

#[test]
fn a_directory_as_docker_tars_it() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "Dockerfile", "FROM scratch\n");
    write(root, "b.txt", "bee");
    write(root, "a/x.sh", "#!/bin/sh\n");
    std::fs::set_permissions(root.join("a/x.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    symlink("../b.txt", root.join("a/link")).unwrap();
    std::fs::hard_link(root.join("b.txt"), root.join("c.txt")).unwrap();
    let (items, name, dir) = tar_of(&dir_spec(root));
    assert_eq!(name, "Dockerfile");
    assert_eq!(dir.unwrap(), std::fs::canonicalize(root).unwrap());
    // Lexical order, directories before their content, the root itself left out.
    assert_eq!(
        paths(&items),
        ["Dockerfile", "a", "a/link", "a/x.sh", "b.txt", "c.txt"]
    );
    assert_eq!(items[1].kind, 'd');
    assert_eq!(items[2].kind, 'l');
    assert_eq!(items[2].link.as_deref(), Some("../b.txt"));
    assert_eq!(items[3].mode, 0o755);
    assert_eq!(items[4].content, b"bee");
    assert_eq!(items[5].kind, 'h');
    assert_eq!(items[5].link.as_deref(), Some("b.txt"));
}

#[test]
fn dockerignore_excludes_with_exceptions_and_keeps_the_build_files() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "Dockerfile", "FROM scratch\n");
    write(
        root,
        ".dockerignore",
        "# comment\n*.log\nnode_modules\nbuild\n!build/keep.txt\nDockerfile\n.dockerignore\n",
    );
    write(root, "app.log", "x");
    write(root, "src/main.rs", "fn main(){}");
    write(root, "src/debug.log", "x");
    write(root, "node_modules/m/index.js", "x");
    write(root, "build/out.o", "x");
    write(root, "build/keep.txt", "kept");
    let (items, _, _) = tar_of(&dir_spec(root));
    assert_eq!(
        paths(&items),
        [
            ".dockerignore",
            "Dockerfile",
            // The excluded directory is entered for its exception but not sent itself.
            "build/keep.txt",
            "src",
            // `*.log` is anchored at the root, as with docker.
            "src/debug.log",
            "src/main.rs",
        ]
    );
}

#[test]
fn the_dockerfiles_own_ignore_file_wins() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "sub/app.Dockerfile", "FROM scratch\n");
    write(root, "sub/app.Dockerfile.dockerignore", "secret\n");
    write(root, ".dockerignore", "public\n");
    write(root, "secret", "s");
    write(root, "public", "p");
    let spec = ContextSpec {
        dir: Some(root.to_path_buf()),
        dockerfile: Some(root.join("sub/app.Dockerfile")),
        ..Default::default()
    };
    let (items, name, _) = tar_of(&spec);
    assert_eq!(name, "sub/app.Dockerfile");
    assert_eq!(
        paths(&items),
        [
            ".dockerignore",
            "public",
            "sub",
            "sub/app.Dockerfile",
            "sub/app.Dockerfile.dockerignore"
        ]
    );
}

#[test]
fn a_dockerfile_outside_the_context_travels_under_a_random_name() {
    let t = tempfile::tempdir().unwrap();
    let ctx = t.path().join("ctx");
    write(&ctx, "f", "x");
    write(&ctx, ".dockerignore", "*.tmp");
    write(t.path(), "elsewhere/Dockerfile", "FROM busybox\n");
    let spec = ContextSpec {
        dir: Some(ctx.clone()),
        dockerfile: Some(t.path().join("elsewhere/Dockerfile")),
        ..Default::default()
    };
    let (items, name, _) = tar_of(&spec);
    assert!(name.starts_with(".dockerfile."), "{name}");
    assert_eq!(name.len(), ".dockerfile.".len() + 20);
    assert!(name[12..].bytes().all(|b| b.is_ascii_hexdigit()));
    // .dockerignore keeps its place with the name appended; the Dockerfile comes last.
    assert_eq!(paths(&items), [".dockerignore", "f", name.as_str()]);
    assert_eq!(
        String::from_utf8_lossy(&items[0].content),
        format!("*.tmp\n{name}\n")
    );
    assert_eq!(items[2].content, b"FROM busybox\n");
    assert_eq!(items[2].mode, 0o600);

    // From stdin (`-f -`), without a .dockerignore: one is made that hides itself too.
    std::fs::remove_file(ctx.join(".dockerignore")).unwrap();
    let spec = ContextSpec {
        dir: Some(ctx.clone()),
        dockerfile_stdin: Some("FROM scratch\n".into()),
        ..Default::default()
    };
    let (items, name, _) = tar_of(&spec);
    assert_eq!(paths(&items), ["f", name.as_str(), ".dockerignore"]);
    assert_eq!(
        String::from_utf8_lossy(&items[2].content),
        format!(".dockerignore\n{name}\n")
    );
}

#[test]
fn a_lowercase_dockerfile_is_found_and_errors_read_as_dockers() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "dockerfile", "FROM scratch\n");
    let (_, name, _) = tar_of(&dir_spec(root));
    assert_eq!(name, "dockerfile");

    let empty = tempfile::tempdir().unwrap();
    let err = prepare(&dir_spec(empty.path()), no_stdin())
        .err()
        .unwrap()
        .to_string();
    let real = std::fs::canonicalize(empty.path()).unwrap();
    assert_eq!(
        err,
        format!(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}/Dockerfile: no such file or directory",
            real.display()
        )
    );
    let missing = root.join("nope");
    let err = prepare(&dir_spec(&missing), no_stdin())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        err,
        format!(
            "unable to prepare context: path \"{}\" not found",
            missing.display()
        )
    );
    let file = root.join("dockerfile");
    let err = prepare(&dir_spec(&file), no_stdin())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("context must be a directory"), "{err}");
}

#[test]
fn a_bad_ignore_pattern_fails_before_sending() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "Dockerfile", "FROM scratch\n");
    write(t.path(), ".dockerignore", "[\n");
    let err = prepare(&dir_spec(t.path()), no_stdin())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("syntax error in pattern"), "{err}");
}

#[test]
fn stdin_context_is_a_tar_or_a_dockerfile() {
    // A tar passes through untouched, with the -f name as given.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_size(3);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "df", &b"abc"[..]).unwrap();
    let tar_bytes = b.into_inner().unwrap();
    let spec = ContextSpec {
        dockerfile: Some("df".into()),
        ..Default::default()
    };
    let p = prepare(&spec, Box::new(io::Cursor::new(tar_bytes.clone()))).unwrap();
    assert_eq!(p.dockerfile, "df");
    assert!(p.dir.is_none());
    let mut out = Vec::new();
    p.write_to(&mut out).unwrap();
    assert_eq!(out, tar_bytes);

    // gzip passes through too (the engine decompresses).
    let gz = vec![0x1f, 0x8b, 0x08, 0, 1, 2, 3];
    let p = prepare(
        &ContextSpec::default(),
        Box::new(io::Cursor::new(gz.clone())),
    )
    .unwrap();
    assert_eq!(p.dockerfile, "");
    let mut out = Vec::new();
    p.write_to(&mut out).unwrap();
    assert_eq!(out, gz);

    // Anything else is the Dockerfile.
    let text = "FROM busybox\nRUN echo hi\n";
    let p = prepare(
        &ContextSpec::default(),
        Box::new(io::Cursor::new(text.as_bytes().to_vec())),
    )
    .unwrap();
    assert_eq!(p.dockerfile, "Dockerfile");
    let mut out = Vec::new();
    p.write_to(&mut out).unwrap();
    let items = entries(&out);
    assert_eq!(paths(&items), ["Dockerfile"]);
    assert_eq!(items[0].content, text.as_bytes());
}

#[test]
fn archives_are_recognised_as_docker_does() {
    assert!(is_archive(b"BZh91AY"));
    assert!(is_archive(&[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]));
    assert!(is_archive(&[0x28, 0xb5, 0x2f, 0xfd, 0]));
    assert!(!is_archive(b"FROM busybox\n"));
    assert!(!is_archive(&[0u8; 512]));
    // A V7 header (no "ustar") with a right checksum is a tar.
    let mut h = tar::Header::new_old();
    h.set_path("x").unwrap();
    h.set_size(0);
    h.set_cksum();
    assert!(is_archive(h.as_bytes()));
    let mut broken = h.as_bytes().to_vec();
    broken[0] = b'y';
    assert!(!is_archive(&broken));
}

#[test]
fn a_file_that_changes_size_while_sent_keeps_the_tar_whole() {
    let data = b"abcdef".to_vec();
    let mut out = Vec::new();
    ExactSize::new(&data[..], 4).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"abcd");
    let mut out = Vec::new();
    ExactSize::new(&data[..], 9).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"abcdef\0\0\0");
}

#[tokio::test]
async fn the_body_streams_what_write_to_writes() {
    use http_body_util::BodyExt;
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "Dockerfile", "FROM scratch\n");
    // More than one chunk.
    write(t.path(), "big", &"x".repeat(CHUNK * 2 + 17));
    let p = prepare(&dir_spec(t.path()), no_stdin()).unwrap();
    let (body, task) = p.into_body();
    let collected = body.collect().await.unwrap().to_bytes();
    let n = task.await.unwrap().unwrap();
    assert_eq!(n as usize, collected.len());
    let items = entries(&collected);
    assert_eq!(paths(&items), ["Dockerfile", "big"]);
    assert_eq!(items[1].content.len(), CHUNK * 2 + 17);
}

fn file_with(bytes: &[u8]) -> File {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(bytes).unwrap();
    io::Seek::rewind(&mut f).unwrap();
    f
}

#[test]
fn a_downloaded_tar_gets_a_dockerfile_from_stdin_as_docker_adds_it() {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [(".dockerignore", "*.tmp"), ("app/main.c", "int main;")] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        b.append_data(&mut h, name, data.as_bytes()).unwrap();
    }
    let tar_bytes = b.into_inner().unwrap();
    let spec = ContextSpec {
        dockerfile_stdin: Some("FROM busybox\n".into()),
        ..Default::default()
    };
    let p = prepare_download(&spec, file_with(&tar_bytes)).unwrap();
    let name = p.dockerfile.clone();
    assert!(name.starts_with(".dockerfile."));
    let mut out = Vec::new();
    p.write_to(&mut out).unwrap();
    let items = entries(&out);
    assert_eq!(
        paths(&items),
        [".dockerignore", "app/main.c", name.as_str()]
    );
    assert_eq!(
        String::from_utf8_lossy(&items[0].content),
        format!("*.tmp\n{name}\n")
    );
    assert_eq!(items[2].content, b"FROM busybox\n");

    // Not an archive, or compressed: refused as docker cannot do it either.
    let err = prepare_download(&spec, file_with(b"FROM x\n"))
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "unable to prepare context: build context is not an archive"
    );
    assert!(prepare_download(&spec, file_with(&[0x1f, 0x8b, 0x08, 0])).is_err());

    // Without one, a downloaded Dockerfile is the whole context.
    let p = prepare_download(&ContextSpec::default(), file_with(b"FROM x\n")).unwrap();
    assert_eq!(p.dockerfile, "Dockerfile");
}

/// What the client sends is what the engine receives: the engine's own `receive` unpacks the
/// tar into the same tree (modes, links, the Dockerfile readable by the name sent).
#[test]
fn the_engine_receives_the_tree_the_client_sent() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    let root = t.path().join("ctx");
    write(&root, "Dockerfile", "FROM scratch\n");
    write(&root, "bin/run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(
        root.join("bin/run.sh"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
    write(&root, "data/a", "aaa");
    std::fs::hard_link(root.join("data/a"), root.join("data/b")).unwrap();
    symlink("a", root.join("data/link")).unwrap();
    let long = "d".repeat(120);
    write(&root, &format!("{long}/{}", "f".repeat(150)), "deep");
    write(t.path(), "outside.Dockerfile", "FROM busybox\n");
    let spec = ContextSpec {
        dir: Some(root.clone()),
        dockerfile: Some(t.path().join("outside.Dockerfile")),
        ..Default::default()
    };
    let p = prepare(&spec, no_stdin()).unwrap();
    let name = p.dockerfile.clone();
    let mut tar_bytes = Vec::new();
    p.write_to(&mut tar_bytes).unwrap();

    let scratch = t.path().join("scratch");
    let got = berth_engine::builder::context::receive(tar_bytes.as_slice(), &scratch).unwrap();
    assert_eq!(got.read_dockerfile(&name).unwrap(), "FROM busybox\n");
    let r = &got.root;
    let meta = std::fs::metadata(r.join("bin/run.sh")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o750);
    assert_eq!(std::fs::read(r.join("data/b")).unwrap(), b"aaa");
    assert_eq!(
        std::fs::metadata(r.join("data/a")).unwrap().ino(),
        std::fs::metadata(r.join("data/b")).unwrap().ino()
    );
    assert_eq!(
        std::fs::read_link(r.join("data/link")).unwrap(),
        PathBuf::from("a")
    );
    assert_eq!(
        std::fs::read(r.join(&long).join("f".repeat(150))).unwrap(),
        b"deep"
    );
    let ignore = std::fs::read_to_string(r.join(".dockerignore")).unwrap();
    assert_eq!(ignore, format!(".dockerignore\n{name}\n"));
}
