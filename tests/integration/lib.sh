# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Sourced by every tests/integration/test-*.sh: the harness of scripts/lib/topology_test.sh
# (a fresh topology per test, torn down on exit; TAP checks; client and event-log readers).
# DT_DATAPLANE=dpdk (suite dpdk-integration, for test-power-cut and test-recovery) runs the same
# test with the edge in DPDK mode.
# shellcheck source=../../scripts/lib/topology_test.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/topology_test.sh"
