/* SPDX-License-Identifier: MIT */
/*
 * Driving the supervisor's transition function in the unit tests with an
 * injected clock: the machine, the actions of its last step and the clock
 * are the test program's (test-supervise and test-supervise-prestart
 * share these).
 */
#ifndef BERTH_SUPTEST_H
#define BERTH_SUPTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "supervise.h"

extern struct supervise S;
extern struct supervise_actions A; /* of the last step */
extern uint64_t T;		   /* the injected clock, ms */

/* Deliver an event of type (no data), a signal, the main process's exit;
 * each clears A first and returns the new state. */
enum supervise_state ev(enum supervise_ev type);
enum supervise_state ev_sig(int sig);
enum supervise_state ev_exit(int code, bool populated);

/* Advance the clock to the deadline and deliver it. */
enum supervise_state at_deadline(void);

/* Index of the first action of type t in A, or -1. */
int find(enum supervise_act t);

/* The first action of type t in A; fails the test when there is none. */
const struct supervise_action *act(enum supervise_act t);

#endif
