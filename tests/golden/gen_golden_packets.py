#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes golden_packets.c: the packets every parser test (host and in-kernel) runs.

The bytes come from scapy, which shares no code with dataplane/core/parse.h; checksums are
scapy's. The expected parse results are stated by hand in CASES below, from the packet layout
(offsets, lengths, ports); the only checks made with scapy are that the stated lengths agree with
what scapy serialised, to catch slips in the hand arithmetic.

Regenerate (needs Debian's python3-scapy; the build does not run this):
    /usr/bin/python3 tests/golden/gen_golden_packets.py > tests/golden/golden_packets.c
    clang-format -i tests/golden/golden_packets.c
"""
import ipaddress
import sys

from scapy.all import (ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6DestUnreach, ICMPv6EchoReply,
                       ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6PacketTooBig, ICMPv6ParamProblem,
                       ICMPv6TimeExceeded, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, PadN, Raw, RouterAlert)
from scapy.layers.inet import IPOption_Router_Alert
from scapy.layers.ipsec import AH

CLIENT4, SERVICE4, ROUTER4 = "198.18.200.5", "198.18.1.10", "198.19.0.1"
CLIENT6, SERVICE6, ROUTER6 = "2001:db8:c::5", "2001:db8:5::10", "2001:db8:ff::1"
MAC_EDGE, MAC_PEER = "02:00:00:00:00:01", "02:00:00:00:00:02"

ETH_P_IP, ETH_P_IPV6, ETH_P_ARP = 0x0800, 0x86DD, 0x0806
ETH_P_8021Q, ETH_P_8021AD = 0x8100, 0x88A8
TCP_P, UDP_P, ICMP_P, ICMP6_P, GRE_P, ESP_P, NONE_P, DSTOPTS_P = 6, 17, 1, 58, 47, 50, 59, 60
TRUNCATED, BAD_HEADER, EXT_HDR_LIMIT = 5, 6, 7  # enum dt_reason, for dt_packet.malformed
F_ICMP_ERROR, F_IPV4_OPTIONS, F_IPV6_EXT = 1, 2, 4
FRAG_NONE, FRAG_FIRST, FRAG_LATER = 0, 1, 2
TCP_SYN, TCP_ACK, TCP_SYNACK = 0x02, 0x10, 0x12


def eth(ethertype=None, tags=()):
    """Ethernet with VLAN tags given as (tpid, vid), outermost first."""
    types = [t for t, _ in tags] + [ethertype]
    frame = Ether(src=MAC_PEER, dst=MAC_EDGE, type=types[0])
    for (_, vid), inner in zip(tags, types[1:]):
        frame = frame / Dot1Q(vlan=vid, type=inner)
    return frame


def ip4(**kw):
    return IP(src=kw.pop("src", CLIENT4), dst=kw.pop("dst", SERVICE4), ttl=kw.pop("ttl", 64),
              id=kw.pop("id", 0x4242), **kw)


def ip6(**kw):
    return IPv6(src=kw.pop("src", CLIENT6), dst=kw.pop("dst", SERVICE6),
                hlim=kw.pop("hlim", 64), **kw)


def quote4(inner, n):
    """The first n octets of a packet our service sent, as an ICMP error quotes it."""
    return Raw(load=bytes(inner)[:n])


def server_tcp4(**kw):
    return IP(src=SERVICE4, dst=CLIENT4, ttl=63, id=7, **kw) / TCP(sport=443, dport=51000,
                                                                   flags="SA", seq=1000, ack=2000)


def server_udp4():
    return IP(src=SERVICE4, dst=CLIENT4, ttl=63, id=8) / UDP(sport=53, dport=53000) / Raw(b"dns!")


def server_tcp6():
    return IPv6(src=SERVICE6, dst=CLIENT6, hlim=63) / TCP(sport=443, dport=51000, flags="SA")


def server_udp6():
    return IPv6(src=SERVICE6, dst=CLIENT6, hlim=63) / UDP(sport=53, dport=53000) / Raw(b"dns!")


def udp_datagram4():
    """A 64-octet UDP datagram (8 header + 56 data), to be cut into two fragments."""
    return bytes(ip4(id=0x1234) / UDP(sport=40001, dport=4789) / Raw(b"f" * 56))[20:]


def udp_datagram6():
    return bytes(ip6() / UDP(sport=40001, dport=4789) / Raw(b"f" * 56))[40:]


def patch(frame, offset, value):
    raw = bytearray(bytes(frame))
    raw[offset] = value
    return bytes(raw)


def pad60(frame):
    raw = bytes(frame)
    return raw + b"\0" * (60 - len(raw))


def ok(pkt, **exp):
    return (pkt, 0, exp)


def fail(pkt, reason):
    return (pkt, "-" + reason, None)


V4 = dict(l3_proto=ETH_P_IP, family=4, ttl=64)
V6 = dict(l3_proto=ETH_P_IPV6, family=6, ttl=64)
C2S4 = dict(V4, saddr=CLIENT4, daddr=SERVICE4)
C2S6 = dict(V6, saddr=CLIENT6, daddr=SERVICE6)
ERR4 = dict(V4, saddr=CLIENT4, daddr=SERVICE4, flags=F_ICMP_ERROR, proto=TCP_P,
            sport=51000, dport=443)
ERR6 = dict(V6, saddr=CLIENT6, daddr=SERVICE6, flags=F_ICMP_ERROR, proto=TCP_P,
            sport=51000, dport=443)

# name: (frame, expected return, expected fields). Lengths are worked out by hand in comments.
CASES = {
    # 14 eth + 20 ip + 20 tcp
    "ipv4-tcp-syn": ok(eth(ETH_P_IP) / ip4() / TCP(sport=40000, dport=80, flags="S"),
                       **C2S4, l3_off=14, l4_off=34, l3_len=40, proto=TCP_P, sport=40000,
                       dport=80, tcp_flags=TCP_SYN),
    # tcp with 20 octets of options (doff 10): 20 + 40
    "ipv4-tcp-options": ok(eth(ETH_P_IP) / ip4() / TCP(sport=40000, dport=443, flags="S",
                           options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)),
                                    ("WScale", 7)]),
                           **C2S4, l3_off=14, l4_off=34, l3_len=60, proto=TCP_P, sport=40000,
                           dport=443, tcp_flags=TCP_SYN),
    # 20 + 8 udp + 4 data = 32, frame 46 octets padded to 60 as on the wire
    "ipv4-udp-padded": ok(pad60(eth(ETH_P_IP) / ip4() / UDP(sport=53000, dport=53) /
                                Raw(b"dns?")),
                          **C2S4, l3_off=14, l4_off=34, l3_len=32, proto=UDP_P, sport=53000,
                          dport=53),
    # 20 + 8 icmp + 8 data; the identifier stands in both ports
    "ipv4-icmp-echo-request": ok(eth(ETH_P_IP) / ip4() / ICMP(type=8, id=0x1234, seq=1) /
                                 Raw(b"pingping"),
                                 **C2S4, l3_off=14, l4_off=34, l3_len=36, proto=ICMP_P,
                                 sport=0x1234, dport=0x1234, icmp_type=8),
    "ipv4-icmp-echo-reply": ok(eth(ETH_P_IP) / ip4(src=SERVICE4, dst=CLIENT4) /
                               ICMP(type=0, id=0x1234, seq=1) / Raw(b"pingping"),
                               **dict(V4, saddr=SERVICE4, daddr=CLIENT4), l3_off=14, l4_off=34,
                               l3_len=36, proto=ICMP_P, sport=0x1234, dport=0x1234, icmp_type=0),
    # timestamp request: neither echo nor error, no ports; 20 + 20
    "ipv4-icmp-timestamp": ok(eth(ETH_P_IP) / ip4() / ICMP(type=13, id=5),
                              **C2S4, l3_off=14, l4_off=34, l3_len=40, proto=ICMP_P,
                              icmp_type=13),
    # frag needed, quoting 20 ip + 8 tcp of the server's SYN-ACK: 20 + 8 + 28 = 56
    "ipv4-icmp-frag-needed-tcp": ok(eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) /
                                    ICMP(type=3, code=4, nexthopmtu=1400) /
                                    quote4(server_tcp4(), 28),
                                    **dict(ERR4), l3_off=14, l4_off=34, l3_len=56, icmp_type=3,
                                    icmp_code=4),
    # time exceeded quoting the whole server datagram: 20 + 8 + (20 + 8 + 4) = 60
    "ipv4-icmp-time-exceeded-udp": ok(eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) /
                                      ICMP(type=11, code=0) / quote4(server_udp4(), 32),
                                      **dict(ERR4, proto=UDP_P, sport=53000, dport=53),
                                      l3_off=14, l4_off=34, l3_len=60, icmp_type=11),
    # parameter problem quoting an inner header with 4 octets of options: 20 + 8 + 24 + 8 = 60
    "ipv4-icmp-param-problem-inner-options": ok(
        eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) / ICMP(type=12, code=0, ptr=20) /
        quote4(server_tcp4(options=[IPOption_Router_Alert()]), 32),
        **dict(ERR4), l3_off=14, l4_off=34, l3_len=60, icmp_type=12),
    # an error about an echo reply our server sent: the identifier in both ports
    "ipv4-icmp-unreach-echo-reply": ok(
        eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) / ICMP(type=3, code=1) /
        quote4(IP(src=SERVICE4, dst=CLIENT4, ttl=63) / ICMP(type=0, id=0x0bad, seq=9), 28),
        **dict(ERR4, proto=ICMP_P, sport=0x0bad, dport=0x0bad), l3_off=14, l4_off=34,
        l3_len=56, icmp_type=3, icmp_code=1),
    # an error about an error: one level only, the inner error gives no ports
    "ipv4-icmp-unreach-about-unreach": ok(
        eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) / ICMP(type=3, code=1) /
        quote4(IP(src=SERVICE4, dst=CLIENT4, ttl=63) / ICMP(type=3, code=3) /
               quote4(server_udp4(), 28), 28),
        **dict(ERR4, proto=ICMP_P, sport=0, dport=0), l3_off=14, l4_off=34, l3_len=56,
        icmp_type=3, icmp_code=1),
    # quote of 20 ip + only 4 octets of tcp: 20 + 8 + 24 = 52; malformed, keyed on the quoted
    # addresses alone
    "ipv4-icmp-unreach-quote-short": ok(eth(ETH_P_IP) / ip4(src=ROUTER4, dst=SERVICE4) /
                                        ICMP(type=3, code=4) / quote4(server_tcp4(), 24),
                                        **dict(ERR4, sport=0, dport=0), l3_off=14, l4_off=34,
                                        l3_len=52, icmp_type=3, icmp_code=4, malformed=TRUNCATED),
    # GRE: a valid packet without ports; 20 + 4 gre + 20 inner ip + 20 tcp
    "ipv4-gre": ok(eth(ETH_P_IP) / ip4(proto=GRE_P) / Raw(b"\x00\x00\x08\x00") /
                   IP(src="198.18.7.1", dst="198.18.7.2") / TCP(),
                   **C2S4, l3_off=14, l4_off=34, l3_len=64, proto=GRE_P),
    # 14 + 4: one 802.1Q tag
    "ipv4-tcp-vlan": ok(eth(ETH_P_IP, [(ETH_P_8021Q, 100)]) / ip4() /
                        TCP(sport=40000, dport=80, flags="A"),
                        **C2S4, l3_off=18, l4_off=38, l3_len=40, vlan_depth=1, proto=TCP_P,
                        sport=40000, dport=80, tcp_flags=TCP_ACK),
    # QinQ: 802.1ad outside, 802.1Q inside
    "ipv4-tcp-qinq": ok(eth(ETH_P_IP, [(ETH_P_8021AD, 100), (ETH_P_8021Q, 200)]) / ip4() /
                        TCP(sport=40000, dport=80, flags="A"),
                        **C2S4, l3_off=22, l4_off=42, l3_len=40, vlan_depth=2, proto=TCP_P,
                        sport=40000, dport=80, tcp_flags=TCP_ACK),
    # the two TPIDs the other way round
    "ipv4-udp-qinq-8100-88a8": ok(eth(ETH_P_IP, [(ETH_P_8021Q, 100), (ETH_P_8021AD, 200)]) /
                                  ip4() / UDP(sport=53000, dport=53) / Raw(b"dns?"),
                                  **C2S4, l3_off=22, l4_off=42, l3_len=32, vlan_depth=2,
                                  proto=UDP_P, sport=53000, dport=53),
    "ipv4-vlan-3-tags": fail(eth(ETH_P_IP, [(ETH_P_8021AD, 1), (ETH_P_8021Q, 2),
                                            (ETH_P_8021Q, 3)]) / ip4() / TCP(),
                             "DT_REASON_VLAN_LIMIT"),
    # router alert option: IHL 6, l4 at 14 + 24; 24 + 20 = 44
    "ipv4-options-tcp": ok(eth(ETH_P_IP) / ip4(options=[IPOption_Router_Alert()]) /
                           TCP(sport=40000, dport=80, flags="S"),
                           **C2S4, l3_off=14, l4_off=38, l3_len=44, flags=F_IPV4_OPTIONS,
                           proto=TCP_P, sport=40000, dport=80, tcp_flags=TCP_SYN),
    # first fragment: MF, offset 0, udp header + 24 data = 32; 20 + 32 = 52. Keyed on
    # addresses and protocol like the later fragments: no ports, no l4 offset
    "ipv4-frag-first-udp": ok(eth(ETH_P_IP) / ip4(id=0x1234, flags="MF", frag=0, proto=UDP_P) /
                              Raw(udp_datagram4()[:32]),
                              **C2S4, l3_off=14, l4_off=0, l3_len=52, frag=FRAG_FIRST,
                              proto=UDP_P),
    # last fragment at offset 4 (32 octets): no ports, no l4 offset; 20 + 32 = 52
    "ipv4-frag-later-udp": ok(eth(ETH_P_IP) / ip4(id=0x1234, frag=4, proto=UDP_P) /
                              Raw(udp_datagram4()[32:]),
                              **C2S4, l3_off=14, l4_off=0, l3_len=52, frag=FRAG_LATER,
                              proto=UDP_P),
    "arp-request": fail(eth(ETH_P_ARP) / ARP(op=1, hwsrc=MAC_PEER, psrc=CLIENT4,
                                             pdst=SERVICE4), "DT_REASON_NOT_IP"),
    # version nibble 5 in an IPv4 frame (byte 14 = 0x45 -> 0x55)
    "ipv4-bad-version": fail(patch(eth(ETH_P_IP) / ip4() / TCP(), 14, 0x55),
                             "DT_REASON_BAD_HEADER"),
    # IHL 4
    "ipv4-bad-ihl": fail(patch(eth(ETH_P_IP) / ip4() / TCP(), 14, 0x44), "DT_REASON_BAD_HEADER"),
    "ipv4-tot-len-below-ihl": fail(eth(ETH_P_IP) / ip4(len=16) / TCP(), "DT_REASON_BAD_HEADER"),
    # tot_len 200, frame holds 40
    "ipv4-tot-len-past-frame": fail(eth(ETH_P_IP) / ip4(len=200) / TCP(), "DT_REASON_TRUNCATED"),
    # tot_len 30 leaves only 10 octets of the 20-octet tcp header inside the packet: malformed
    "ipv4-tcp-past-tot-len": ok(eth(ETH_P_IP) / ip4(len=30) / TCP(),
                                **C2S4, l3_off=14, l4_off=34, l3_len=30, proto=TCP_P,
                                malformed=TRUNCATED),
    "ipv4-tcp-bad-doff": ok(eth(ETH_P_IP) / ip4() / TCP(dataofs=4),
                            **C2S4, l3_off=14, l4_off=34, l3_len=40, proto=TCP_P,
                            malformed=BAD_HEADER),
    # 40 + 20
    "ipv6-tcp-syn": ok(eth(ETH_P_IPV6) / ip6() / TCP(sport=40000, dport=80, flags="S"),
                       **C2S6, l3_off=14, l4_off=54, l3_len=60, proto=TCP_P, sport=40000,
                       dport=80, tcp_flags=TCP_SYN),
    # 40 + 8 + 4
    "ipv6-udp": ok(eth(ETH_P_IPV6) / ip6() / UDP(sport=53000, dport=53) / Raw(b"dns?"),
                   **C2S6, l3_off=14, l4_off=54, l3_len=52, proto=UDP_P, sport=53000, dport=53),
    "ipv6-tcp-vlan": ok(eth(ETH_P_IPV6, [(ETH_P_8021Q, 7)]) / ip6() /
                        TCP(sport=40000, dport=80, flags="SA"),
                        **C2S6, l3_off=18, l4_off=58, l3_len=60, vlan_depth=1, proto=TCP_P,
                        sport=40000, dport=80, tcp_flags=TCP_SYNACK),
    "ipv6-udp-qinq": ok(eth(ETH_P_IPV6, [(ETH_P_8021AD, 7), (ETH_P_8021Q, 8)]) / ip6() /
                        UDP(sport=53000, dport=53) / Raw(b"dns?"),
                        **C2S6, l3_off=22, l4_off=62, l3_len=52, vlan_depth=2, proto=UDP_P,
                        sport=53000, dport=53),
    # 40 + 8 icmp6 + 8 data
    "ipv6-icmp6-echo-request": ok(eth(ETH_P_IPV6) / ip6() / ICMPv6EchoRequest(id=0x4321, seq=1) /
                                  Raw(b"pingping"),
                                  **C2S6, l3_off=14, l4_off=54, l3_len=56, proto=ICMP6_P,
                                  sport=0x4321, dport=0x4321, icmp_type=128),
    "ipv6-icmp6-echo-reply": ok(eth(ETH_P_IPV6) / ip6(src=SERVICE6, dst=CLIENT6) /
                                ICMPv6EchoReply(id=0x4321, seq=1) / Raw(b"pingping"),
                                **dict(V6, saddr=SERVICE6, daddr=CLIENT6), l3_off=14, l4_off=54,
                                l3_len=56, proto=ICMP6_P, sport=0x4321, dport=0x4321,
                                icmp_type=129),
    # neighbour solicitation: 40 + 24, no ports
    "ipv6-icmp6-neighbour-solicitation": ok(eth(ETH_P_IPV6) / ip6(hlim=255) /
                                            ICMPv6ND_NS(tgt=SERVICE6),
                                            **dict(C2S6, ttl=255), l3_off=14, l4_off=54,
                                            l3_len=64, proto=ICMP6_P, icmp_type=135),
    # unreachable quoting the whole 60-octet SYN-ACK: 40 + 8 + 60
    "ipv6-icmp6-unreach-tcp": ok(eth(ETH_P_IPV6) / ip6(src=ROUTER6, dst=SERVICE6) /
                                 ICMPv6DestUnreach(code=3) / Raw(bytes(server_tcp6())),
                                 **dict(ERR6), l3_off=14, l4_off=54, l3_len=108, icmp_type=1,
                                 icmp_code=3),
    # packet too big quoting the 52-octet udp reply: 40 + 8 + 52
    "ipv6-icmp6-packet-too-big-udp": ok(eth(ETH_P_IPV6) / ip6(src=ROUTER6, dst=SERVICE6) /
                                        ICMPv6PacketTooBig(mtu=1280) / Raw(bytes(server_udp6())),
                                        **dict(ERR6, proto=UDP_P, sport=53000, dport=53),
                                        l3_off=14, l4_off=54, l3_len=100, icmp_type=2),
    # time exceeded quoting a first fragment: 40 + 8 + (40 + 8 frag + 8 udp + 24 data)
    "ipv6-icmp6-time-exceeded-inner-frag": ok(
        eth(ETH_P_IPV6) / ip6(src=ROUTER6, dst=SERVICE6) / ICMPv6TimeExceeded(code=1) /
        Raw(bytes(IPv6(src=SERVICE6, dst=CLIENT6, hlim=63) /
                  IPv6ExtHdrFragment(nh=UDP_P, offset=0, m=1, id=99) /
                  Raw(bytes(IPv6(src=SERVICE6, dst=CLIENT6) / UDP(sport=53, dport=53000) /
                            Raw(b"d" * 56))[40:72]))),
        **dict(ERR6, proto=UDP_P, sport=53000, dport=53), l3_off=14, l4_off=54, l3_len=128,
        icmp_type=3, icmp_code=1),
    # parameter problem quoting 40 + only 4 octets of tcp: 40 + 8 + 44; malformed, keyed on the
    # quoted addresses alone
    "ipv6-icmp6-param-problem-quote-short": ok(
        eth(ETH_P_IPV6) / ip6(src=ROUTER6, dst=SERVICE6) / ICMPv6ParamProblem(code=0, ptr=6) /
        Raw(bytes(server_tcp6())[:44]),
        **dict(ERR6, sport=0, dport=0), l3_off=14, l4_off=54, l3_len=92, icmp_type=4,
        malformed=TRUNCATED),
    # ESP: no ports; 40 + 8 spi/seq + 16 data
    "ipv6-esp": ok(eth(ETH_P_IPV6) / ip6(nh=ESP_P) / Raw(b"\x00\x00\x01\x00\x00\x00\x00\x01" +
                                                        b"e" * 16),
                   **C2S6, l3_off=14, l4_off=54, l3_len=64, proto=ESP_P),
    # no next header: valid, no l4
    "ipv6-no-next-header": ok(eth(ETH_P_IPV6) / ip6(nh=NONE_P),
                              **C2S6, l3_off=14, l4_off=0, l3_len=40, proto=NONE_P),
    # hop-by-hop (8) then udp at 14 + 40 + 8
    "ipv6-hop-by-hop-udp": ok(eth(ETH_P_IPV6) / ip6() / IPv6ExtHdrHopByHop(options=[RouterAlert()])
                              / UDP(sport=53000, dport=53) / Raw(b"dns?"),
                              **C2S6, l3_off=14, l4_off=62, l3_len=60, flags=F_IPV6_EXT,
                              proto=UDP_P, sport=53000, dport=53),
    # routing type 0 with one address, segments left 0: (2 + 1) * 8 = 24
    "ipv6-routing-tcp": ok(eth(ETH_P_IPV6) / ip6() / IPv6ExtHdrRouting(addresses=[SERVICE6],
                                                                     segleft=0) /
                           TCP(sport=40000, dport=80, flags="S"),
                           **C2S6, l3_off=14, l4_off=78, l3_len=84, flags=F_IPV6_EXT,
                           proto=TCP_P, sport=40000, dport=80, tcp_flags=TCP_SYN),
    # destination options padded to 16 octets (hdrlen 1)
    "ipv6-dest-opts-tcp": ok(eth(ETH_P_IPV6) / ip6() /
                             IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 12)]) /
                             TCP(sport=40000, dport=80, flags="S"),
                             **C2S6, l3_off=14, l4_off=70, l3_len=76, flags=F_IPV6_EXT,
                             proto=TCP_P, sport=40000, dport=80, tcp_flags=TCP_SYN),
    # AH with a 12-octet ICV: payload length 4 means (4 + 2) * 4 = 24 octets
    "ipv6-ah-tcp": ok(eth(ETH_P_IPV6) / ip6() / AH(nh=TCP_P, payloadlen=4, spi=0x100, seq=1,
                                                    icv=b"\xaa" * 12) /
                      TCP(sport=40000, dport=80, flags="S"),
                      **C2S6, l3_off=14, l4_off=78, l3_len=84, flags=F_IPV6_EXT, proto=TCP_P,
                      sport=40000, dport=80, tcp_flags=TCP_SYN),
    # fragment header, offset 0 and M: 40 + 8 + 32 (udp header + 24 data)
    "ipv6-frag-first-udp": ok(eth(ETH_P_IPV6) / ip6() /
                              IPv6ExtHdrFragment(nh=UDP_P, offset=0, m=1, id=0x77) /
                              Raw(udp_datagram6()[:32]),
                              **C2S6, l3_off=14, l4_off=0, l3_len=80, flags=F_IPV6_EXT,
                              frag=FRAG_FIRST, proto=UDP_P),
    "ipv6-frag-later-udp": ok(eth(ETH_P_IPV6) / ip6() /
                              IPv6ExtHdrFragment(nh=UDP_P, offset=4, m=0, id=0x77) /
                              Raw(udp_datagram6()[32:]),
                              **C2S6, l3_off=14, l4_off=0, l3_len=80, flags=F_IPV6_EXT,
                              frag=FRAG_LATER, proto=UDP_P),
    # hop-by-hop 8, dest 8, routing 24, fragment 8, dest 8, tcp: the fragment header's next
    # header (dest options) is the protocol of every fragment; the tcp header is not read
    "ipv6-ext-chain-tcp": ok(eth(ETH_P_IPV6) / ip6() /
                             IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt() /
                             IPv6ExtHdrRouting(addresses=[SERVICE6], segleft=0) /
                             IPv6ExtHdrFragment(offset=0, m=1, id=5) / IPv6ExtHdrDestOpt() /
                             TCP(sport=40000, dport=80, flags="S"),
                             **C2S6, l3_off=14, l4_off=0, l3_len=116, flags=F_IPV6_EXT,
                             frag=FRAG_FIRST, proto=DSTOPTS_P),
    # exactly DT_MAX_IPV6_EXT_HDRS (6) destination options headers of 8: udp at 14 + 40 + 48
    "ipv6-ext-6-headers-udp": ok(eth(ETH_P_IPV6) / ip6() / IPv6ExtHdrDestOpt() /
                                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                 IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                                 IPv6ExtHdrDestOpt() / UDP(sport=53000, dport=53) /
                                 Raw(b"dns?"),
                                 **C2S6, l3_off=14, l4_off=102, l3_len=100, flags=F_IPV6_EXT,
                                 proto=UDP_P, sport=53000, dport=53),
    # one more: malformed, keyed on the addresses alone; 40 + 7 * 8 + 8
    "ipv6-ext-7-headers": ok(eth(ETH_P_IPV6) / ip6() / IPv6ExtHdrDestOpt() /
                             IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                             IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                             UDP(sport=53000, dport=53),
                             **C2S6, l3_off=14, l4_off=0, l3_len=104, flags=F_IPV6_EXT, proto=0,
                             malformed=EXT_HDR_LIMIT),
    # version nibble 4 in an IPv6 frame (byte 14 = 0x60 -> 0x40)
    "ipv6-bad-version": fail(patch(eth(ETH_P_IPV6) / ip6() / TCP(), 14, 0x40),
                             "DT_REASON_BAD_HEADER"),
    "ipv6-payload-len-past-frame": fail(eth(ETH_P_IPV6) / ip6(plen=100) / TCP(),
                                        "DT_REASON_TRUNCATED"),
}

FIELDS = ("l3_off", "l4_off", "l3_proto", "l3_len", "vlan_depth", "frag", "ttl", "tcp_flags",
          "icmp_type", "icmp_code", "flags", "malformed")


def check_lengths(name, raw, exp):
    """The hand-stated lengths must agree with what scapy built (catches arithmetic slips)."""
    frame = Ether(raw)
    scapy_len = frame[IP].len if IP in frame else 40 + frame[IPv6].plen
    if scapy_len != exp["l3_len"] or exp["l3_off"] + exp["l3_len"] > len(raw):
        sys.exit(f"{name}: stated l3_len {exp['l3_len']}, scapy built {scapy_len}")


def addr_words(text):
    """An address as __be32 words; an IPv4 address fills word 0 and leaves the rest zero."""
    packed = ipaddress.ip_address(text).packed
    words = [int.from_bytes(packed[i:i + 4], "big") for i in range(0, len(packed), 4)]
    if len(words) == 1:
        return f"{{ bpf_htonl(0x{words[0]:08x}) }}"
    return "{\n" + "".join(f"\t\t\t\t\tbpf_htonl(0x{w:08x}),\n" for w in words) + "\t\t\t\t}"


NAMES = {
    "proto": {6: "IPPROTO_TCP", 17: "IPPROTO_UDP", 1: "IPPROTO_ICMP", 58: "IPPROTO_ICMPV6",
              47: "IPPROTO_GRE", 50: "IPPROTO_ESP", 59: "IPPROTO_NONE", 60: "IPPROTO_DSTOPTS"},
    "family": {4: "DT_FAMILY_V4", 6: "DT_FAMILY_V6"},
    "l3_proto": {ETH_P_IP: "ETH_P_IP", ETH_P_IPV6: "ETH_P_IPV6"},
    "frag": {FRAG_NONE: "DT_FRAG_NONE", FRAG_FIRST: "DT_FRAG_FIRST", FRAG_LATER: "DT_FRAG_LATER"},
    "flags": {0: "0", F_ICMP_ERROR: "DT_PKT_F_ICMP_ERROR", F_IPV4_OPTIONS: "DT_PKT_F_IPV4_OPTIONS",
              F_IPV6_EXT: "DT_PKT_F_IPV6_EXT"},
    "malformed": {0: "0", TRUNCATED: "DT_REASON_TRUNCATED", BAD_HEADER: "DT_REASON_BAD_HEADER",
                  EXT_HDR_LIMIT: "DT_REASON_EXT_HDR_LIMIT"},
}


def c_value(field, value):
    return NAMES.get(field, {}).get(value, str(value))


def c_expect(exp):
    out = ["\t\t.expect = {", "\t\t\t.key = {",
           f"\t\t\t\t/* {exp['saddr']} */", f"\t\t\t\t.saddr = {addr_words(exp['saddr'])},",
           f"\t\t\t\t/* {exp['daddr']} */", f"\t\t\t\t.daddr = {addr_words(exp['daddr'])},",
           f"\t\t\t\t.sport = bpf_htons({exp.get('sport', 0)}),",
           f"\t\t\t\t.dport = bpf_htons({exp.get('dport', 0)}),",
           f"\t\t\t\t.proto = {c_value('proto', exp['proto'])},",
           f"\t\t\t\t.family = {c_value('family', exp['family'])},", "\t\t\t},"]
    out += [f"\t\t\t.{f} = {c_value(f, exp.get(f, 0))}," for f in FIELDS]
    return out + ["\t\t},"]


def c_bytes(ident, raw):
    lines = [f"static const __u8 {ident}[{len(raw)}] = {{"]
    for i in range(0, len(raw), 12):
        lines.append("\t" + " ".join(f"0x{b:02x}," for b in raw[i:i + 12]))
    return lines + ["};", ""]


def main():
    out = ["/* SPDX-License-Identifier: GPL-2.0-only */",
           "/* Generated by tests/golden/gen_golden_packets.py with scapy. Do not edit. */",
           "#include <linux/if_ether.h>", "#include <linux/in.h>", "#include <linux/in6.h>",
           "#include <bpf/bpf_endian.h>", "", '#include "golden_packets.h"', ""]
    table = []
    for name, (frame, ret, exp) in CASES.items():
        raw = frame if isinstance(frame, bytes) else bytes(frame)
        ident = "pkt_" + name.replace("-", "_")
        out += c_bytes(ident, raw)
        entry = ["\t{", f'\t\t.name = "{name}",', f"\t\t.bytes = {ident},",
                 f"\t\t.len = sizeof({ident}),", f"\t\t.expect_ret = {ret or 0},"]
        if exp is not None:
            check_lengths(name, raw, exp)
            entry += c_expect(exp)
        table += entry + ["\t},"]
    out += ["const struct dt_golden_packet dt_golden_packets[] = {"] + table + ["};", ""]
    out += ["const unsigned int dt_golden_packet_count =",
            "\tsizeof(dt_golden_packets) / sizeof(dt_golden_packets[0]);"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
