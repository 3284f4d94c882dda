#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every Debian package Detour needs to build, test and benchmark, and mount the
# pseudo file systems it uses. Safe to run any number of times.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config meson ninja-build git
	clang llvm lld libclang-rt-14-dev
	libbpf-dev bpftool libxdp-dev xdp-tools linux-libc-dev
	libdpdk-dev dpdk dpdk-dev
	libcmocka-dev libsodium-dev libinih-dev libjson-c-dev libcap-dev libmicrohttpd-dev
	libsystemd-dev logrotate systemd
	iproute2 iputils-ping ethtool tcpdump tshark netsniff-ng socat ncat
	nut-server nut-client bird2 python3 python3-scapy gnuplot-nox file prometheus curl
	debhelper lintian groff-base nginx-light coreutils
)

need_install() {
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || return 0
	done
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "setup.sh: must run as root (installs packages, mounts bpffs)" >&2
	exit 1
fi

if need_install; then
	export DEBIAN_FRONTEND=noninteractive
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi


mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
# A modest reservation for DPDK tests; tests fall back to --no-huge when this fails.
nr=$(cat /proc/sys/vm/nr_hugepages)
if [ "$nr" -lt 256 ]; then
	echo 256 >/proc/sys/vm/nr_hugepages 2>/dev/null || true
fi
exit 0
