/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the pre-start state of the supervisor (supervise.c), with
 * an injected clock: commands.pre_start runs once before the first start
 * and never at a restart; its failure, its stop, its leftovers, its OOM
 * kill and berth's exit status in each case.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <string.h>

#include "exitcodes.h"
#include "supervise.h"
#include "suptest.h"

static void setup_prestart(void)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.pre_start = true;
	supervise_init(&S, &p);
	T = 1000;
}

/* START: the pre-start command is spawned first, and runs. */
static void prestart_running(void)
{
	ck_assert_int_eq(ev(SUP_EV_START), SUP_PRESTART);
	ck_assert_uint_eq(A.n, 1);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_SPAWN_PRESTART);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_PRESTART);
	ck_assert_uint_eq(A.n, 0);
	ck_assert_uint_eq(supervise_deadline(&S), SUPERVISE_NO_DEADLINE); /* no time limit */
	ck_assert_uint_eq(S.starts, 0);
}

START_TEST(test_once_before_start_not_at_restarts)
{
	setup_prestart();
	prestart_running();
	T += 250;
	ck_assert_int_eq(ev_exit(0, false), SUP_STARTING);
	ck_assert_int_eq(act(SUP_ACT_LOG_PRESTART)->code, 0);
	ck_assert_uint_eq(act(SUP_ACT_LOG_PRESTART)->ms, 250);
	ck_assert_int_lt(find(SUP_ACT_LOG_PRESTART), find(SUP_ACT_SPAWN));
	ck_assert_int_eq(find(SUP_ACT_SPAWN_PRESTART), -1);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	ck_assert_uint_eq(S.starts, 1);
	for (int i = 0; i < 3; i++) {
		T += 10;
		ck_assert_int_eq(ev_exit(1, false), SUP_BACKOFF);
		ck_assert_int_eq(at_deadline(), SUP_STARTING);
		ck_assert_int_ge(find(SUP_ACT_SPAWN), 0);
		ck_assert_int_eq(find(SUP_ACT_SPAWN_PRESTART), -1);
		ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	}
	ck_assert_uint_eq(S.starts, 4);
}
END_TEST

START_TEST(test_without_prestart)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	ck_assert(!p.pre_start);
	supervise_init(&S, &p);
	ck_assert_int_eq(ev(SUP_EV_START), SUP_STARTING);
	ck_assert_int_eq(find(SUP_ACT_SPAWN_PRESTART), -1);
	ck_assert_int_ge(find(SUP_ACT_SPAWN), 0);
}
END_TEST

START_TEST(test_failure_exits_91)
{
	static const int codes[] = {1, 3, 126, 127, 128 + SIGKILL, 128 + SIGSEGV};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		setup_prestart();
		prestart_running();
		ck_assert_int_eq(ev_exit(codes[i], false), SUP_EXITED);
		ck_assert_int_eq(act(SUP_ACT_LOG_PRESTART)->code, codes[i]);
		ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_PRESTART);
		ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
		ck_assert_int_eq(find(SUP_ACT_LOG_GIVE_UP), -1);
	}
	ck_assert_int_eq(BERTH_EXIT_PRESTART, 91);
}
END_TEST

START_TEST(test_spawn_failed_exits_125)
{
	setup_prestart();
	ck_assert_int_eq(ev(SUP_EV_START), SUP_PRESTART);
	ck_assert_int_eq(ev(SUP_EV_SPAWN_FAILED), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_SETUP);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
}
END_TEST

/* A stop during the pre-start command is the worker's stop: the stop
 * signal and SIGCONT to every process, the deadline, SIGKILL, and berth's
 * exit status for a stop (0, 137); the worker never starts. */
START_TEST(test_stop_during_prestart)
{
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_int_ge(find(SUP_ACT_LOG_STOPPING), 0);
	ck_assert_int_eq(act(SUP_ACT_SIGNAL_ALL)->sig, SIGTERM);
	ck_assert_int_eq(A.a[find(SUP_ACT_SIGNAL_ALL) + 1].sig, SIGCONT);
	ck_assert_uint_eq(supervise_deadline(&S), T + 15000);
	T += 40;
	ck_assert_int_eq(ev_exit(128 + SIGTERM, false), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, 0);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
	ck_assert_int_eq(find(SUP_ACT_LOG_PRESTART), -1);

	/* it ignores the stop signal: SIGKILL at the deadline, exit 137 */
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_sig(SIGINT), SUP_STOPPING);
	ck_assert_int_eq(at_deadline(), SUP_KILLING);
	ck_assert_int_eq(act(SUP_ACT_KILL_ALL)->reason, SUP_KILL_DEADLINE);
	ck_assert_int_eq(ev_exit(128 + SIGKILL, false), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_KILLED);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
}
END_TEST

START_TEST(test_stop_while_spawning)
{
	setup_prestart();
	ck_assert_int_eq(ev(SUP_EV_START), SUP_PRESTART);
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_PRESTART);
	ck_assert_int_eq(find(SUP_ACT_SIGNAL_ALL), -1);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_STOPPING);
	ck_assert_int_eq(act(SUP_ACT_SIGNAL_ALL)->sig, SIGTERM);
	ck_assert_int_eq(ev_exit(128 + SIGTERM, false), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, 0);

	setup_prestart();
	ck_assert_int_eq(ev(SUP_EV_START), SUP_PRESTART);
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_PRESTART);
	ck_assert_int_eq(ev(SUP_EV_SPAWN_FAILED), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, 0);
}
END_TEST

