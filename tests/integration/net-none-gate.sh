#!/bin/sh
# SPDX-License-Identifier: MIT
# --network=none: berth builds the rest of the box while its helper
# installs and reads back the ruleset, and the worker's process waits at a
# gate, after its mounts, privilege drop and filter and before its exec,
# until the ruleset is verified.  A helper that fails late (a stand-in
# libnftables.so.1 that sleeps in its constructor and lacks the library's
# functions) leaves the start command unrun: berth exits 125.  Without the
# stand-in the same worker runs.
. "$TOP_SRCDIR/tests/integration/lib.sh"
require_root
RUN_BOXED=1

mkdir -p "$TMP/lib"
cat >"$TMP/lib/slow.c" <<'C'
#include <unistd.h>
__attribute__((constructor)) static void slow(void) { usleep(800 * 1000); }
C
cc -shared -fPIC -o "$TMP/lib/libnftables.so.1" "$TMP/lib/slow.c" ||
	not_ok "cannot build the stand-in library"

write_app "echo WORKER-RAN
exec sleep 1000"

# --- the helper fails 0.8 s in: nothing runs --------------------------------
export LD_LIBRARY_PATH="$TMP/lib"
start_run host --network none
unset LD_LIBRARY_PATH
wait_run 20
is "$RUN_RC" 125 "a failed ruleset: berth exits 125"
check "the worker's start command never ran" sh -c "! grep -q '^WORKER-RAN' '$BLOG'"
check "the helper's failure is logged" grep -q 'libnftables.so.1 has no nft_' "$BLOG"
check "berth says the worker's process was killed before its exec" \
	grep -q 'killed before its exec' "$BLOG"

# --- the real library: the worker runs --------------------------------------
start_run host --network none
check "with libnftables the worker runs" wait_for "$BLOG" '^WORKER-RAN' 20
check "and the ruleset was verified" wait_for "$BLOG" 'read back and verified' 10
kill -TERM "$BERTH_PID"
wait_run 20
is "$RUN_RC" 0 "stopped, status 0"

done_testing
