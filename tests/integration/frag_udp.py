#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""UDP datagrams larger than the path MTU, for test-fragments.sh: the sender's kernel fragments
them, a site's kernel reassembles them, and the receiver checks each one whole.

    frag_udp.py send V4ADDR V6ADDR PORT COUNT RATE LOG   COUNT datagrams, IPv4 and IPv6 in
        turn, at RATE per second; LOG gets "seq family sent_ns" (CLOCK_MONOTONIC) per datagram
    frag_udp.py recv SITE PORT LOG                      IPv4 and IPv6 on PORT until killed;
        LOG gets "seq family length whole SITE" per datagram received

A datagram is SIZE octets: its sequence number (8 octets, big endian), then octet i is
(seq * 31 + i) mod 256, so a datagram put together from fragments of different datagrams, or
cut short, is not whole.
"""
import select
import socket
import sys
import time

SIZE = 4000


def payload(seq):
    return seq.to_bytes(8, "big") + bytes((seq * 31 + i) & 0xFF for i in range(8, SIZE))


def send(v4, v6, port, count, rate, log):
    socks = {4: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
             6: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)}
    # fragment locally whatever the path MTU cache says (no DF), as a plain UDP sender does
    socks[4].setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
    socks[6].setsockopt(socket.IPPROTO_IPV6, 23, 0)  # IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DONT
    addr = {4: (v4, port), 6: (v6, port)}
    start = time.monotonic_ns()
    with open(log, "w", buffering=1) as out:
        for seq in range(count):
            fam = 4 if seq % 2 == 0 else 6
            due = start + seq * 1_000_000_000 // rate
            while time.monotonic_ns() < due:
                time.sleep(max(0, (due - time.monotonic_ns()) / 1e9))
            now = time.monotonic_ns()
            try:
                socks[fam].sendto(payload(seq), addr[fam])
            except OSError:
                pass  # a send error is a lost datagram, which the test counts
            out.write(f"{seq} {fam} {now}\n")


def recv(site, port, log):
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.bind(("0.0.0.0", port))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s6.bind(("::", port))
    with open(log, "w", buffering=1) as out:
        while True:
            ready, _, _ = select.select([s4, s6], [], [])
            for s in ready:
                data = s.recv(65536)
                seq = int.from_bytes(data[:8], "big") if len(data) >= 8 else -1
                whole = int(len(data) == SIZE and seq >= 0 and data == payload(seq))
                fam = 4 if s is s4 else 6
                out.write(f"{seq} {fam} {len(data)} {whole} {site}\n")


if __name__ == "__main__":
    if sys.argv[1] == "send":
        send(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]),
             sys.argv[7])
    else:
        recv(sys.argv[2], int(sys.argv[3]), sys.argv[4])
