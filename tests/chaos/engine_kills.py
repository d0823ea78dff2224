#!/usr/bin/env python3
"""Chaos: several clients drive a berth engine with a mixed workload while the engine is
SIGKILLed at random moments and started again; afterwards nothing is lost and nothing is
invisible, and removing everything leaves nothing of that engine on the host.

    tests/chaos/engine_kills.py [--ops 1000] [--kills 20] [--clients 4] [--berth target/debug/berth]

The engine gets its own socket, data root, bridge, subnets and nft table (it runs beside other
engines). Clients use the stock docker CLI (DOCKER, default docker). Operations: run -d (with
restart policies, volumes, networks), create, start, stop, restart, kill, rm -f, exec, volume
and network churn, pull from a local registry (REGISTRY=host:port, optional), save/load. A
client's failure while the engine is down or restarting is expected; what the engine confirmed
is what is checked:

  - every container a client saw created and never tried to remove is listed;
  - every shim process and every populated cgroup of this engine belongs to a listed container
    that is running (or paused, restarting), and every running one has its shim;
  - `berth system check` is clean;
  - after removing everything: no shim, no mount under the data root, no cgroup, no network
    namespace pin, no veth on the engine's bridges, no per-container nft rule.

Exit status 0 when every check holds; the failures are printed otherwise.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ENGINE_ARGS = [
    "--bridge-name", "chaos0",
    "--bridge-subnet", "10.251.0.0/24",
    "--network-pool", "10.252.0.0/16",
    "--nft-table", "berth_chaos",
]


class Engine:
    def __init__(self, berth, root):
        self.berth = berth
        self.root = root
        self.sock = os.path.join(root, "b.sock")
        self.data = os.path.join(root, "data")
        self.proc = None
        # Set while the engine answers: clients send their next operation only then, so kills
        # land in the middle of operations rather than on a closed socket.
        self.up = threading.Event()
        self.log = open(os.path.join(root, "engine.log"), "ab")
        self.kills = 0

    def start(self):
        self.proc = subprocess.Popen(
            [self.berth, "engine", "--socket", self.sock, "--data-root", self.data, *ENGINE_ARGS],
            stdout=self.log, stderr=self.log, start_new_session=True,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            r = subprocess.run(["curl", "-s", "--unix-socket", self.sock, "http://x/_ping"],
                               capture_output=True, text=True)
            if r.stdout == "OK":
                self.up.set()
                return
            time.sleep(0.05)
        raise SystemExit("engine did not answer /_ping in 30 s")

    def kill9(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()


class Ledger:
    """What clients saw the engine confirm."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = set()
        self.remove_tried = set()
        self.ops = 0
        self.ok = 0
        self.by_op = {}

    def count(self, op, ok):
        with self.lock:
            self.ops += 1
            self.ok += ok
            tried, done = self.by_op.get(op, (0, 0))
            self.by_op[op] = (tried + 1, done + ok)


def docker(engine, *args, timeout=60, input=None):
    env = dict(os.environ, DOCKER_HOST="unix://" + engine.sock)
    try:
        r = subprocess.run([os.environ.get("DOCKER", "docker"), *args], capture_output=True,
                           text=True, timeout=timeout, env=env, input=input)
        return r.returncode == 0, r.stdout.strip()
    except subprocess.TimeoutExpired:
        return False, ""


def client(n, engine, ledger, stop, image_tar):
    rnd = random.Random(n)
    mine = []
    vols = []
    nets = []

    def created(ok, out):
        if ok and re.fullmatch(r"[0-9a-f]{64}", out):
            with ledger.lock:
                ledger.created.add(out)
            mine.append(out)

    while not stop.is_set():
        if not engine.up.wait(timeout=1):
            continue
        op = rnd.choices(
            ["run", "create", "start", "stop", "restart", "kill", "rm", "exec", "volume",
             "network", "load", "pull"],
            weights=[20, 8, 6, 6, 4, 4, 14, 8, 8, 6, 2, 2])[0]
        ok = False
        if op == "run":
            args = ["run", "-d"]
            policy = rnd.choice([None, "always", "unless-stopped", "on-failure:2"])
            if policy:
                args += ["--restart", policy]
            if vols and rnd.random() < 0.3:
                args += ["-v", f"{rnd.choice(vols)}:/data"]
            if rnd.random() < 0.3:
                args += ["-v", "/anon"]
            if nets and rnd.random() < 0.3:
                args += ["--network", rnd.choice(nets)]
            elif rnd.random() < 0.1:
                args += ["--network", "none"]
            cmd = rnd.choice([["sleep", "600"], ["sh", "-c", "sleep 2; exit 3"], ["true"]])
            ok, out = docker(engine, *args, "busybox", *cmd)
            created(ok, out)
        elif op == "create":
            ok, out = docker(engine, "create", "busybox", "sleep", "600")
            created(ok, out)
        elif op in ("start", "stop", "restart", "kill", "exec") and mine:
            c = rnd.choice(mine)
            extra = {"stop": ["-t", "1"], "restart": ["-t", "1"]}.get(op, [])
            tail = ["true"] if op == "exec" else []
            ok, _ = docker(engine, op, *extra, c, *tail)
        elif op == "rm" and mine:
            c = mine.pop(rnd.randrange(len(mine)))
            with ledger.lock:
                ledger.remove_tried.add(c)
            ok, _ = docker(engine, "rm", "-f", *(["-v"] if rnd.random() < 0.5 else []), c)
        elif op == "volume":
            if vols and rnd.random() < 0.4:
                v = vols.pop(rnd.randrange(len(vols)))
                ok, _ = docker(engine, "volume", "rm", v)
            else:
                v = f"chaos{n}v{rnd.randrange(10**6)}"
                ok, _ = docker(engine, "volume", "create", v)
                if ok:
                    vols.append(v)
        elif op == "network":
            if nets and rnd.random() < 0.4:
                net = nets.pop(rnd.randrange(len(nets)))
                ok, _ = docker(engine, "network", "rm", net)
            else:
                net = f"chaos{n}n{rnd.randrange(10**6)}"
                ok, _ = docker(engine, "network", "create", net)
                if ok:
                    nets.append(net)
        elif op == "load":
            ok, _ = docker(engine, "load", "-i", image_tar)
        elif op == "pull" and os.environ.get("REGISTRY"):
            ok, _ = docker(engine, "pull", f"{os.environ['REGISTRY']}/chaos/busybox:latest")
        else:
            continue
        ledger.count(op, ok)
        if ledger.ops >= ledger.target:
            stop.set()


