# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by the DPDK-only tests of tests/dpdk-integration: the harness of
# scripts/lib/topology_test.sh with the edge router in DPDK mode (scripts/lib/dpdk.sh).
# shellcheck disable=SC2034 # read by topology_test.sh
DT_DATAPLANE=dpdk
# shellcheck source=../../scripts/lib/topology_test.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/topology_test.sh"
