#!/usr/bin/env python3
"""Drives a terminal UI (berth's dashboard, or oxker for comparison) on a real pseudo-terminal and
measures it: idle CPU and RSS, key-press-to-frame latency, and (berth) the RSS of the logs view
while a container logs without pause.

    dashboard_probe.py [--cols 200 --rows 50 --idle 30 --keys 100 --logs 60] -- COMMAND...

Prints one `name<TAB>value<TAB>unit` line per figure on stdout (progress goes to stderr).
The output of the UI is read continuously (a pty whose reader stops would block the UI).
"""

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("probe:", *a, file=sys.stderr, flush=True)


class Ui:
    def __init__(self, argv, cols, rows, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.screen = bytearray()

    def read_for(self, seconds):
        """Reads (and discards) output for `seconds`; returns the byte count."""
        end = time.monotonic() + seconds
        n = 0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return n
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return n
                n += len(chunk)
                self.screen += chunk
                del self.screen[:-65536]

    def settle(self, quiet, limit):
        """Reads until no output arrived for `quiet` seconds (or `limit` passed)."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                self.screen += chunk
                del self.screen[:-65536]
                last = time.monotonic()
            elif time.monotonic() - last >= quiet:
                return

    def cpu_ticks(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime and stime are fields 14 and 15 (1-based) of the whole line.
        return int(fields[11]) + int(fields[12])

    def rss_kib(self, key="VmRSS:"):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
        return 0

    def key(self, data):
        os.write(self.fd, data)

    def key_latency(self, data, gap=0.002, limit=1.0):
        """Writes a key; returns (first byte, frame complete) in ms. The frame is complete when no
        byte followed for `gap` seconds (that wait is not counted)."""
        # Drain whatever is in flight first, so the answer is this key's frame.
        self.settle(0.03, 0.5)
        t0 = time.perf_counter()
        os.write(self.fd, data)
        first = last = None
        while True:
            wait = limit if first is None else gap
            r, _, _ = select.select([self.fd], [], [], wait)
            if not r:
                break
            chunk = os.read(self.fd, 65536)
            now = time.perf_counter()
            if first is None:
                first = now
            last = now
            self.screen += chunk
            del self.screen[:-65536]
        if first is None:
            return None
        return (first - t0) * 1000, (last - t0) * 1000

    def stop(self, quit_keys):
        try:
            if quit_keys:
                os.write(self.fd, quit_keys)
                self.read_for(1.0)
        except OSError:
            pass
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cols", type=int, default=200)
    ap.add_argument("--rows", type=int, default=50)
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--logs", type=float, default=0.0, help="seconds in the logs view (berth)")
    ap.add_argument("--logs-filter", default="chatty")
    ap.add_argument("--name", default="berth")
    ap.add_argument("--quit", default="q")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
    env.pop("NO_COLOR", None)
    ui = Ui(cmd, a.cols, a.rows, env)
    out = lambda k, v, u: print(f"{a.name}_{k}\t{v}\t{u}", flush=True)
    try:
        log(f"{a.name}: warming up {a.warmup}s (first frame, stats streams open)")
        ui.read_for(a.warmup)
        if a.idle > 0:
            t0, c0 = time.monotonic(), ui.cpu_ticks()
            drawn = ui.read_for(a.idle)
            t1, c1 = time.monotonic(), ui.cpu_ticks()
            cpu = (c1 - c0) / CLK_TCK / (t1 - t0) * 100
            out("idle_cpu_percent", round(cpu, 2), "% of one core")
            out("idle_rss_mib", round(ui.rss_kib() / 1024, 1), "MiB")
            out("idle_output_bytes_per_s", round(drawn / (t1 - t0)), "B/s")
        if a.keys > 0:
            firsts, lasts = [], []
            for i in range(a.keys):
                r = ui.key_latency(b"j" if i % 2 == 0 else b"k")
                if r is not None:
                    firsts.append(r[0])
                    lasts.append(r[1])
            if lasts:
                out("key_first_byte_ms_median", round(pct(firsts, 50), 2), "ms")
                out("key_frame_ms_median", round(pct(lasts, 50), 2), "ms")
                out("key_frame_ms_p95", round(pct(lasts, 95), 2), "ms")
                out("key_frame_ms_max", round(max(lasts), 2), "ms")
                out("key_frames_seen", len(lasts), f"of {a.keys}")
        if a.logs > 0:
            # Open the chatty container's logs: filter the list to it, then the logs key.
            ui.key(b"/")
            ui.key(a.logs_filter.encode())
            ui.key(b"\r")
            ui.read_for(0.5)
            ui.key(b"j")
            ui.read_for(0.3)
            ui.key(b"L")
            samples = []
            end = time.monotonic() + a.logs
            while time.monotonic() < end:
                ui.read_for(5.0)
                samples.append(ui.rss_kib() / 1024)
                log(f"logs view RSS {samples[-1]:.1f} MiB")
            out("logs_rss_mib_first", round(samples[0], 1), "MiB")
            out("logs_rss_mib_last", round(samples[-1], 1), "MiB")
            out("logs_rss_mib_max", round(max(samples), 1), "MiB")
            out("logs_hwm_mib", round(ui.rss_kib("VmHWM:") / 1024, 1), "MiB")
    finally:
        ui.stop(a.quit.encode() if a.quit else b"")


if __name__ == "__main__":
    main()