def shim_pids(engine):
    """Shim processes of this engine, by their container directory argument."""
    out = {}
    needle = f"__berth-shim {engine.data}/containers/"
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in cmd:
            d = cmd.split(needle, 1)[1].split()[0].rstrip("/")
            out[int(pid)] = os.path.basename(d)
    return out


def cgroup_dirs(ids):
    """The cgroup directories of these container ids that exist, with their process counts."""
    found = {}
    roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
             "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/unified"]
    for root in roots:
        for i in ids:
            d = os.path.join(root, "berth", i)
            if os.path.isdir(d):
                try:
                    procs = open(os.path.join(d, "cgroup.procs")).read().split()
                except OSError:
                    procs = []
                found.setdefault(i, []).append((d, len(procs)))
    return found


def api(engine, method, path):
    r = subprocess.run(["curl", "-s", "-X", method, "--unix-socket", engine.sock,
                        f"http://x{path}"], capture_output=True, text=True)
    return json.loads(r.stdout or "null")


def state(engine, cid):
    doc = api(engine, "GET", f"/containers/{cid}/json")
    return doc.get("State") if isinstance(doc, dict) else None


def alive(pid):
    return pid > 0 and os.path.exists(f"/proc/{pid}")


def unaccounted(engine, ledger):
    """What runs that no container accounts for, and containers said to run that do not. Restart
    policies keep containers moving, so each suspicion is looked at again after a while and only
    one that holds both times (the container's state unchanged in between) is a failure."""
    failures = []
    shims = shim_pids(engine)
    listed = {c["Id"] for c in api(engine, "GET", "/containers/json?all=1")}
    suspects = []
    for pid, cid in shims.items():
        if cid not in listed:
            suspects.append(("shim", cid, pid, None))
    for cid in listed:
        st = state(engine, cid)
        if not st:
            continue
        if st["Status"] in ("running", "paused") and (cid not in shims.values() or not alive(st["Pid"])):
            suspects.append(("running", cid, st["Pid"], st["StartedAt"]))
        elif st["Status"] in ("created", "exited", "dead"):
            procs = sum(n for _, n in cgroup_dirs({cid}).get(cid, []))
            if procs:
                suspects.append(("cgroup", cid, procs, st["StartedAt"]))
    if suspects:
        time.sleep(3)
    for kind, cid, what, started in suspects:
        st = state(engine, cid)
        if kind == "shim":
            if alive(what) and st is None:
                failures.append(f"shim {what} of {cid[:12]} runs for no listed container")
        elif st and st["StartedAt"] == started:
            if kind == "running" and st["Status"] in ("running", "paused") and (
                    cid not in shim_pids(engine).values() or not alive(st["Pid"])):
                failures.append(f"container {cid[:12]} is listed {st['Status']} but its shim or process is gone")
            if kind == "cgroup" and st["Status"] in ("created", "exited", "dead") and sum(
                    n for _, n in cgroup_dirs({cid}).get(cid, [])):
                failures.append(f"cgroup of {cid[:12]} holds processes but the container is {st['Status']}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--berth", default="target/debug/berth")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    random.seed(a.seed)
    root = tempfile.mkdtemp(prefix="berth-chaos-")
    engine = Engine(os.path.abspath(a.berth), root)
    engine.start()
    print(f"chaos: seed {a.seed}, engine in {root}", flush=True)

    rootfs = os.path.join(root, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    os.makedirs(os.path.join(rootfs, "tmp"))
    shutil.copy(shutil.which("busybox"), os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "sleep", "true"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], capture_output=True).stdout
    env = dict(os.environ, DOCKER_HOST="unix://" + engine.sock)
    subprocess.run(["docker", "import", "-", "busybox:latest"], input=tar, env=env,
                   check=True, capture_output=True)
    image_tar = os.path.join(root, "busybox.tar")
    subprocess.run(["docker", "save", "-o", image_tar, "busybox:latest"], env=env, check=True)
    if os.environ.get("REGISTRY"):
        ref = f"{os.environ['REGISTRY']}/chaos/busybox:latest"
        subprocess.run(["docker", "tag", "busybox:latest", ref], env=env, check=True)
        subprocess.run(["docker", "push", ref], env=env, check=True, capture_output=True)

    ledger = Ledger()
    ledger.target = a.ops
    stop = threading.Event()
    clients = [threading.Thread(target=client, args=(i, engine, ledger, stop, image_tar))
               for i in range(a.clients)]
    for t in clients:
        t.start()
    # Kills spread over the run: roughly one per ops/kills operations, at a random moment.
    while not stop.is_set():
        time.sleep(random.uniform(0.8, 3.0))
        if stop.is_set():
            break
        if engine.kills < a.kills or random.random() < 0.2:
            engine.kill9()
            time.sleep(random.uniform(0, 0.5))
            engine.start()
    for t in clients:
        t.join()
    while engine.kills < a.kills:
        engine.kill9()
        engine.start()
    print(f"chaos: {ledger.ops} operations ({ledger.ok} confirmed), {engine.kills} engine kills",
          flush=True)
    print("chaos: " + ", ".join(f"{op} {done}/{tried}" for op, (tried, done)
                                in sorted(ledger.by_op.items())), flush=True)

    failures = []
    # Settle: restart policies and reconciliation run in the background after a start.
    time.sleep(3)
    listed = {c["Id"]: c for c in api(engine, "GET", "/containers/json?all=1")}
    for cid in sorted(ledger.created - ledger.remove_tried):
        if cid not in listed:
            failures.append(f"container {cid[:12]} was created and never removed, but is not listed")
    failures += unaccounted(engine, ledger)
    check = subprocess.run([engine.berth, "-H", "unix://" + engine.sock, "--no-autostart",
                            "system", "check"], capture_output=True, text=True)
    if check.returncode != 0:
        failures.append(f"system check: {check.stdout.strip()} {check.stderr.strip()}")

    # Remove everything; nothing of this engine may remain.
    ids = list(api(engine, "GET", "/containers/json?all=1") and
               [c["Id"] for c in api(engine, "GET", "/containers/json?all=1")])
    if ids:
        docker(engine, "rm", "-f", "-v", *ids, timeout=300)
    docker(engine, "volume", "prune", "-af", timeout=120)
    docker(engine, "network", "prune", "-f", timeout=120)
    left = api(engine, "GET", "/containers/json?all=1")
    if left:
        failures.append(f"{len(left)} containers left after rm -f of all")
    time.sleep(1)
    shims = shim_pids(engine)
    if shims:
        failures.append(f"shims left after removing everything: {sorted(shims)}")
    mounts = [l.split()[4] for l in open("/proc/self/mountinfo") if engine.data in l.split()[4]]
    if mounts:
        failures.append(f"mounts left under the data root: {mounts[:5]}")
    cg = cgroup_dirs(ledger.created)
    if cg:
        failures.append(f"cgroups left: {sorted(cg)[:5]}")
    netns = os.path.join(engine.data, "networks", "netns")
    if os.path.isdir(netns) and os.listdir(netns):
        failures.append(f"network namespace pins left: {os.listdir(netns)[:5]}")
    links = subprocess.run(["ip", "-o", "link", "show", "master", "chaos0"],
                           capture_output=True, text=True).stdout.strip()
    if links:
        failures.append(f"veths left on chaos0: {links.splitlines()[:3]}")
    # User networks come from this engine's own pool: an address of it left on any link is a
    # bridge no record names.
    addrs = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                           text=True).stdout
    stray = [l.split()[1] for l in addrs.splitlines() if " 10.252." in l]
    if stray:
        failures.append(f"bridges left with addresses of the engine's pool: {stray[:5]}")
    nft = subprocess.run(["nft", "list", "table", "ip", "berth_chaos"], capture_output=True,
                         text=True).stdout
    dnat = [l.strip() for l in nft.splitlines() if "dnat" in l]
    if dnat:
        failures.append(f"nft rules left: {dnat[:3]}")

    engine.stop()
    subprocess.run(["ip", "link", "del", "chaos0"], capture_output=True)
    subprocess.run(["nft", "delete", "table", "ip", "berth_chaos"], capture_output=True)
    if failures:
        print(f"chaos: {len(failures)} failures (engine log: {engine.root}/engine.log)")
        for f in failures:
            print("  " + f)
        return 1
    print("chaos: everything accounted for, nothing left behind")
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
