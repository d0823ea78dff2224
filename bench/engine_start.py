#!/usr/bin/env python3
"""Start `berth engine` and time it to its first answer.

Usage: engine_start.py BERTH SOCKET DATA_ROOT LOG
Prints "<pid> <ms to first 200 on /_ping> <ms to first 200 on /containers/json?all=1> <containers listed>".
The clock starts right before the fork of the engine; the socket is polled every 0.5 ms with a raw
HTTP/1.1 request (no client start-up in the timed path). The engine keeps running in its own session.
"""
import json
import socket
import subprocess
import sys
import time


def get(sock_path, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(5)
        s.connect(sock_path)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def body(resp):
    head, _, rest = resp.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        out, buf = b"", rest
        while buf:
            size_line, _, buf = buf.partition(b"\r\n")
            n = int(size_line.split(b";")[0], 16)
            if n == 0:
                break
            out += buf[:n]
            buf = buf[n + 2:]
        return out
    return rest


def main():
    berth, sock, data, log = sys.argv[1:5]
    with open(log, "ab") as logf:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [berth, "engine", "--socket", sock, "--data-root", data, "--log-level", "warn"],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True)
    ping_ms = None
    while True:
        try:
            if get(sock, "/_ping").startswith(b"HTTP/1.1 200"):
                ping_ms = (time.monotonic() - t0) * 1000
                break
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit(f"engine exited with {proc.returncode} before answering")
        if time.monotonic() - t0 > 20:
            proc.kill()
            sys.exit("engine did not answer /_ping within 20 s")
        time.sleep(0.0005)
    resp = get(sock, "/containers/json?all=1")
    list_ms = (time.monotonic() - t0) * 1000
    if not resp.startswith(b"HTTP/1.1 200"):
        sys.exit(f"/containers/json failed: {resp[:200]!r}")
    n = len(json.loads(body(resp)))
    print(proc.pid, round(ping_ms, 2), round(list_ms, 2), n)


if __name__ == "__main__":
    main()
