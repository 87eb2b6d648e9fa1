/* SPDX-License-Identifier: MIT */
/* The main() of a privileged test that needs loop devices (looptest.h). */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "looptest.h"
#include "storage.h"
#include "util.h"

int looptest_main(Suite *s, const char *name, const char *sweep)
{
	bool strict = getenv("BERTH_STRICT") && strcmp(getenv("BERTH_STRICT"), "1") == 0;
	_cleanup_free_ char *cmd = NULL;
	SRunner *sr;
	int failed;

	if (geteuid() != 0 || access("/dev/loop-control", W_OK) < 0 ||
	    access(STORAGE_MKFS, X_OK) < 0) {
		fprintf(stderr, "%s: needs root, loop devices and e2fsprogs%s\n", name,
			strict ? " (BERTH_STRICT=1: failing)" : "; skipped");
		srunner_free(srunner_create(s)); /* frees s */
		return strict ? EXIT_FAILURE : 77;
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cmd = xasprintf("rm -rf %s", sweep);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
