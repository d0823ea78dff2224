//! Engine start after a kill (`load.rs`, `recover.rs`): a shim the records do not know of is
//! adopted when its container is listed and ended when it is not; a lost shim's cgroup is
//! emptied before the container is settled; a removal the kill interrupted is finished.

use serde_json::json;

use super::Fixture;
use crate::model::container::Status;
use crate::runtime::spec::files;
use crate::service::container::host::fake::{Call, FakeHost};

#[tokio::test]
async fn a_shim_started_before_the_record_said_so_is_adopted() {
    let f = Fixture::new();
    // Created on disk; the kill came after the shim started, before `running` was saved.
    let id = f.create(json!({}));
    std::fs::write(f.svc.dir(&id).join(files::SHIM_SOCKET), b"").unwrap();
    let host = FakeHost::new();
    host.shim_lives(&id, 4242);
    let svc = f.restart_engine(&host).await;
    let c = svc.get(&id).unwrap();
    assert_eq!(c.status(), Status::Running);
    assert!(c.record().state.pid > 0);
    assert!(c.life.borrow().running);
    assert!(
        !host.calls().contains(&Call::KillShim(4242)),
        "{:?}",
        host.calls()
    );
    // Adopted for real: a kill reaches its process through the reconnected shim.
    svc.kill(&id, None).await.unwrap();
    assert_eq!(host.signals(), vec![libc::SIGKILL]);
}

#[tokio::test]
async fn a_lost_shim_s_cgroup_is_emptied_before_the_container_is_settled() {
    let f = Fixture::new();
    let id = f.run(json!({})).await;
    let host = FakeHost::new();
    let svc = f.restart_engine(&host).await;
    let rec = svc.get(&id).unwrap().record();
    assert_eq!(rec.state.status, Status::Exited);
    assert_eq!(rec.state.exit_code, 255);
    let calls = host.calls();
    let kill = calls
        .iter()
        .position(|c| *c == Call::KillCgroup(format!("berth/{id}")));
    assert!(kill.is_some(), "{calls:?}");
}

#[tokio::test]
async fn shims_no_container_accounts_for_are_ended() {
    let f = Fixture::new();
    let kept = f.create(json!({}));
    let host = FakeHost::new();
    let gone = "ab".repeat(32);
    host.shim_lives(&format!(".removing-{gone}"), 77);
    host.shim_lives(&"cd".repeat(32), 78);
    f.restart_engine(&host).await;
    let calls = host.calls();
    for want in [
        Call::KillShim(77),
        Call::KillShim(78),
        Call::KillCgroup(format!("berth/{gone}")),
        Call::KillCgroup(format!("berth/{}", "cd".repeat(32))),
        // A stopped container's cgroup is checked too.
        Call::KillCgroup(format!("berth/{kept}")),
    ] {
        assert!(calls.contains(&want), "{want:?} in {calls:?}");
    }
}

#[tokio::test]
async fn a_removal_interrupted_after_unlisting_is_finished() {
    let f = Fixture::new();
    let id = f.create(json!({}));
    let dir = f.svc.dir(&id);
    // What `rm -v` leaves when killed between its rename and the deletion.
    std::fs::write(dir.join("remove-volumes"), b"").unwrap();
    let doomed = dir.with_file_name(format!(".removing-{id}"));
    std::fs::rename(&dir, &doomed).unwrap();
    let host = FakeHost::new();
    let svc = f.restart_engine(&host).await;
    assert!(svc.get(&id).is_err());
    assert!(!doomed.exists());
    assert!(svc.interrupted.lock().unwrap().is_empty());
}