START_TEST(test_relay_during_prestart)
{
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_sig(SIGHUP), SUP_PRESTART);
	ck_assert_int_eq(act(SUP_ACT_SIGNAL_GROUP)->sig, SIGHUP);
}
END_TEST

/* What it left behind is stopped before the worker starts, whatever
 * --leftover says. */
START_TEST(test_leftovers_stopped_then_start)
{
	for (int policy = 0; policy < 2; policy++) {
		setup_prestart();
		S.pol.leftover = policy ? SUP_LEFTOVER_RESTART : SUP_LEFTOVER_KILL;
		prestart_running();
		ck_assert_int_eq(ev_exit(0, true), SUP_PRESTART);
		ck_assert_int_lt(find(SUP_ACT_LOG_PRESTART), find(SUP_ACT_LOG_LEFTOVER));
		ck_assert_int_eq(act(SUP_ACT_SIGNAL_ALL)->sig, SIGTERM);
		ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
		ck_assert_uint_eq(supervise_deadline(&S), T + 15000);
		T += 5;
		ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_STARTING);
		ck_assert_int_ge(find(SUP_ACT_SPAWN), 0);
		ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	}

	/* they ignore the stop signal: SIGKILL at the deadline, then start */
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_PRESTART);
	ck_assert_int_eq(at_deadline(), SUP_PRESTART);
	ck_assert_int_eq(act(SUP_ACT_KILL_ALL)->reason, SUP_KILL_LEFTOVER);
	ck_assert_uint_eq(supervise_deadline(&S), T + 5000);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_STARTING);

	/* they survive SIGKILL: stuck, and the worker starts anyway */
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_PRESTART);
	ck_assert_int_eq(at_deadline(), SUP_PRESTART);
	ck_assert_int_eq(at_deadline(), SUP_STARTING);
	ck_assert_int_lt(find(SUP_ACT_LOG_STUCK), find(SUP_ACT_SPAWN));
}
END_TEST

START_TEST(test_failed_leftovers_then_exit)
{
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(2, true), SUP_PRESTART);
	ck_assert_int_ge(find(SUP_ACT_LOG_LEFTOVER), 0);
	ck_assert_int_eq(find(SUP_ACT_EXIT), -1); /* not before they are gone */
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_PRESTART);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
}
END_TEST

/* A stop while its leftovers are stopped keeps their deadline; the
 * worker never starts. */
START_TEST(test_stop_during_leftovers)
{
	uint64_t dl;

	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_PRESTART);
	dl = supervise_deadline(&S);
	T += 1000;
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_uint_eq(supervise_deadline(&S), dl);
	ck_assert_int_eq(find(SUP_ACT_SIGNAL_ALL), -1); /* they had it */
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, 0);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);

	/* after the failure: its status wins over the stop's */
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(4, true), SUP_PRESTART);
	ck_assert_int_eq(at_deadline(), SUP_PRESTART); /* SIGKILL */
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_KILLING);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_PRESTART);
}
END_TEST

START_TEST(test_oom_during_prestart)
{
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_PRESTART);
	ck_assert_int_ge(find(SUP_ACT_LOG_OOM), 0);
	ck_assert_int_eq(act(SUP_ACT_KILL_ALL)->reason, SUP_KILL_OOM);
	ck_assert_int_eq(ev_exit(128 + SIGKILL, true), SUP_PRESTART);
	ck_assert(act(SUP_ACT_LOG_PRESTART)->oom);
	ck_assert_int_eq(find(SUP_ACT_LOG_LEFTOVER), -1); /* they had SIGKILL */
	ck_assert_uint_eq(supervise_deadline(&S), T + 5000);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(act(SUP_ACT_EXIT)->code, BERTH_EXIT_PRESTART);

	/* an OOM kill among its leftovers (it exited 0): SIGKILL them, then
	 * the worker starts, its run not marked by the pre-start's kill */
	setup_prestart();
	prestart_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_PRESTART);
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_PRESTART);
	ck_assert_int_eq(act(SUP_ACT_KILL_ALL)->reason, SUP_KILL_OOM);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_STARTING);
	ck_assert(!S.oom_run);
}
END_TEST

START_TEST(test_state_name)
{
	ck_assert_str_eq(supervise_state_name(SUP_PRESTART), "pre-start");
	ck_assert_str_eq(supervise_state_name(SUP_EXITED), "exited");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("supervise-prestart");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_once_before_start_not_at_restarts);
	tcase_add_test(tc, test_without_prestart);
	tcase_add_test(tc, test_failure_exits_91);
	tcase_add_test(tc, test_spawn_failed_exits_125);
	tcase_add_test(tc, test_stop_during_prestart);
	tcase_add_test(tc, test_stop_while_spawning);
	tcase_add_test(tc, test_relay_during_prestart);
	tcase_add_test(tc, test_leftovers_stopped_then_start);
	tcase_add_test(tc, test_failed_leftovers_then_exit);
	tcase_add_test(tc, test_stop_during_leftovers);
	tcase_add_test(tc, test_oom_during_prestart);
	tcase_add_test(tc, test_state_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
