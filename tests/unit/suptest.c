/* SPDX-License-Identifier: MIT */
/*
 * Driving the supervisor's transition function in the unit tests (see
 * suptest.h).
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "suptest.h"

struct supervise S;
struct supervise_actions A;
uint64_t T;

enum supervise_state ev(enum supervise_ev type)
{
	struct supervise_event e = {.type = type};

	memset(&A, 0, sizeof(A));
	return supervise_step(&S, &e, T, &A);
}

enum supervise_state ev_sig(int sig)
{
	struct supervise_event e = {.type = SUP_EV_SIGNAL, .sig = sig};

	memset(&A, 0, sizeof(A));
	return supervise_step(&S, &e, T, &A);
}

enum supervise_state ev_exit(int code, bool populated)
{
	struct supervise_event e = {
		.type = SUP_EV_MAIN_EXITED, .code = code, .populated = populated};

	memset(&A, 0, sizeof(A));
	return supervise_step(&S, &e, T, &A);
}

enum supervise_state at_deadline(void)
{
	ck_assert_uint_ne(supervise_deadline(&S), SUPERVISE_NO_DEADLINE);
	T = supervise_deadline(&S);
	return ev(SUP_EV_DEADLINE);
}

int find(enum supervise_act t)
{
	for (size_t i = 0; i < A.n; i++)
		if (A.a[i].type == t)
			return (int)i;
	return -1;
}

const struct supervise_action *act(enum supervise_act t)
{
	int i = find(t);

	ck_assert_msg(i >= 0, "action %d not emitted", (int)t);
	return &A.a[i];
}
