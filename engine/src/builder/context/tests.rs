//! Receiving contexts in every encoding docker accepts, hostile tars, the Dockerfile and ignore
//! rules.

use std::io::Write;
use std::os::unix::fs::MetadataExt;

use super::*;

fn tar_of(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_uid(1000);
        h.set_gid(1001);
        h.set_mtime(1_600_000_000);
        if name.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
        }
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn sample() -> Vec<u8> {
    tar_of(&[
        ("Dockerfile", b"FROM busybox\nCOPY . /x\n", 0o644),
        ("src/", b"", 0o750),
        ("src/run.sh", b"#!/bin/sh\necho hi\n", 0o755),
    ])
}

fn check_sample(ctx: &BuildContext) {
    assert_eq!(
        ctx.read_dockerfile("").unwrap(),
        "FROM busybox\nCOPY . /x\n"
    );
    let m = std::fs::metadata(ctx.root.join("src/run.sh")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1000, 1001, 0o755));
    assert_eq!(m.mtime(), 1_600_000_000);
    let d = std::fs::metadata(ctx.root.join("src")).unwrap();
    assert_eq!(d.mode() & 0o7777, 0o750);
}

#[test]
fn every_encoding() {
    let scratch = tempfile::tempdir().unwrap();
    let plain = sample();
    let ctx = receive(&plain[..], scratch.path()).unwrap();
    assert_eq!(ctx.compression, Compression::None);
    assert!(!ctx.dockerfile_only);
    check_sample(&ctx);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz = gz.finish().unwrap();
    let ctx = receive(&gz[..], scratch.path()).unwrap();
    assert_eq!(ctx.compression, Compression::Gzip);
    check_sample(&ctx);

    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    bz.write_all(&plain).unwrap();
    let bz = bz.finish().unwrap();
    let ctx = receive(&bz[..], scratch.path()).unwrap();
    assert_eq!(ctx.compression, Compression::Bzip2);
    check_sample(&ctx);

    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&plain).unwrap();
    let xz = xz.finish().unwrap();
    let ctx = receive(&xz[..], scratch.path()).unwrap();
    assert_eq!(ctx.compression, Compression::Xz);
    check_sample(&ctx);

    let zst = zstd::encode_all(&plain[..], 1).unwrap();
    let ctx = receive(&zst[..], scratch.path()).unwrap();
    assert_eq!(ctx.compression, Compression::Zstd);
    check_sample(&ctx);
}

