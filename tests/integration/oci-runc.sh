#!/bin/sh
# SPDX-License-Identifier: MIT
# oci-crun.sh with runc instead of crun: the same box (limits, bounded
# storage, ingress rules, environment) and the same stop, from berth spec
# and from berth hook with the stop guard.
OCI_RUNTIME=runc
. "$TOP_SRCDIR/tests/integration/oci-crun.sh"
