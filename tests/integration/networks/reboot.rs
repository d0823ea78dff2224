//! After a reboot: restart policies bring networking back and nothing stale is left.

use super::*;

#[test]
fn after_a_reboot_policies_restore_networking_and_nothing_stale_is_left() {
    let mut e = TestEngine::with_busybox();
    let port = free_port();
    ok(&e.docker(&["network", "create", "bootnet"]));
    let bootnet_id = ok(&e.docker(&["network", "inspect", "-f", "{{.Id}}", "bootnet"]));
    let user_bridge = format!("br-{}", &bootnet_id.trim()[..12]);
    ok(&e.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "--restart",
        "always",
        "--network",
        "bootnet",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]));
    ok(&e.docker(&["run", "-d", "--name", "idle", "busybox", "sleep", "600"]));
    let pids: Vec<String> = ["web", "idle"]
        .iter()
        .map(|n| {
            ok(&e.docker(&["inspect", "-f", "{{.State.Pid}}", n]))
                .trim()
                .to_owned()
        })
        .collect();
    let served = || {
        eventually(Duration::from_secs(15), || {
            http_get(&format!("127.0.0.1:{port}")).filter(|b| b.contains("hello-from-berth"))
        })
    };
    assert!(served().is_some());
    let dnat_rules = nft_table(&e).matches(&format!("dport {port}")).count();
    assert!(dnat_rules >= 1);

    simulate_reboot(&mut e, &pids, std::slice::from_ref(&user_bridge));
    assert!(links_on_bridge(&user_bridge).is_empty());
    assert!(
        http_get(&format!("127.0.0.1:{port}")).is_none(),
        "still served after the 'reboot'"
    );
    e.spawn();

    // `always` brings web back with its network, published port and name resolution.
    assert!(
        served().is_some(),
        "web not served after restart\n{}",
        e.log()
    );
    ok(&e.docker(&[
        "run",
        "--rm",
        "--network",
        "bootnet",
        "busybox",
        "wget",
        "-qO-",
        "http://web/index.html",
    ]));
    // idle (no policy) is exited and holds nothing: one namespace (web's), web's veth on the
    // user bridge only, the port's DNAT rules once.
    let state = ok(&e.docker(&["inspect", "-f", "{{.State.Status}}", "idle"]));
    assert_eq!(state.trim(), "exited");
    assert_eq!(netns_files(&e), 1);
    assert_eq!(links_on_bridge(&e.net.bridge).lines().count(), 0);
    // The `--rm` wget container's veth goes when the kernel tears its namespace down, moments
    // after it exits: wait for that, then exactly web's is left.
    let veths = eventually(Duration::from_secs(5), || {
        let n = links_on_bridge(&user_bridge).lines().count();
        (n == 1).then_some(n)
    });
    assert_eq!(veths, Some(1), "{}", links_on_bridge(&user_bridge));
    let table = nft_table(&e);
    assert_eq!(
        table.matches(&format!("dport {port}")).count(),
        dnat_rules,
        "{table}"
    );
    ok(&e.docker(&["rm", "-f", "web", "idle"]));
    assert_eq!(netns_files(&e), 0);
    assert!(!nft_table(&e).contains(&format!("dport {port}")));
}
