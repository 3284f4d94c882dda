#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Control-socket attackers for test-daemon-ctl-abuse.sh, bounded in time.

  ctl_attack.py flood SOCKET SECONDS   reconnect and write thousands of request lines per write,
                                       never reading a reply
  ctl_attack.py idle SOCKET COUNT SECONDS
                                       open COUNT connections, send nothing, hold them
  ctl_attack.py poll SOCKET SECONDS    a well-behaved client that asks for `flows` again as soon
                                       as each reply has arrived
Prints what it did as key=value on one line.
"""
import socket
import sys
import time

REQUEST = b'{"command":"flows","args":{"limit":1000000}}\n'


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def flood(path, seconds):
    end = time.monotonic() + seconds
    payload = REQUEST * 4000
    lines = conns = 0
    while time.monotonic() < end:
        try:
            s = connect(path)
        except OSError:
            time.sleep(0.01)
            continue
        conns += 1
        s.settimeout(max(0.01, end - time.monotonic()))
        try:
            while time.monotonic() < end:
                s.sendall(payload)
                lines += 4000
        except OSError:
            pass
        s.close()
    print("lines=%d conns=%d" % (lines, conns))


def poll(path, seconds):
    end = time.monotonic() + seconds
    s = connect(path)
    requests = replies = 0
    slowest = 0.0
    buf = b""
    while time.monotonic() < end:
        s.settimeout(max(0.01, end - time.monotonic()))
        sent = time.monotonic()
        try:
            s.sendall(b'{"command":"flows"}\n')
            requests += 1
            while b"\n" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
        except OSError:
            break
        buf = buf[buf.index(b"\n") + 1:]
        replies += 1
        slowest = max(slowest, time.monotonic() - sent)
    s.close()
    print("requests=%d replies=%d slowest_ms=%.0f" % (requests, replies, slowest * 1000))


def idle(path, count, seconds):
    held = []
    for _ in range(count):
        try:
            held.append(connect(path))
        except OSError:
            break
    opened = len(held)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    closed = 0
    for s in held:  # a connection the daemon dropped reads as end of file
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
        s.close()
    print("opened=%d closed_by_daemon=%d" % (opened, closed))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "flood":
        flood(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "poll":
        poll(sys.argv[2], float(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "idle":
        idle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


main()
