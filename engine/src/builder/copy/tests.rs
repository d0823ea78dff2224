//! COPY/ADD against real directories (the tests run as root, as the engine does): each rule of
//! dockerd's legacy builder checked on the files it leaves, plus the escapes it must refuse.

use super::*;

use std::fs;
use std::io::Write;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use tempfile::TempDir;

struct Fixture {
    ctx: TempDir,
    root: TempDir,
}

fn fixture() -> Fixture {
    let f = Fixture {
        ctx: TempDir::new().unwrap(),
        root: TempDir::new().unwrap(),
    };
    fs::create_dir(f.root.path().join("etc")).unwrap();
    fs::write(
        f.root.path().join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:a:/home/alice:/bin/sh\nbob:x:1002:1003::/:/bin/sh\n",
    )
    .unwrap();
    fs::write(
        f.root.path().join("etc/group"),
        "root:x:0:\nstaff:x:50:\nalicegrp:x:1001:\nbob:x:77:\n",
    )
    .unwrap();
    f
}

impl Fixture {
    fn c(&self, p: &str) -> std::path::PathBuf {
        self.ctx.path().join(p)
    }
    fn r(&self, p: &str) -> std::path::PathBuf {
        self.root.path().join(p.trim_start_matches('/'))
    }
    fn write(&self, p: &str, content: &str, mode: u32) {
        let path = self.c(p);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        set_mtime(&path, 978307200);
    }

    fn run<'a>(
        &'a self,
        sources: &[&str],
        dest: &'a str,
        tweak: impl FnOnce(&mut CopyRequest<'a>),
    ) -> Result<Selection> {
        // Leaked so the request can borrow it for as long as the tweak's borrows.
        let sources: &'static [String] = Box::leak(
            sources
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let mut req = CopyRequest {
            source_root: self.ctx.path(),
            sources,
            dest,
            workdir: "/",
            chown: None,
            chmod: None,
            is_add: false,
            checksum: None,
            heredocs: &[],
            from_stage: false,
            remote: &[],
            known_digests: None,
        };
        tweak(&mut req);
        let sel = select(&req)?;
        let fd = fs::File::open(self.root.path()).unwrap();
        apply(&sel, &fd)?;
        Ok(sel)
    }

    fn copy<'a>(&'a self, sources: &[&str], dest: &'a str) -> Result<Selection> {
        self.run(sources, dest, |_| {})
    }
}

fn set_mtime(p: &Path, secs: i64) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let ts = [
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
        libc::timespec {
            tv_sec: secs,
            tv_nsec: 0,
        },
    ];
    // SAFETY: valid path and two timespecs.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(r, 0);
}

fn stat(p: &Path) -> (u32, u32, u32, i64) {
    let m = fs::symlink_metadata(p).unwrap();
    (m.mode() & 0o7777, m.uid(), m.gid(), m.mtime())
}

