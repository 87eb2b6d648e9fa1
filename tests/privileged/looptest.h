/* SPDX-License-Identifier: MIT */
/*
 * The main() of a privileged test that needs loop devices (the bounded
 * disk): shared by the mount tests (mnttest.c), test-exec and test-view.
 */
#ifndef BERTH_LOOPTEST_H
#define BERTH_LOOPTEST_H

#include <check.h>

/* Without root, loop devices or e2fsprogs: 77 (SKIP), or a failure under
 * BERTH_STRICT=1.  Else run s, then remove what a failed test could not
 * clean up (its teardown does not run then): `rm -rf SWEEP`, a list of
 * shell globs.  EXIT_SUCCESS or EXIT_FAILURE. */
int looptest_main(Suite *s, const char *name, const char *sweep);

#endif
