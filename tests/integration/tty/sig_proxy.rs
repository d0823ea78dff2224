//! `berth attach` and signals: with and without sig-proxy, and without stdin.

use super::*;

/// Start "sp": a shell with stdin open that says "ready", then on SIGTERM "got-term" and exits 12.
fn start_sp(e: &TestEngine) {
    let script = "trap 'echo got-term; exit 12' TERM; echo ready; while true; do sleep 0.1; done";
    let o = e.berth(&[
        "run", "-d", "-i", "--name", "sp", "busybox", "sh", "-c", script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let logs_ready = || {
        eventually(Duration::from_secs(10), || {
            stdout(&e.berth(&["logs", "sp"]))
                .contains("ready")
                .then_some(())
        })
    };
    assert!(logs_ready().is_some());
}

/// `attach` without a TTY forwards our signals to the container (`--sig-proxy`, the default);
/// `--sig-proxy=false` leaves the container alone; `--no-stdin` keeps our stdin to ourselves.
#[test]
fn berth_attach_without_sig_proxy_ends_only_the_client_on_sigterm() {
    let e = TestEngine::with_busybox();
    start_sp(&e);

    // --sig-proxy=false: SIGTERM ends the client only.
    let child = berth_cmd(&e, &["attach", "--no-stdin", "--sig-proxy=false", "sp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(status(&e, "sp"), "running");
}

#[test]
fn berth_attach_proxies_sigterm_and_sends_no_stdin_with_no_stdin() {
    let e = TestEngine::with_busybox();
    start_sp(&e);

    // Default: the signal reaches the container, whose exit code attach returns. Its stdin is
    // a pipe we keep open: with --no-stdin nothing of it may reach the container.
    let mut child = berth_cmd(&e, &["attach", "--no-stdin", "sp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"should not arrive\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    drop(input);
    assert_eq!(o.status.code(), Some(12), "{}", stderr(&o));
    assert!(stdout(&o).contains("got-term"), "{}", stdout(&o));
}
