use super::*;
use crate::cli::{Cli, Cmd, ImageCmd};
use clap::Parser;
use serde_json::json;

fn parse(args: &[&str]) -> BuildArgs {
    let mut argv = vec!["berth", "--headless", "build"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Some(Cmd::Build(a)) => a,
        other => panic!("not build: {other:?}"),
    }
}

fn env(k: &str) -> Option<String> {
    (k == "FROM_ENV").then(|| "env value".to_string())
}

#[test]
fn docker_build_flags() {
    let a = parse(&[
        "-t",
        "app:1",
        "--tag",
        "app:latest",
        "-f",
        "sub/Dockerfile.dev",
        "--build-arg",
        "A=1",
        "--build-arg",
        "FROM_ENV",
        "--build-arg",
        "UNSET_ONE",
        "--target",
        "final",
        "--no-cache",
        "--pull",
        "--label",
        "org.x=y",
        "-q",
        "--iidfile",
        "/tmp/iid",
        "--network",
        "host",
        "--add-host",
        "db:10.0.0.2",
        "--cache-from",
        "a:1,b:2",
        "--cache-from",
        "c:3",
        "--secret",
        "id=tok,src=/dev/null",
        "--rm=false",
        "--force-rm",
        "-m",
        "512m",
        "--shm-size",
        "64m",
        "--platform",
        "linux/amd64",
        "--progress",
        "plain",
        "ctx",
    ]);
    assert_eq!(a.context, "ctx");
    assert_eq!(a.file.as_deref(), Some("sub/Dockerfile.dev"));
    assert_eq!(a.iidfile, Some(PathBuf::from("/tmp/iid")));
    assert_eq!(a.progress, Progress::Plain);
    let p = a.params(env).unwrap();
    assert_eq!(p.tags, ["app:1", "app:latest"]);
    assert_eq!(
        p.build_args,
        [
            ("A".to_string(), Some("1".to_string())),
            ("FROM_ENV".to_string(), Some("env value".to_string())),
            ("UNSET_ONE".to_string(), None),
        ]
    );
    assert_eq!(p.labels, [("org.x".to_string(), "y".to_string())]);
    assert_eq!(p.target.as_deref(), Some("final"));
    assert!(p.no_cache && p.pull && p.quiet && !p.rm && p.force_rm);
    assert_eq!(p.network.as_deref(), Some("host"));
    assert_eq!(p.extra_hosts, ["db:10.0.0.2"]);
    assert_eq!(p.cache_from, ["a:1", "b:2", "c:3"]);
    assert_eq!(p.memory, Some(512 << 20));
    assert_eq!(p.shm_size, Some(64 << 20));
    assert_eq!(p.platform.as_deref(), Some("linux/amd64"));
    let secrets = a.secrets(env).unwrap();
    assert_eq!(secrets, [("tok".to_string(), Vec::new())]);
}

#[test]
fn defaults_and_the_image_form() {
    let a = parse(&["."]);
    assert!(a.rm && !a.force_rm && !a.quiet);
    assert_eq!(a.progress, Progress::Auto);
    let p = a.params(env).unwrap();
    assert!(p.rm);
    assert_eq!(
        crate::client::api::build::build(&p).path,
        "/build?version=1"
    );
    // `--rm` alone is true; `docker image build` is the same command.
    assert!(parse(&["--rm", "."]).rm);
    let cli = Cli::try_parse_from(["berth", "image", "build", "-t", "x", "-"]).unwrap();
    assert!(matches!(
        cli.command,
        Some(Cmd::Image(ImageCmd::Build(ref a))) if a.context == "-"
    ));
    // The context is required, and only one.
    assert!(Cli::try_parse_from(["berth", "build"]).is_err());
    assert!(Cli::try_parse_from(["berth", "build", "a", "b"]).is_err());
    assert!(Cli::try_parse_from(["berth", "build", "--progress", "fancy", "."]).is_err());
}

#[test]
fn bad_values_are_flag_errors() {
    let code = |args: &[&str]| -> i32 {
        let e = parse(args).params(env).unwrap_err();
        e.downcast_ref::<ExitError>().map(|x| x.code).unwrap()
    };
    assert_eq!(code(&["--build-arg", "=x", "."]), 125);
    assert_eq!(code(&["--label", "=x", "."]), 125);
    assert_eq!(code(&["--add-host", "nohost", "."]), 125);
    assert_eq!(code(&["-m", "lots", "."]), 125);
    assert_eq!(code(&["-t", "a:b:c", "."]), 125);
    let e = parse(&["-t", "UPPER", "."]).params(env).unwrap_err();
    assert_eq!(
        e.to_string(),
        "berth build: invalid argument \"UPPER\" for \"-t, --tag\" flag: invalid reference format: repository name (library/UPPER) must be lowercase"
    );
    let e = parse(&["--add-host", "db:x", "."]).params(env).unwrap_err();
    assert_eq!(
        e.to_string(),
        "berth build: invalid argument \"db:x\" for \"--add-host\" flag: invalid IP address in add-host: \"x\""
    );
    let e = parse(&["--secret", "src=/x", "."])
        .secrets(env)
        .unwrap_err();
    assert_eq!(e.downcast_ref::<ExitError>().unwrap().code, 125);
}

#[test]
fn modes() {
    use Progress::*;
    assert_eq!(Mode::resolve(false, Auto, true), Mode::Tty);
    assert_eq!(Mode::resolve(false, Auto, false), Mode::Plain);
    assert_eq!(Mode::resolve(false, Plain, true), Mode::Plain);
    assert_eq!(Mode::resolve(false, Tty, false), Mode::Tty);
    assert_eq!(Mode::resolve(false, Quiet, true), Mode::IdOnly);
    assert_eq!(Mode::resolve(true, Tty, true), Mode::Quiet);
}

#[test]
fn failures_carry_the_commands_exit_code() {
    let m = "The command '/bin/sh -c exit 3' returned a non-zero code: 3";
    assert_eq!(
        failure(&json!({"errorDetail":{"code":3,"message":m},"error":m})),
        Some((3, m.to_string()))
    );
    assert_eq!(
        failure(&json!({"errorDetail":{"message":"no such image"},"error":"no such image"})),
        Some((1, "no such image".to_string()))
    );
    assert_eq!(
        failure(&json!({"error":"bare"})),
        Some((1, "bare".to_string()))
    );
    assert_eq!(failure(&json!({"stream":"Step 1/1 : FROM x"})), None);
}

#[test]
fn stdin_for_both_is_refused() {
    let a = parse(&["-f", "-", "-"]);
    let e = a.context_spec().map(drop).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid argument: can't use stdin for both build context and dockerfile"
    );
    let a = parse(&["-f", "x/Dockerfile", "ctx"]);
    let (spec, remote) = a.context_spec().unwrap();
    assert_eq!(spec.dir, Some(PathBuf::from("ctx")));
    assert_eq!(spec.dockerfile, Some(PathBuf::from("x/Dockerfile")));
    assert!(remote.is_none());
    assert!(parse(&["-"]).context_spec().unwrap().0.dir.is_none());
    // A git URL is cloned like a directory; any other URL is downloaded.
    let (spec, remote) = parse(&["https://h/r.git#main"]).context_spec().unwrap();
    assert_eq!(spec.dir, Some(PathBuf::from("https://h/r.git#main")));
    assert!(remote.is_none());
    let (spec, remote) = parse(&["https://h/ctx.tar.gz"]).context_spec().unwrap();
    assert!(spec.dir.is_none());
    assert_eq!(remote.as_deref(), Some("https://h/ctx.tar.gz"));
}
