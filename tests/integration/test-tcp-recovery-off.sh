#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (16) test-tcp-recovery.sh without `tcp_reset` on the service prefixes: every client's longest
# gap between answers is a retransmission timer (more than 150 ms), which is what the feature
# removes; the same clients, the same cut.
DT_TCP_RESET=0 exec "$(dirname "$0")/test-tcp-recovery.sh"