#[test]
fn private_and_removed_on_drop() {
    let scratch = tempfile::tempdir().unwrap();
    let ctx = receive(&sample()[..], scratch.path().join("sub").as_path()).unwrap();
    let private = ctx.root.parent().unwrap().to_path_buf();
    assert_eq!(std::fs::metadata(&private).unwrap().mode() & 0o777, 0o700);
    assert!(ctx.root.join("src/run.sh").exists());
    drop(ctx);
    assert!(!private.exists());
    assert_eq!(
        std::fs::read_dir(scratch.path().join("sub"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn dockerfile_alone() {
    let scratch = tempfile::tempdir().unwrap();
    let text = b"FROM busybox\nRUN echo hi\n";
    let ctx = receive(&text[..], scratch.path()).unwrap();
    assert!(ctx.dockerfile_only);
    assert_eq!(ctx.read_dockerfile("").unwrap().as_bytes(), text);
    // Whatever name the query gives, the body is the Dockerfile.
    assert_eq!(
        ctx.read_dockerfile("Dockerfile.dev").unwrap().as_bytes(),
        text
    );
    let names: Vec<_> = std::fs::read_dir(&ctx.root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec!["Dockerfile"]);
    // A long one (more than a tar block) and a gzip-compressed one.
    let mut long = b"FROM busybox\n".to_vec();
    for i in 0..100 {
        long.extend_from_slice(format!("RUN echo {i}\n").as_bytes());
    }
    let ctx = receive(&long[..], scratch.path()).unwrap();
    assert_eq!(ctx.read_dockerfile("").unwrap().as_bytes(), &long[..]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&long).unwrap();
    let ctx = receive(&gz.finish().unwrap()[..], scratch.path()).unwrap();
    assert!(ctx.dockerfile_only);
    assert_eq!(ctx.read_dockerfile("").unwrap().as_bytes(), &long[..]);
}

#[test]
fn empty_body_is_an_empty_context() {
    let scratch = tempfile::tempdir().unwrap();
    let ctx = receive(&b""[..], scratch.path()).unwrap();
    assert!(!ctx.dockerfile_only);
    let e = ctx.read_dockerfile("").unwrap_err();
    // dockerd answers with a plain error: a 500.
    assert!(matches!(e, EngineError::Internal(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Cannot locate specified Dockerfile: Dockerfile"
    );
}

#[test]
fn dockerfile_errors_as_docker() {
    let scratch = tempfile::tempdir().unwrap();
    let t = tar_of(&[
        ("dockerfile", b"FROM a\n", 0o644),
        ("empty", b"", 0o644),
        ("dir/", b"", 0o755),
        ("sub/Dockerfile.dev", b"FROM b\n", 0o644),
    ]);
    let ctx = receive(&t[..], scratch.path()).unwrap();
    // "Dockerfile" falls back to "dockerfile".
    assert_eq!(ctx.read_dockerfile("").unwrap(), "FROM a\n");
    assert_eq!(ctx.dockerfile_name("").unwrap(), "dockerfile");
    assert_eq!(
        ctx.read_dockerfile("sub/Dockerfile.dev").unwrap(),
        "FROM b\n"
    );
    assert_eq!(
        ctx.read_dockerfile("/sub/Dockerfile.dev").unwrap(),
        "FROM b\n"
    );
    assert_eq!(
        ctx.read_dockerfile("nope").unwrap_err().to_string(),
        "Cannot locate specified Dockerfile: nope"
    );
    assert_eq!(
        ctx.read_dockerfile("empty").unwrap_err().to_string(),
        "the Dockerfile (empty) cannot be empty"
    );
    assert_eq!(
        ctx.read_dockerfile("dir").unwrap_err().to_string(),
        "unexpected error reading Dockerfile: read dir: is a directory"
    );
    assert_eq!(
        ctx.read_dockerfile("../Dockerfile")
            .unwrap_err()
            .to_string(),
        "forbidden path outside the build context: ../Dockerfile ()"
    );
}

#[test]
fn symlinks_resolve_inside_the_context() {
    let scratch = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("Dockerfile"), "FROM host\n").unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut link = |name: &str, target: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, name, target).unwrap();
    };
    link(
        "abs",
        &outside.path().join("Dockerfile").display().to_string(),
    );
    link("up", "../../../../../../../../..");
    link("ok", "real/Dockerfile");
    let mut h = tar::Header::new_gnu();
    h.set_size(7);
    h.set_mode(0o644);
    b.append_data(&mut h, "real/Dockerfile", &b"FROM r\n"[..])
        .unwrap();
    let t = b.into_inner().unwrap();
    let ctx = receive(&t[..], scratch.path()).unwrap();
    assert_eq!(ctx.read_dockerfile("ok").unwrap(), "FROM r\n");
    assert_eq!(
        ctx.read_dockerfile("abs").unwrap_err().to_string(),
        "Cannot locate specified Dockerfile: abs"
    );
    let up = format!("up{}/Dockerfile", outside.path().display());
    assert_eq!(
        ctx.read_dockerfile(&up).unwrap_err().to_string(),
        format!("Cannot locate specified Dockerfile: {up}")
    );
}

#[test]
fn hostile_tars_are_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let mut raw = Vec::new();
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..8].copy_from_slice(b"../evil\0");
    h.set_size(1);
    h.set_mode(0o644);
    h.set_cksum();
    raw.extend_from_slice(h.as_bytes());
    raw.extend_from_slice(&[b'x'; 512]);
    raw.extend_from_slice(&[0; 1024]);
    let e = receive(&raw[..], scratch.path()).unwrap_err().to_string();
    assert!(e.contains("escapes"), "{e}");
    assert!(!scratch.path().join("evil").exists());
    // The failed context was removed.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    // A truncated gzip stream is a client error.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&sample()).unwrap();
    let gz = gz.finish().unwrap();
    let e = receive(&gz[..gz.len() / 2], scratch.path()).unwrap_err();
    assert!(matches!(e, EngineError::InvalidArgument(_)), "{e}");
}

#[test]
fn ignore_files() {
    let scratch = tempfile::tempdir().unwrap();
    let t = tar_of(&[
        ("Dockerfile", b"FROM a\n", 0o644),
        (
            ".dockerignore",
            b"Dockerfile\n.dockerignore\n*.tmp\n",
            0o644,
        ),
        ("keep", b"k", 0o644),
        ("x.tmp", b"t", 0o644),
        ("sub/", b"", 0o755),
        ("sub/app.Dockerfile", b"FROM b\n", 0o644),
        (
            "sub/app.Dockerfile.dockerignore",
            b"sub/app.Dockerfile\n",
            0o644,
        ),
    ]);
    let ctx = receive(&t[..], scratch.path()).unwrap();
    let p = ctx.ignore_patterns("").unwrap().unwrap();
    assert_eq!(p.patterns(), vec!["Dockerfile", ".dockerignore", "*.tmp"]);
    let p = ctx.ignore_patterns("sub/app.Dockerfile").unwrap().unwrap();
    assert_eq!(p.patterns(), vec!["sub/app.Dockerfile"]);

    // dockerd: after reading, the Dockerfile and .dockerignore leave the context if excluded;
    // other files are as the client sent them.
    assert_eq!(ctx.read_dockerfile("").unwrap(), "FROM a\n");
    ctx.apply_ignore("").unwrap();
    assert!(!ctx.root.join("Dockerfile").exists());
    assert!(!ctx.root.join(".dockerignore").exists());
    assert!(ctx.root.join("x.tmp").exists());
    assert!(ctx.root.join("keep").exists());

    let ctx = receive(&t[..], scratch.path()).unwrap();
    ctx.apply_ignore("sub/app.Dockerfile").unwrap();
    assert!(!ctx.root.join("sub/app.Dockerfile").exists());
    // Not excluded by the Dockerfile-specific file: stays.
    assert!(ctx.root.join(".dockerignore").exists());
    assert!(ctx.root.join("sub/app.Dockerfile.dockerignore").exists());

    // No ignore file: nothing happens.
    let t2 = tar_of(&[("Dockerfile", b"FROM a\n", 0o644)]);
    let ctx = receive(&t2[..], scratch.path()).unwrap();
    assert!(ctx.ignore_patterns("").unwrap().is_none());
    ctx.apply_ignore("").unwrap();
    assert!(ctx.root.join("Dockerfile").exists());

    // A malformed ignore file fails as docker's does.
    let t3 = tar_of(&[
        ("Dockerfile", b"FROM a\n", 0o644),
        (".dockerignore", b"[\n", 0o644),
    ]);
    let ctx = receive(&t3[..], scratch.path()).unwrap();
    assert_eq!(
        ctx.ignore_patterns("").unwrap_err().to_string(),
        "syntax error in pattern"
    );
}

#[test]
fn remove_excluded_keeps_exceptions() {
    let scratch = tempfile::tempdir().unwrap();
    let t = tar_of(&[
        ("Dockerfile", b"FROM a\n", 0o644),
        ("docs/", b"", 0o755),
        ("docs/README.md", b"r", 0o644),
        ("docs/other.md", b"o", 0o644),
        ("node_modules/", b"", 0o755),
        ("node_modules/x/", b"", 0o755),
        ("node_modules/x/y.js", b"y", 0o644),
        ("a.log", b"l", 0o644),
        ("src/", b"", 0o755),
        ("src/b.log", b"l", 0o644),
        ("src/main.rs", b"m", 0o644),
    ]);
    let ctx = receive(&t[..], scratch.path()).unwrap();
    let p = Patterns::parse("docs\n!docs/README.md\nnode_modules\n**/*.log\n").unwrap();
    ctx.remove_excluded(&p).unwrap();
    let r = &ctx.root;
    assert!(r.join("docs/README.md").exists());
    assert!(!r.join("docs/other.md").exists());
    assert!(!r.join("node_modules").exists());
    assert!(!r.join("a.log").exists());
    assert!(!r.join("src/b.log").exists());
    assert!(r.join("src/main.rs").exists());
    assert!(r.join("Dockerfile").exists());
}

fn fs_type(path: &Path) -> nix::sys::statfs::FsType {
    nix::sys::statfs::statfs(path).unwrap().filesystem_type()
}

#[test]
fn received_into_a_tmpfs_that_goes_away_with_the_context() {
    let scratch = tempfile::tempdir().unwrap();
    let ctx = receive(&sample()[..], scratch.path()).unwrap();
    assert_eq!(
        fs_type(&ctx.root),
        nix::sys::statfs::TMPFS_MAGIC,
        "the context is in memory"
    );
    check_sample(&ctx);
    drop(ctx);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn a_context_bigger_than_its_tmpfs_spills_to_disk_whole() {
    let scratch = tempfile::tempdir().unwrap();
    // 40 files of 20 KiB, then one of 300 KiB, through a 256 KiB tmpfs: the spill happens in
    // the middle of a file, whose first part must travel with the tree.
    let small: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 20 * 1024]).collect();
    let big: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    let names: Vec<String> = (0..40).map(|i| format!("d/f{i:02}")).collect();
    let mut files: Vec<(&str, &[u8], u32)> = vec![("Dockerfile", b"FROM scratch\n", 0o644)];
    files.push(("d/", b"", 0o755));
    for (n, d) in names.iter().zip(&small) {
        files.push((n.as_str(), d.as_slice(), 0o640));
    }
    files.push(("big.bin", big.as_slice(), 0o600));
    files.push(("after/last.txt", b"last", 0o644));
    let ctx = receive_within(&tar_of(&files)[..], scratch.path(), "size=256k").unwrap();
    assert_ne!(fs_type(&ctx.root), nix::sys::statfs::TMPFS_MAGIC);
    for (n, d) in names.iter().zip(&small) {
        assert_eq!(&std::fs::read(ctx.root.join(n)).unwrap(), d, "{n}");
        let m = std::fs::metadata(ctx.root.join(n)).unwrap();
        assert_eq!((m.uid(), m.mode() & 0o7777), (1000, 0o640));
    }
    assert_eq!(std::fs::read(ctx.root.join("big.bin")).unwrap(), big);
    assert_eq!(
        std::fs::read(ctx.root.join("after/last.txt")).unwrap(),
        b"last"
    );
    assert_eq!(ctx.read_dockerfile("").unwrap(), "FROM scratch\n");
    drop(ctx);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn file_digests_are_taken_while_receiving() {
    let scratch = tempfile::tempdir().unwrap();
    let ctx = receive(&sample()[..], scratch.path()).unwrap();
    let m = std::fs::metadata(ctx.root.join("src/run.sh")).unwrap();
    let want: [u8; 32] = blake3::hash(b"#!/bin/sh\necho hi\n").into();
    assert_eq!(ctx.digests.get(m.dev(), m.ino(), m.size()), Some(want));
    // Another size (or another file) is not taken for it.
    assert_eq!(ctx.digests.get(m.dev(), m.ino(), m.size() + 1), None);
    let d = std::fs::metadata(ctx.root.join("Dockerfile")).unwrap();
    assert_ne!(ctx.digests.get(d.dev(), d.ino(), d.size()), Some(want));
}