fn err(r: Result<Selection>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn file_into_dir_as_named_or_into_existing_dir() {
    let f = fixture();
    f.write("f", "hi\n", 0o640);
    fs::create_dir(f.r("existing")).unwrap();
    f.copy(&["f"], "/dst/").unwrap();
    assert_eq!(fs::read_to_string(f.r("dst/f")).unwrap(), "hi\n");
    assert_eq!(stat(&f.r("dst/f")), (0o640, 0, 0, 978307200));
    assert_eq!(stat(&f.r("dst")).0, 0o755);
    f.copy(&["f"], "/a/b/renamed").unwrap();
    assert_eq!(fs::read_to_string(f.r("a/b/renamed")).unwrap(), "hi\n");
    f.copy(&["./f"], "/existing").unwrap();
    assert!(f.r("existing/f").is_file());
    // An existing file is replaced.
    fs::write(f.r("dst/f"), "old").unwrap();
    f.copy(&["/f"], "/dst/f").unwrap();
    assert_eq!(fs::read_to_string(f.r("dst/f")).unwrap(), "hi\n");
}

#[test]
fn dest_is_relative_to_workdir() {
    let f = fixture();
    f.write("f", "x", 0o644);
    f.run(&["f"], "sub/", |r| r.workdir = "/app").unwrap();
    assert!(f.r("app/sub/f").is_file());
    // "." is the workdir itself: into it when it exists (WORKDIR made it), else it names the file.
    fs::create_dir(f.r("w")).unwrap();
    f.run(&["f"], ".", |r| r.workdir = "/w").unwrap();
    assert!(f.r("w/f").is_file());
    f.run(&["f"], ".", |r| r.workdir = "/nowd").unwrap();
    assert!(f.r("nowd").is_file());
    f.run(&["f"], "named", |r| r.workdir = "/w2/").unwrap();
    assert!(f.r("w2/named").is_file());
    assert_eq!(normalize_dest("/app", "../x/"), "/x/");
    assert_eq!(normalize_dest("/app", "/abs/../y"), "/abs/../y");
}

#[test]
fn dir_contents_are_copied_and_merged() {
    let f = fixture();
    f.write("d/a", "a", 0o644);
    f.write("d/sub/b", "b", 0o600);
    symlink("a", f.c("d/rel")).unwrap();
    symlink("/etc/passwd", f.c("d/abs")).unwrap();
    fs::set_permissions(f.c("d/sub"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(f.c("d"), fs::Permissions::from_mode(0o700)).unwrap();
    set_mtime(&f.c("d/sub"), 1000);
    // A new destination is 0755 root:root whatever the source dir's mode.
    f.copy(&["d"], "/newdst").unwrap();
    assert_eq!(stat(&f.r("newdst")).0, 0o755);
    assert_eq!(stat(&f.r("newdst/sub")), (0o750, 0, 0, 1000));
    assert_eq!(fs::read_link(f.r("newdst/rel")).unwrap(), Path::new("a"));
    assert_eq!(
        fs::read_link(f.r("newdst/abs")).unwrap(),
        Path::new("/etc/passwd")
    );
    // Merging into an existing directory keeps what was there and the directory's own mode.
    fs::create_dir_all(f.r("m/sub")).unwrap();
    fs::write(f.r("m/keep"), "k").unwrap();
    fs::write(f.r("m/sub/old"), "o").unwrap();
    fs::set_permissions(f.r("m"), fs::Permissions::from_mode(0o711)).unwrap();
    f.copy(&["d"], "/m").unwrap();
    assert_eq!(fs::read_to_string(f.r("m/keep")).unwrap(), "k");
    assert_eq!(fs::read_to_string(f.r("m/sub/old")).unwrap(), "o");
    assert_eq!(fs::read_to_string(f.r("m/sub/b")).unwrap(), "b");
    assert_eq!(stat(&f.r("m")).0, 0o711);
    // The merged subdirectory takes the source's mode and mtime, as docker's untar sets them.
    assert_eq!(stat(&f.r("m/sub")), (0o750, 0, 0, 1000));
}

#[test]
fn entries_in_the_way_are_replaced_never_followed() {
    let f = fixture();
    f.write("d/sub/b", "b", 0o644);
    f.write("d/file", "new", 0o644);
    fs::create_dir_all(f.r("dst")).unwrap();
    // dst/sub is a symlink to the image's /etc: it is replaced by a real directory.
    symlink("/etc", f.r("dst/sub")).unwrap();
    // dst/file is a directory: replaced by the file.
    fs::create_dir_all(f.r("dst/file/inner")).unwrap();
    f.copy(&["d"], "/dst").unwrap();
    assert!(fs::symlink_metadata(f.r("dst/sub")).unwrap().is_dir());
    assert!(!f.r("etc/b").exists());
    assert_eq!(fs::read_to_string(f.r("dst/file")).unwrap(), "new");
    // A directory onto an existing file fails as dockerd's does.
    fs::write(f.r("afile"), "x").unwrap();
    assert_eq!(
        err(f.copy(&["d"], "/afile")),
        "failed to copy files: failed to copy directory: mkdir /afile: not a directory"
    );
}

#[test]
fn errors_are_dockers() {
    let f = fixture();
    f.write("f", "x", 0o644);
    f.write("g", "y", 0o644);
    assert_eq!(
        err(f.copy(&["missing"], "/")),
        "COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist"
    );
    assert_eq!(
        err(f.run(&["/nope"], "/", |r| r.from_stage = true)),
        "COPY failed: stat nope: file does not exist"
    );
    assert_eq!(
        err(f.copy(&["nothing*"], "/")),
        "COPY failed: no source files were specified"
    );
    assert_eq!(
        err(f.copy(&["f", "g"], "/x")),
        "When using COPY with more than one source file, the destination must be a directory and end with a /"
    );
    assert_eq!(
        err(f.run(&["f", "g"], "/x", |r| r.is_add = true)),
        "When using ADD with more than one source file, the destination must be a directory and end with a /"
    );
    assert_eq!(err(f.copy(&["*"], "/x")), "When using COPY with more than one source file, the destination must be a directory and end with a /");
    assert_eq!(
        err(f.copy(&["http://example.com/x"], "/")),
        "COPY failed: source can't be a URL for COPY"
    );
    assert_eq!(
        err(f.copy(&["../f"], "/up")),
        "COPY failed: forbidden path outside the build context: ../f ()"
    );
    assert_eq!(
        err(f.copy(&["a/../../f"], "/up")),
        "COPY failed: forbidden path outside the build context: a/../../f ()"
    );
    // `..` that stays inside is fine.
    f.copy(&["sub/../f"], "/inside").unwrap();
    assert!(f.r("inside").is_file());
    assert_eq!(
        err(f.run(&["f"], "/", |r| r.chmod = Some("8"))),
        "invalid chmod parameter: '8'. it should be octal string and between 0 and 07777"
    );
    assert_eq!(
        err(f.run(&["f"], "/", |r| r.chmod = Some("17777"))),
        "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777"
    );
    let sum = format!("sha256:{}", "a".repeat(64));
    assert_eq!(
        err(f.run(&["f"], "/", |r| r.checksum = Some(sum.as_str()))),
        "checksum can't be specified for COPY"
    );
    assert_eq!(
        err(f.run(&["f"], "/", |r| {
            r.checksum = Some(sum.as_str());
            r.is_add = true
        })),
        "checksum requires HTTP(S) or Git sources"
    );
}

#[test]
fn wildcards_match_like_go_filepath_match() {
    let f = fixture();
    f.write("a.txt", "a", 0o644);
    f.write("b.txt", "b", 0o644);
    f.write("c.md", "c", 0o644);
    f.write("sub/d.txt", "d", 0o644);
    f.write("sub/e.md", "e", 0o644);
    f.copy(&["*.txt"], "/w/").unwrap();
    let mut names: Vec<_> = fs::read_dir(f.r("w"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["a.txt", "b.txt"]);
    f.copy(&["sub/*.txt"], "/w2/").unwrap();
    assert!(f.r("w2/d.txt").is_file() && !f.r("w2/e.md").exists());
    f.copy(&["[ac].*"], "/w3/").unwrap();
    assert!(f.r("w3/a.txt").is_file() && f.r("w3/c.md").is_file() && !f.r("w3/b.txt").exists());
    // A single match into a non-directory destination names the file.
    f.copy(&["c.m?"], "/single").unwrap();
    assert_eq!(fs::read_to_string(f.r("single")).unwrap(), "c");
    // A matched directory copies its contents.
    f.copy(&["su*"], "/w4/").unwrap();
    assert!(f.r("w4/d.txt").is_file());
}

#[test]
fn a_symlink_source_is_followed_only_inside_the_root() {
    let f = fixture();
    // Absolute and relative links pointing at the host's /etc/passwd.
    symlink("/etc/passwd", f.c("link")).unwrap();
    symlink("../../../../../../../../etc/passwd", f.c("rel")).unwrap();
    assert!(err(f.copy(&["link"], "/")).contains("stat link: file does not exist"));
    assert!(err(f.copy(&["rel"], "/")).contains("stat rel: file does not exist"));
    // With an etc/passwd inside the context, that one is what gets copied, named as the link.
    f.write("etc/passwd", "context passwd", 0o644);
    f.copy(&["link"], "/out/").unwrap();
    assert_eq!(
        fs::read_to_string(f.r("out/link")).unwrap(),
        "context passwd"
    );
    f.copy(&["rel"], "/out2").unwrap();
    assert_eq!(fs::read_to_string(f.r("out2")).unwrap(), "context passwd");
    // A linked directory: its contents are copied.
    symlink("etc", f.c("dl")).unwrap();
    f.copy(&["dl"], "/viadl/").unwrap();
    assert_eq!(
        fs::read_to_string(f.r("viadl/passwd")).unwrap(),
        "context passwd"
    );
    // A symlinked directory inside a copied tree stays a symlink; nothing behind it is read.
    let outside = TempDir::new().unwrap();
    fs::write(outside.path().join("secret"), "host").unwrap();
    fs::create_dir(f.c("tree")).unwrap();
    symlink(outside.path(), f.c("tree/escape")).unwrap();
    f.copy(&["tree"], "/tree").unwrap();
    assert!(fs::symlink_metadata(f.r("tree/escape"))
        .unwrap()
        .file_type()
        .is_symlink());
    // And the pattern walk does not descend through it either.
    f.copy(&["tree/escape/*"], "/pat/")
        .expect_err("no match through a symlink");
}

#[test]
fn the_destination_resolves_inside_the_target_rootfs() {
    let f = fixture();
    f.write("f", "payload", 0o644);
    let host = TempDir::new().unwrap();
    // The image has /out -> <a host path>; the copy lands inside the image, never on the host.
    symlink(host.path(), f.r("out")).unwrap();
    f.copy(&["f"], "/out/").unwrap();
    assert_eq!(fs::read_dir(host.path()).unwrap().count(), 0);
    let inside = f.r(host.path().to_str().unwrap()).join("f");
    assert_eq!(fs::read_to_string(inside).unwrap(), "payload");
    // ../ in the destination is clamped at the rootfs.
    f.copy(&["f"], "/../../../../escaped").unwrap();
    assert!(f.r("escaped").is_file());
    // A symlink to a directory in the image is followed as dockerd does (/usr/local/bin -> /bin).
    fs::create_dir_all(f.r("bin")).unwrap();
    fs::create_dir_all(f.r("usr/local")).unwrap();
    symlink("/bin", f.r("usr/local/bin")).unwrap();
    f.copy(&["f"], "/usr/local/bin/").unwrap();
    assert!(f.r("bin/f").is_file());
    // A final symlink is followed too: to a directory (into it), to a file (that file written).
    fs::create_dir(f.r("dd")).unwrap();
    symlink("/dd", f.r("dlnk")).unwrap();
    fs::write(f.r("target"), "t").unwrap();
    symlink("/target", f.r("lnk")).unwrap();
    f.copy(&["f"], "/dlnk").unwrap();
    assert!(f.r("dd/f").is_file());
    f.copy(&["f"], "/lnk").unwrap();
    assert_eq!(fs::read_to_string(f.r("target")).unwrap(), "payload");
    assert!(fs::symlink_metadata(f.r("lnk"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_selection_can_move_to_a_blocking_thread() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Selection>();
    send_sync::<RemoteFile>();
}

#[test]
fn chown_by_name_id_and_dockers_errors() {
    let f = fixture();
    f.write("f", "x", 0o644);
    f.write("d/a", "a", 0o644);
    f.run(&["f"], "/p/q/f", |r| r.chown = Some("alice:staff"))
        .unwrap();
    assert_eq!(stat(&f.r("p/q/f")), (0o644, 1000, 50, 978307200));
    // New parents of a copied file take the chown identity (MkdirAllAndChownNew).
    assert_eq!((stat(&f.r("p")).1, stat(&f.r("p")).2), (1000, 50));
    // A directory copy: the new destination is chowned, its new parents stay root's.
    f.run(&["d"], "/x/y/", |r| r.chown = Some("alice:staff"))
        .unwrap();
    assert_eq!(stat(&f.r("x/y/a")).1, 1000);
    assert_eq!((stat(&f.r("x/y")).1, stat(&f.r("x/y")).2), (1000, 50));
    assert_eq!((stat(&f.r("x")).1, stat(&f.r("x")).2), (0, 0));
    // An existing destination directory keeps its owner.
    f.run(&["d"], "/etc", |r| r.chown = Some("alice:staff"))
        .unwrap();
    assert_eq!(stat(&f.r("etc")).1, 0);
    assert_eq!(stat(&f.r("etc/a")).1, 1000);
    // A user alone: the group of the same name, else the user's primary group.
    f.run(&["f"], "/u1", |r| r.chown = Some("alice")).unwrap();
    assert_eq!((stat(&f.r("u1")).1, stat(&f.r("u1")).2), (1000, 1001));
    f.run(&["f"], "/u2", |r| r.chown = Some("bob")).unwrap();
    assert_eq!((stat(&f.r("u2")).1, stat(&f.r("u2")).2), (1002, 77));
    f.run(&["f"], "/u3", |r| r.chown = Some("5")).unwrap();
    assert_eq!((stat(&f.r("u3")).1, stat(&f.r("u3")).2), (5, 5));
    f.run(&["f"], "/u4", |r| r.chown = Some("7:alicegrp"))
        .unwrap();
    assert_eq!((stat(&f.r("u4")).1, stat(&f.r("u4")).2), (7, 1001));
    let prefix = "unable to convert uid/gid chown string to host mapping: ";
    assert_eq!(
        err(f.run(&["f"], "/e", |r| r.chown = Some("nosuch"))),
        format!("{prefix}can't find uid for user nosuch: no such user: nosuch")
    );
    assert_eq!(
        err(f.run(&["f"], "/e", |r| r.chown = Some("root:nogrp"))),
        format!("{prefix}can't find gid for group nogrp: no such group: nogrp")
    );
    assert_eq!(
        err(f.run(&["f"], "/e", |r| r.chown = Some("1:2:3"))),
        format!("{prefix}invalid chown string format: 1:2:3")
    );
    fs::remove_file(f.r("etc/passwd")).unwrap();
    assert_eq!(
        err(f.run(&["f"], "/e", |r| r.chown = Some("alice"))),
        format!(
            "{prefix}can't find uid for user alice: open /etc/passwd: no such file or directory"
        )
    );
    // The rootfs' /etc/passwd is read inside the rootfs even through an absolute symlink.
    let host = TempDir::new().unwrap();
    fs::write(host.path().join("passwd"), "evil:x:4242:4242::/:/bin/sh\n").unwrap();
    symlink(host.path().join("passwd"), f.r("etc/passwd")).unwrap();
    assert!(err(f.run(&["f"], "/e", |r| r.chown = Some("evil"))).contains("open /etc/passwd"));
}

#[test]
fn setuid_is_dropped_as_dockerds_chown_drops_it() {
    let f = fixture();
    f.write("s/suid", "s", 0o4755);
    f.write("s/sgid", "g", 0o2755);
    f.write("s/sgidnox", "n", 0o2745);
    fs::create_dir(f.c("s/sd")).unwrap();
    fs::set_permissions(f.c("s/sd"), fs::Permissions::from_mode(0o3775)).unwrap();
    f.copy(&["s"], "/s1").unwrap();
    assert_eq!(stat(&f.r("s1/suid")).0, 0o755);
    assert_eq!(stat(&f.r("s1/sgid")).0, 0o755);
    assert_eq!(stat(&f.r("s1/sgidnox")).0, 0o2745);
    assert_eq!(stat(&f.r("s1/sd")).0, 0o3775);
    f.copy(&["s/suid"], "/s3").unwrap();
    assert_eq!(stat(&f.r("s3")).0, 0o755);
    // COPY --from without --chown does not chown, so the bits stay.
    f.run(&["s"], "/s4", |r| r.from_stage = true).unwrap();
    assert_eq!(stat(&f.r("s4/suid")).0, 0o4755);
}

fn get_cap(p: &Path) -> Option<Vec<u8>> {
    let f = fs::File::open(p).unwrap();
    SourceRoot::capability(&f)
}

#[test]
fn file_capabilities_survive_only_without_the_chown() {
    let f = fixture();
    f.write("capd/ping", "p", 0o755);
    // VFS_CAP_REVISION_2 with the effective flag, permitted = CAP_NET_BIND_SERVICE.
    let mut cap = Vec::new();
    for w in [0x0200_0001u32, 1 << 10, 0, 0, 0] {
        cap.extend_from_slice(&w.to_le_bytes());
    }
    let file = fs::File::open(f.c("capd/ping")).unwrap();
    crate::fs_at::set_xattr(&file, c"security.capability", &cap).unwrap();
    assert_eq!(get_cap(&f.c("capd/ping")), Some(cap.clone()));
    f.run(&["capd"], "/kept", |r| r.from_stage = true).unwrap();
    assert_eq!(get_cap(&f.r("kept/ping")), Some(cap.clone()));
    f.run(&["capd/ping"], "/kept1", |r| r.from_stage = true)
        .unwrap();
    assert_eq!(get_cap(&f.r("kept1")), Some(cap));
    f.copy(&["capd"], "/dropped").unwrap();
    assert_eq!(get_cap(&f.r("dropped/ping")), None);
}

#[test]
fn chmod_applies_to_copied_files_and_dirs() {
    let f = fixture();
    f.write("d/a", "a", 0o600);
    f.write("d/sub/b", "b", 0o600);
    symlink("a", f.c("d/l")).unwrap();
    f.write("f", "f", 0o600);
    f.run(&["d"], "/cd/", |r| r.chmod = Some("751")).unwrap();
    assert_eq!(stat(&f.r("cd/a")).0, 0o751);
    assert_eq!(stat(&f.r("cd/sub")).0, 0o751);
    assert_eq!(stat(&f.r("cd/sub/b")).0, 0o751);
    assert!(fs::symlink_metadata(f.r("cd/l"))
        .unwrap()
        .file_type()
        .is_symlink());
    f.run(&["f"], "/new/parent/f", |r| r.chmod = Some("4755"))
        .unwrap();
    assert_eq!(stat(&f.r("new/parent/f")).0, 0o4755);
    assert_eq!(stat(&f.r("new/parent")).0, 0o755);
}

#[test]
fn heredocs_become_files() {
    let f = fixture();
    let docs = vec![("EOF".to_string(), "hello\n".to_string())];
    f.run(&["<<EOF"], "/h/x.txt", |r| r.heredocs = &docs)
        .unwrap();
    assert_eq!(fs::read_to_string(f.r("h/x.txt")).unwrap(), "hello\n");
    assert_eq!(stat(&f.r("h/x.txt")).0, 0o644);
    f.run(&[], "/h2/", |r| {
        r.heredocs = &docs;
        r.chmod = Some("700");
        r.chown = Some("alice")
    })
    .unwrap();
    let (mode, uid, gid, _) = stat(&f.r("h2/EOF"));
    assert_eq!((mode, uid, gid), (0o700, 1000, 1001));
    let two = vec![
        ("A".to_string(), "a".to_string()),
        ("B".to_string(), "b".to_string()),
    ];
    assert!(err(f.run(&[], "/h3", |r| r.heredocs = &two)).starts_with("When using COPY"));
    f.run(&[], "/h3/", |r| r.heredocs = &two).unwrap();
    assert_eq!(fs::read_to_string(f.r("h3/B")).unwrap(), "b");
}

#[test]
fn copy_from_a_stage_keeps_owners_unless_chown() {
    let f = fixture();
    f.write("bin/tool", "t", 0o755);
    std::os::unix::fs::chown(f.c("bin/tool"), Some(123), Some(456)).unwrap();
    std::os::unix::fs::chown(f.c("bin"), Some(7), Some(8)).unwrap();
    f.run(&["/bin"], "/stage/", |r| r.from_stage = true)
        .unwrap();
    assert_eq!(
        (stat(&f.r("stage/tool")).1, stat(&f.r("stage/tool")).2),
        (123, 456)
    );
    f.run(&["/bin/tool"], "/one", |r| r.from_stage = true)
        .unwrap();
    assert_eq!(stat(&f.r("one")).1, 123);
    // From the context (or with --chown) everything is the identity's.
    f.copy(&["bin/tool"], "/ctx").unwrap();
    assert_eq!(stat(&f.r("ctx")).1, 0);
    f.run(&["/bin/tool"], "/chowned", |r| {
        r.from_stage = true;
        r.chown = Some("9:9")
    })
    .unwrap();
    assert_eq!(stat(&f.r("chowned")).1, 9);
}

#[test]
fn hard_links_and_special_files_survive_a_directory_copy() {
    let f = fixture();
    f.write("d/x", "x", 0o644);
    fs::hard_link(f.c("d/x"), f.c("d/y")).unwrap();
    nix::unistd::mkfifo(
        &f.c("d/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    f.copy(&["d"], "/d").unwrap();
    let (x, y) = (
        fs::metadata(f.r("d/x")).unwrap(),
        fs::metadata(f.r("d/y")).unwrap(),
    );
    assert_eq!(x.ino(), y.ino());
    assert_eq!(x.nlink(), 2);
    let fifo = fs::symlink_metadata(f.r("d/fifo")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    assert_eq!(fifo.mode() & 0o7777, 0o640);
}

fn tar_bytes() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_mode(0o750);
    h.set_uid(123);
    h.set_gid(456);
    h.set_mtime(1000);
    h.set_size(0);
    b.append_data(&mut h, "tdir/", std::io::empty()).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o640);
    h.set_uid(123);
    h.set_gid(456);
    h.set_mtime(2000);
    h.set_size(2);
    b.append_data(&mut h, "tdir/t", &b"t\n"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mtime(2000);
    b.append_link(&mut h, "tdir/l", "/etc/passwd").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Link);
    h.set_size(0);
    h.set_mode(0o640);
    b.append_link(&mut h, "tdir/hl", "tdir/t").unwrap();
    b.into_inner().unwrap()
}

#[test]
fn add_extracts_local_archives_of_every_compression() {
    let f = fixture();
    let plain = tar_bytes();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    bz.write_all(&plain).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(&plain).unwrap();
    let archives = [
        ("a.tar", plain.clone()),
        ("a.tgz", gz.finish().unwrap()),
        ("a.tbz", bz.finish().unwrap()),
        ("a.txz", xz.finish().unwrap()),
    ];
    for (name, bytes) in &archives {
        fs::write(f.c(name), bytes).unwrap();
        let dest = format!("/x/{name}");
        // --chown does not apply to extracted entries, as in dockerd.
        f.run(&[name], &dest, |r| {
            r.is_add = true;
            r.chown = Some("alice")
        })
        .unwrap();
        let d = f.r(&dest);
        assert_eq!(stat(&d.join("tdir")), (0o750, 123, 456, 1000), "{name}");
        assert_eq!(stat(&d.join("tdir/t")), (0o640, 123, 456, 2000), "{name}");
        assert_eq!(
            fs::read_link(d.join("tdir/l")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(
            fs::metadata(d.join("tdir/hl")).unwrap().ino(),
            fs::metadata(d.join("tdir/t")).unwrap().ino()
        );
        assert_eq!(stat(&d).0, 0o755);
    }
    // COPY never extracts; ADD of a non-archive copies it.
    f.copy(&["a.tgz"], "/c/").unwrap();
    assert_eq!(fs::read(f.r("c/a.tgz")).unwrap(), archives[1].1);
    f.write("notar.gz", "just text that is not gzip", 0o644);
    f.run(&["notar.gz"], "/n/", |r| r.is_add = true).unwrap();
    assert!(f.r("n/notar.gz").is_file());
    // A short or zero-filled file is not an archive.
    fs::write(f.c("zeros"), vec![0u8; 4096]).unwrap();
    f.run(&["zeros"], "/z/", |r| r.is_add = true).unwrap();
    assert!(f.r("z/zeros").is_file());
}

#[test]
fn archive_entries_replace_earlier_ones_and_missing_parents_are_made() {
    let f = fixture();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, ty: tar::EntryType, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(ty);
        h.set_mode(0o644);
        h.set_uid(5);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, name, data).unwrap();
    };
    add("a/", tar::EntryType::Directory, b"");
    add("a/f", tar::EntryType::Regular, b"1");
    add("a", tar::EntryType::Regular, b"now a file");
    add("deep/er/g", tar::EntryType::Regular, b"g");
    add("deep/er/h", tar::EntryType::Regular, b"h");
    fs::write(f.c("dup.tar"), b.into_inner().unwrap()).unwrap();
    f.run(&["dup.tar"], "/x", |r| r.is_add = true).unwrap();
    assert_eq!(fs::read_to_string(f.r("x/a")).unwrap(), "now a file");
    assert_eq!(fs::read_to_string(f.r("x/deep/er/h")).unwrap(), "h");
    assert_eq!(
        stat(&f.r("x/deep/er")),
        (0o755, 0, 0, stat(&f.r("x/deep/er")).3)
    );
    assert_eq!(stat(&f.r("x/deep/er/g")).1, 5);
}

#[test]
fn archive_entries_cannot_escape_the_destination() {
    let f = fixture();
    let mut raw = tar::Header::new_old();
    raw.set_size(1);
    raw.set_mode(0o644);
    // Bypass the tar crate's own path checks by writing the name bytes directly.
    {
        let name = b"../../evil";
        let bytes = raw.as_mut_bytes();
        bytes[..name.len()].copy_from_slice(name);
    }
    raw.set_cksum();
    let mut data = raw.as_bytes().to_vec();
    data.extend_from_slice(&[b'x'; 512][..512]);
    data.extend_from_slice(&[0u8; 1024]);
    fs::write(f.c("evil.tar"), &data).unwrap();
    let e = err(f.run(&["evil.tar"], "/deep/dir/", |r| r.is_add = true));
    assert!(e.contains("outside of the destination"), "{e}");
    assert!(!f.r("deep/evil").exists() && !f.r("evil").exists());
    // A relative symlink climbing out is refused as dockerd refuses it; an absolute one is data.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "a/abs", "/etc/shadow").unwrap();
    let ok = b.into_inner().unwrap();
    fs::write(f.c("abs.tar"), ok).unwrap();
    f.run(&["abs.tar"], "/abs/", |r| r.is_add = true).unwrap();
    assert_eq!(
        fs::read_link(f.r("abs/a/abs")).unwrap(),
        Path::new("/etc/shadow")
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    b.append_link(&mut h, "a/l", "../../x").unwrap();
    fs::write(f.c("sl.tar"), b.into_inner().unwrap()).unwrap();
    let e = err(f.run(&["sl.tar"], "/sl/", |r| r.is_add = true));
    assert!(e.contains("invalid symlink \"a/l\" -> \"../../x\""), "{e}");
}

#[test]
fn add_remote_files() {
    let f = fixture();
    let scratch = TempDir::new().unwrap();
    let named = vec![remote::fake(
        "http://h/dir/file.bin",
        Some("file.bin"),
        b"remote",
        scratch.path(),
    )];
    f.run(&["http://h/dir/file.bin"], "/dl/", |r| {
        r.is_add = true;
        r.remote = &named
    })
    .unwrap();
    assert_eq!(fs::read_to_string(f.r("dl/file.bin")).unwrap(), "remote");
    assert_eq!(stat(&f.r("dl/file.bin")), (0o600, 0, 0, 0));
    let unnamed = vec![remote::fake("http://h/", None, b"r", scratch.path())];
    f.run(&["http://h/"], "/plain", |r| {
        r.is_add = true;
        r.remote = &unnamed
    })
    .unwrap();
    assert!(f.r("plain").is_file());
    assert_eq!(
        err(f.run(&["http://h/"], "/dir/", |r| {
            r.is_add = true;
            r.remote = &unnamed
        })),
        "ADD failed: cannot determine filename for source http://h/"
    );
    // A downloaded archive is not extracted.
    let tarred = vec![remote::fake(
        "http://h/a.tar",
        Some("a.tar"),
        &tar_bytes(),
        scratch.path(),
    )];
    f.run(&["http://h/a.tar"], "/t/", |r| {
        r.is_add = true;
        r.remote = &tarred
    })
    .unwrap();
    assert!(f.r("t/a.tar").is_file());
}

/// A one-shot HTTP server on localhost answering every request with `response`.
async fn serve(response: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(&response).await;
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn fetch_remote_checks_status_and_checksum() {
    let body = b"downloaded content";
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut r = resp.into_bytes();
    r.extend_from_slice(body);
    let base = serve(r).await;
    let scratch = TempDir::new().unwrap();
    let url = format!("{base}/files/data.txt");
    let good = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body))
    );
    let file = fetch_remote(&url, scratch.path(), Some(good.as_str()))
        .await
        .unwrap();
    assert_eq!(file.filename.as_deref(), Some("data.txt"));
    assert_eq!(file.mtime, 784111777);
    assert_eq!(fs::read(file.path()).unwrap(), body);
    assert_eq!(fs::metadata(file.path()).unwrap().mode() & 0o777, 0o600);
    let path = file.path();
    drop(file);
    assert!(
        !path.exists(),
        "the download is removed with its last handle"
    );
    // The whole ADD through fetch_remotes, select and apply.
    let f = fixture();
    let sources = vec![url.clone(), "f".to_string()];
    f.write("f", "local", 0o644);
    let remote = fetch_remotes(&sources, true, None, scratch.path())
        .await
        .unwrap();
    assert_eq!(remote.len(), 1);
    assert!(fetch_remotes(&sources, false, None, scratch.path())
        .await
        .unwrap()
        .is_empty());
    let req = CopyRequest {
        source_root: f.ctx.path(),
        sources: &sources,
        dest: "/dl/",
        workdir: "/",
        chown: None,
        chmod: None,
        is_add: true,
        checksum: None,
        heredocs: &[],
        from_stage: false,
        remote: &remote,
        known_digests: None,
    };
    let sel = select(&req).unwrap();
    apply(&sel, fs::File::open(f.root.path()).unwrap()).unwrap();
    assert_eq!(fs::read(f.r("dl/data.txt")).unwrap(), body);
    assert_eq!(stat(&f.r("dl/data.txt")), (0o600, 0, 0, 784111777));
    assert_eq!(fs::read_to_string(f.r("dl/f")).unwrap(), "local");
    let bad = format!("sha256:{}", "0".repeat(64));
    let e = fetch_remote(&url, scratch.path(), Some(bad.as_str()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("digest mismatch for {url}: sha256:")),
        "{e}"
    );
    let missing = serve(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot here\n"
            .to_vec(),
    )
    .await;
    let e = fetch_remote(&format!("{missing}/x"), scratch.path(), None)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!("failed to GET {missing}/x with status 404 Not Found: not here")
    );
}

fn digest_of<'a>(
    f: &'a Fixture,
    sources: &[&str],
    dest: &'a str,
    tweak: impl FnOnce(&mut CopyRequest<'a>),
) -> String {
    f.run(sources, dest, tweak).unwrap().digest(None).unwrap()
}

#[test]
fn digest_follows_content_mode_and_options_never_mtime() {
    let f = fixture();
    f.write("d/a", "a", 0o644);
    f.write("d/b", "b", 0o644);
    let base = digest_of(&f, &["d"], "/x/", |_| {});
    assert_eq!(base, digest_of(&f, &["d"], "/x/", |_| {}));
    set_mtime(&f.c("d/a"), 5);
    assert_eq!(
        base,
        digest_of(&f, &["d"], "/x/", |_| {}),
        "mtime is not part of the key"
    );
    f.write("d/a", "A", 0o644);
    let changed = digest_of(&f, &["d"], "/x/", |_| {});
    assert_ne!(base, changed);
    fs::set_permissions(f.c("d/a"), fs::Permissions::from_mode(0o600)).unwrap();
    let moded = digest_of(&f, &["d"], "/x/", |_| {});
    assert_ne!(changed, moded);
    assert_ne!(moded, digest_of(&f, &["d"], "/y/", |_| {}));
    assert_ne!(
        moded,
        digest_of(&f, &["d"], "/x/", |r| r.chown = Some("alice"))
    );
    assert_ne!(
        moded,
        digest_of(&f, &["d"], "/x/", |r| r.chmod = Some("700"))
    );
    assert_ne!(moded, digest_of(&f, &["d"], "/x/", |r| r.is_add = true));
    symlink("a", f.c("d/l")).unwrap();
    let linked = digest_of(&f, &["d"], "/x/", |_| {});
    fs::remove_file(f.c("d/l")).unwrap();
    symlink("b", f.c("d/l")).unwrap();
    assert_ne!(
        linked,
        digest_of(&f, &["d"], "/x/", |_| {}),
        "link targets count"
    );
    assert!(base.starts_with("sha256:") && base.len() == 71);
}

#[test]
fn history_is_the_legacy_builders() {
    let f = fixture();
    f.write("f", "x", 0o644);
    f.write("d/a", "a", 0o644);
    let s = f
        .copy(&["f"], "/dst/")
        .unwrap()
        .history_summary("COPY", "/dst/")
        .unwrap();
    assert!(
        s.starts_with("COPY file:") && s.ends_with(" in /dst/ "),
        "{s}"
    );
    assert_eq!(s.len(), "COPY file: in /dst/ ".len() + 64);
    let s = f
        .copy(&["d"], "rel")
        .unwrap()
        .history_summary("COPY", "rel")
        .unwrap();
    assert!(s.starts_with("COPY dir:") && s.ends_with(" in rel "), "{s}");
    let s = f
        .copy(&["f", "d"], "/m/")
        .unwrap()
        .history_summary("COPY", "/m/")
        .unwrap();
    assert!(s.starts_with("COPY multi:"), "{s}");
    let s = f
        .run(&["f"], "/c", |r| r.chown = Some("alice:staff"))
        .unwrap()
        .history_summary("ADD", "/c")
        .unwrap();
    assert!(s.starts_with("ADD --chown=alice:stafffile:"), "{s}");
}

#[test]
fn large_files_are_streamed() {
    let f = fixture();
    let path = f.c("big");
    let mut file = fs::File::create(&path).unwrap();
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..24 {
        file.write_all(&chunk).unwrap();
    }
    drop(file);
    let sel = f.copy(&["big"], "/big").unwrap();
    assert!(sel.digest(None).unwrap().starts_with("sha256:"));
    assert_eq!(fs::metadata(f.r("big")).unwrap().len(), 24 << 20);
}
