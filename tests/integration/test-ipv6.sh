#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# (9) The IPv6 versions of the power cut (2) and of the recovery (4): the same scripts with the
# client speaking to the IPv6 anycast addresses.
here=$(dirname "$0")
status=0
DT_FAMILY=6 "$here/test-power-cut.sh" || status=1
DT_FAMILY=6 "$here/test-recovery.sh" || status=1
exit $status
