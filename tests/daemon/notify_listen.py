#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Stand in for systemd's side of sd_notify(3): a datagram socket at SOCKET, every message
written to OUT as one line "MONOTONIC_NS PID MESSAGE" (the sender's pid from SCM_CREDENTIALS,
newlines of the message as '|').

On a start's READY=1 (STATUS=running: ...) the sender is frozen at once (SIGSTOP) and what it
had done by then is written as a line "MONOTONIC_NS PID STATE xdp=PROG_ID|none hb=N ctl=0|1":
the XDP program on IFACE in namespace NS, how many UDP sockets it had bound on port 7600 there,
whether the control socket CTL existed. Then it is let go (SIGCONT).

    notify_listen.py SOCKET OUT NS IFACE CTL
"""
import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time


def frozen_state(ns, iface, ctl):
    link = json.loads(subprocess.run(["ip", "-n", ns, "-d", "-j", "link", "show", "dev", iface],
                                     capture_output=True, text=True).stdout or "[{}]")[0]
    xdp = link.get("xdp", {}).get("prog", {}).get("id") or link.get("xdp", {}).get("id")
    if not xdp:
        progs = link.get("xdp", {}).get("attached", [])
        xdp = progs[0].get("prog", {}).get("id") if progs else None
    ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hlun", "sport", "= :7600"],
                        capture_output=True, text=True).stdout
    hb = len([ln for ln in ss.splitlines() if ln.strip()])
    try:
        is_ctl = stat.S_ISSOCK(os.stat(ctl).st_mode)
    except OSError:
        is_ctl = False
    return "xdp=%s hb=%d ctl=%d" % (xdp or "none", hb, int(is_ctl))


def main():
    path, out_path, ns, iface, ctl = sys.argv[1:6]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path + ".tmp")
    os.rename(path + ".tmp", path)  # the path appears when it is ready
    out = open(out_path, "a", buffering=1)
    while True:
        msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        now = time.monotonic_ns()
        pid = 0
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
        text = msg.decode(errors="replace").strip("\n")
        lines = text.split("\n")
        if "READY=1" in lines and any(x.startswith("STATUS=running:") for x in lines) and pid:
            os.kill(pid, signal.SIGSTOP)
            try:
                state = frozen_state(ns, iface, ctl)
            finally:
                os.kill(pid, signal.SIGCONT)
            out.write("%d %d %s\n%d %d STATE %s\n" % (now, pid, "|".join(lines), now, pid, state))
        else:
            out.write("%d %d %s\n" % (now, pid, "|".join(lines)))


if __name__ == "__main__":
    main()
