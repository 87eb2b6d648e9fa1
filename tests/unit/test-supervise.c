/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the supervisor's transition function (supervise.c) with an
 * injected clock: every state and event, backoff growth and reset, the
 * stop deadline, a second signal during the stop, the crash budget; and of
 * the signal name table (signals.c).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "run.h"
#include "signals.h"
#include "supervise.h"
#include "suptest.h"

static void setup_policy(const struct supervise_policy *p)
{
	supervise_init(&S, p);
	T = 1000;
}

static void setup_default(void)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	setup_policy(&p);
}

static void start_running(void)
{
	ck_assert_int_eq(ev(SUP_EV_START), SUP_STARTING);
	ck_assert_int_ge(find(SUP_ACT_SPAWN), 0);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	ck_assert_uint_eq(A.n, 0);
}

START_TEST(test_defaults)
{
	struct supervise_policy p;
	const char *why;

	supervise_policy_default(&p);
	ck_assert_uint_eq(p.restart_min_ms, 100);
	ck_assert_uint_eq(p.restart_factor, 2);
	ck_assert_uint_eq(p.restart_max_ms, 30000);
	ck_assert_uint_eq(p.restart_reset_ms, 10000);
	ck_assert_uint_eq(p.stop_timeout_ms, 15000);
	ck_assert_int_eq(p.stop_signal, SIGTERM);
	ck_assert_int_eq(p.kill_mode, SUP_KILL_CONTROL_GROUP);
	ck_assert_int_eq(supervise_policy_check(&p, &why), 0);
	p.restart_factor = 0;
	ck_assert_int_eq(supervise_policy_check(&p, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	supervise_policy_default(&p);
	p.restart_min_ms = 0;
	ck_assert_int_eq(supervise_policy_check(&p, NULL), -EINVAL);
	supervise_policy_default(&p);
	p.restart_min_ms = 40000;
	ck_assert_int_eq(supervise_policy_check(&p, NULL), -EINVAL);
	supervise_policy_default(&p);
	p.stop_signal = SIGKILL;
	ck_assert_int_eq(supervise_policy_check(&p, NULL), -EINVAL);
	supervise_policy_default(&p);
	p.max_restarts = 1001;
	ck_assert_int_eq(supervise_policy_check(&p, NULL), -EINVAL);
}
END_TEST

START_TEST(test_backoff_table)
{
	struct supervise_policy p;
	static const uint64_t want[] = {100,  200,   400,   800,   1600, 3200,
					6400, 12800, 25600, 30000, 30000};

	supervise_policy_default(&p);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_uint_eq(supervise_backoff_ms(&p, i), want[i]);
	ck_assert_uint_eq(supervise_backoff_ms(&p, 1000), 30000);
	p.restart_factor = 1;
	ck_assert_uint_eq(supervise_backoff_ms(&p, 50), 100);
	p.restart_factor = 1000000;
	ck_assert_uint_eq(supervise_backoff_ms(&p, 3), 30000);
}
END_TEST

START_TEST(test_idle_running_has_no_deadline)
{
	setup_default();
	ck_assert_int_eq(S.state, SUP_IDLE);
	start_running();
	ck_assert_uint_eq(supervise_deadline(&S), SUPERVISE_NO_DEADLINE);
	/* A spurious deadline event changes nothing. */
	ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_RUNNING);
	ck_assert_uint_eq(A.n, 0);
	/* A second START is ignored. */
	ck_assert_int_eq(ev(SUP_EV_START), SUP_RUNNING);
	ck_assert_uint_eq(A.n, 0);
}
END_TEST

START_TEST(test_restart_growth_and_reset)
{
	uint64_t want[] = {100, 200, 400, 800};

	setup_default();
	start_running();
	for (unsigned i = 0; i < 4; i++) {
		T += 5; /* a quick death, exit 0 included */
		ck_assert_int_eq(ev_exit(i == 2 ? 139 : (int)i, false), SUP_BACKOFF);
		int r = find(SUP_ACT_LOG_RESTART);
		ck_assert_int_ge(r, 0);
		ck_assert_uint_eq(A.a[r].ms, want[i]);
		ck_assert_uint_eq(supervise_deadline(&S), T + want[i]);
		/* Early deadline events are ignored: no spin, no spawn. */
		T += want[i] - 1;
		ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_BACKOFF);
		ck_assert_uint_eq(A.n, 0);
		T += 1;
		ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_STARTING);
		ck_assert_int_ge(find(SUP_ACT_SPAWN), 0);
		ck_assert_uint_eq(supervise_deadline(&S), SUPERVISE_NO_DEADLINE);
		ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	}
	ck_assert_uint_eq(S.starts, 5);
	/* Up for the reset period: back to the minimum. */
	T += 10000;
	ck_assert_int_eq(ev_exit(1, false), SUP_BACKOFF);
	ck_assert_uint_eq(A.a[find(SUP_ACT_LOG_RESTART)].ms, 100);
	/* Up just under it: the delay keeps growing. */
	at_deadline();
	ev(SUP_EV_SPAWNED);
	T += 9999;
	ev_exit(1, false);
	ck_assert_uint_eq(A.a[find(SUP_ACT_LOG_RESTART)].ms, 200);
}
END_TEST

START_TEST(test_backoff_cap)
{
	setup_default();
	start_running();
	uint64_t last = 0;
	for (int i = 0; i < 20; i++) {
		ev_exit(1, false);
		last = A.a[find(SUP_ACT_LOG_RESTART)].ms;
		at_deadline();
		ev(SUP_EV_SPAWNED);
	}
	ck_assert_uint_eq(last, 30000);
}
END_TEST

START_TEST(test_stop_prompt_exit)
{
	setup_default();
	start_running();
	T += 50;
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 3);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_LOG_STOPPING);
	ck_assert_int_eq(A.a[1].type, SUP_ACT_SIGNAL_ALL);
	ck_assert_int_eq(A.a[1].sig, SIGTERM);
	ck_assert_int_eq(A.a[2].type, SUP_ACT_SIGNAL_ALL);
	ck_assert_int_eq(A.a[2].sig, SIGCONT);
	ck_assert_uint_eq(supervise_deadline(&S), T + 15000);
	/* Worker exits at once, by the signal: berth exits 0, no restart. */
	T += 3;
	ck_assert_int_eq(ev_exit(143, false), SUP_EXITED);
	ck_assert_uint_eq(A.n, 1);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_EXIT);
	ck_assert_int_eq(A.a[0].code, 0);
	ck_assert_uint_eq(supervise_deadline(&S), SUPERVISE_NO_DEADLINE);
}
END_TEST

START_TEST(test_stop_waits_for_cgroup)
{
	setup_default();
	start_running();
	ev_sig(SIGINT);
	ck_assert_int_eq(S.state, SUP_STOPPING);
	/* sh exited but a child is still draining: keep waiting. */
	ck_assert_int_eq(ev_exit(0, true), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 0);
	T += 2000;
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 0);
}
END_TEST

START_TEST(test_stop_empty_before_reap)
{
	setup_default();
	start_running();
	ev_sig(SIGTERM);
	/* The cgroup empties before the main process is reaped. */
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 0);
	ck_assert_int_eq(ev_exit(143, false), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 0);
}
END_TEST

START_TEST(test_stop_deadline_kill)
{
	setup_default();
	start_running();
	T = 5000;
	ev_sig(SIGTERM);
	uint64_t dl = supervise_deadline(&S);
	ck_assert_uint_eq(dl, 20000);
	/* A second SIGTERM and a SIGINT later: the deadline does not move. */
	T = 12000;
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 1);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_LOG_STOP_AGAIN);
	ck_assert_uint_eq(supervise_deadline(&S), dl);
	ev_sig(SIGINT);
	ck_assert_uint_eq(supervise_deadline(&S), dl);
	ck_assert_int_eq(find(SUP_ACT_SIGNAL_ALL), -1);
	/* Relayed signals still reach the worker while it stops. */
	ev_sig(SIGUSR1);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_SIGNAL_GROUP);
	/* The deadline: SIGKILL everything. */
	T = 19999;
	ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 0);
	T = 20000;
	ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_KILLING);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_KILL_ALL);
	ck_assert_int_eq(A.a[0].reason, SUP_KILL_DEADLINE);
	/* A signal during the kill changes nothing either. */
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_KILLING);
	ck_assert_int_eq(find(SUP_ACT_KILL_ALL), -1);
	ck_assert_int_eq(ev_exit(137, true), SUP_KILLING);
	ck_assert_uint_eq(A.n, 0);
	T += 3;
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_EXIT);
	ck_assert_int_eq(A.a[0].code, 137);
}
END_TEST

START_TEST(test_kill_stuck)
{
	setup_default();
	start_running();
	ev_sig(SIGTERM);
	at_deadline();
	ck_assert_int_eq(S.state, SUP_KILLING);
	ck_assert_uint_eq(supervise_deadline(&S), T + 5000);
	ck_assert_int_eq(at_deadline(), SUP_EXITED);
	ck_assert_int_ge(find(SUP_ACT_LOG_STUCK), 0);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 137);
}
END_TEST

START_TEST(test_kill_mode_mixed)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.kill_mode = SUP_KILL_MIXED;
	p.stop_signal = SIGINT;
	setup_policy(&p);
	start_running();
	ev_sig(SIGTERM);
	ck_assert_uint_eq(A.n, 3);
	ck_assert_int_eq(A.a[1].type, SUP_ACT_SIGNAL_MAIN);
	ck_assert_int_eq(A.a[1].sig, SIGINT);
	ck_assert_int_eq(A.a[2].type, SUP_ACT_SIGNAL_MAIN);
	ck_assert_int_eq(A.a[2].sig, SIGCONT);
	/* Main gone, helpers left: they get SIGKILL now, not at the deadline. */
	ck_assert_int_eq(ev_exit(0, true), SUP_STOPPING);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_KILL_ALL);
	ck_assert_int_eq(A.a[0].reason, SUP_KILL_MIXED_REST);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 0);
}
END_TEST

START_TEST(test_kill_mode_process)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.kill_mode = SUP_KILL_PROCESS;
	setup_policy(&p);
	start_running();
	ev_sig(SIGTERM);
	ck_assert_int_eq(A.a[1].type, SUP_ACT_SIGNAL_MAIN);
	ck_assert_int_eq(ev_exit(0, true), SUP_STOPPING);
	ck_assert_uint_eq(A.n, 0);
	ck_assert_int_eq(at_deadline(), SUP_KILLING);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_KILL_ALL);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 137);
}
END_TEST

START_TEST(test_stop_during_backoff)
{
	setup_default();
	start_running();
	ev_exit(1, false);
	ck_assert_int_eq(S.state, SUP_BACKOFF);
	/* Served at once, no further start. */
	T += 10;
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_EXITED);
	ck_assert_int_eq(find(SUP_ACT_SPAWN), -1);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 0);
	ck_assert_uint_eq(supervise_deadline(&S), SUPERVISE_NO_DEADLINE);
	ck_assert_int_eq(ev(SUP_EV_DEADLINE), SUP_EXITED);
	ck_assert_uint_eq(A.n, 0);
}
END_TEST

START_TEST(test_stop_idle_and_starting)
{
	setup_default();
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_EXITED);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 0);

	setup_default();
	ev(SUP_EV_START);
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STARTING);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_STOPPING);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_SIGNAL_ALL);

	setup_default();
	ev(SUP_EV_START);
	ev_sig(SIGINT);
	ck_assert_int_eq(ev(SUP_EV_SPAWN_FAILED), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 0);
}
END_TEST

START_TEST(test_leftover_kill_policy)
{
	setup_default();
	start_running();
	T += 20000;
	ck_assert_int_eq(ev_exit(0, true), SUP_LEFTOVER);
	ck_assert_int_ge(find(SUP_ACT_LOG_LEFTOVER), 0);
	int i = find(SUP_ACT_SIGNAL_ALL);
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(A.a[i].sig, SIGTERM);
	ck_assert_uint_eq(supervise_deadline(&S), T + 15000);
	T += 100;
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_BACKOFF);
	ck_assert_uint_eq(A.a[find(SUP_ACT_LOG_RESTART)].ms, 100);

	/* Leftovers ignoring the signal are SIGKILLed at the deadline. */
	at_deadline();
	ev(SUP_EV_SPAWNED);
	ev_exit(0, true);
	ck_assert_int_eq(at_deadline(), SUP_LEFTOVER);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_KILL_ALL);
	ck_assert_int_eq(A.a[0].reason, SUP_KILL_LEFTOVER);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_BACKOFF);

	/* Unkillable leftovers: reported, and the worker restarts anyway. */
	at_deadline();
	ev(SUP_EV_SPAWNED);
	ev_exit(0, true);
	at_deadline();
	ck_assert_int_eq(at_deadline(), SUP_BACKOFF);
	ck_assert_int_ge(find(SUP_ACT_LOG_STUCK), 0);
}
END_TEST

START_TEST(test_leftover_stop_keeps_deadline)
{
	setup_default();
	start_running();
	T = 2000;
	ev_exit(0, true);
	uint64_t dl = supervise_deadline(&S);
	T = 3000;
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_uint_eq(supervise_deadline(&S), dl);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 0);

	setup_default();
	start_running();
	ev_exit(0, true);
	at_deadline(); /* leftover SIGKILL */
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_KILLING);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
}
END_TEST

START_TEST(test_leftover_restart_policy)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.leftover = SUP_LEFTOVER_RESTART;
	setup_policy(&p);
	start_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_BACKOFF);
	ck_assert_int_ge(find(SUP_ACT_LOG_LEFTOVER), 0);
	ck_assert_int_ge(find(SUP_ACT_LOG_RESTART), 0);
	ck_assert_int_eq(find(SUP_ACT_SIGNAL_ALL), -1);
	/* Stop during the backoff with the leftovers still running. */
	ck_assert_int_eq(ev_sig(SIGTERM), SUP_STOPPING);
	ck_assert_int_ge(find(SUP_ACT_SIGNAL_ALL), 0);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 0);
}
END_TEST

START_TEST(test_crash_budget)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.max_restarts = 3;
	p.restart_window_ms = 60000;
	setup_policy(&p);
	start_running();
	for (int i = 0; i < 3; i++) {
		T += 10;
		ck_assert_int_eq(ev_exit(1, false), SUP_BACKOFF);
		at_deadline();
		ev(SUP_EV_SPAWNED);
	}
	T += 10;
	ck_assert_int_eq(ev_exit(139, false), SUP_EXITED);
	ck_assert_int_ge(find(SUP_ACT_LOG_GIVE_UP), 0);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 139);
	ck_assert_uint_eq(S.starts, 4);
}
END_TEST

START_TEST(test_crash_budget_window)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.max_restarts = 2;
	p.restart_window_ms = 1000;
	p.restart_reset_ms = 100000;
	p.restart_max_ms = 100; /* constant 100 ms delay */
	setup_policy(&p);
	start_running();
	/* Deaths 600 ms apart: never 2 restarts within 1 s... */
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(ev_exit(1, false), SUP_BACKOFF);
		at_deadline();
		ev(SUP_EV_SPAWNED);
		T += 500;
	}
	/* ...then three quick ones spend it. */
	setup_policy(&p);
	start_running();
	ev_exit(1, false);
	at_deadline();
	ev(SUP_EV_SPAWNED);
	ev_exit(1, false);
	at_deadline();
	ev(SUP_EV_SPAWNED);
	ck_assert_int_eq(ev_exit(2, false), SUP_EXITED);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 2);
}
END_TEST

START_TEST(test_crash_budget_zero_and_leftovers)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.max_restarts = 0;
	p.leftover = SUP_LEFTOVER_RESTART;
	setup_policy(&p);
	start_running();
	/* No restart at all; leftovers are stopped before berth exits. */
	ck_assert_int_eq(ev_exit(3, true), SUP_STOPPING);
	ck_assert_int_ge(find(SUP_ACT_LOG_GIVE_UP), 0);
	ck_assert_int_ge(find(SUP_ACT_SIGNAL_ALL), 0);
	ck_assert_int_eq(at_deadline(), SUP_KILLING);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_EXITED);
	ck_assert_int_eq(A.a[0].code, 3); /* the worker's status, not 137 */
}
END_TEST

START_TEST(test_spawn_failed)
{
	struct supervise_policy p;

	supervise_policy_default(&p);
	p.max_restarts = 1;
	setup_policy(&p);
	ev(SUP_EV_START);
	ck_assert_int_eq(ev(SUP_EV_SPAWN_FAILED), SUP_BACKOFF);
	ck_assert_int_eq(at_deadline(), SUP_STARTING);
	ck_assert_int_eq(ev(SUP_EV_SPAWN_FAILED), SUP_EXITED);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 125);
}
END_TEST

START_TEST(test_relay)
{
	struct supervise_policy p;
	static const int relayed[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGQUIT};

	setup_default();
	start_running();
	for (size_t i = 0; i < sizeof(relayed) / sizeof(relayed[0]); i++) {
		ck_assert_int_eq(ev_sig(relayed[i]), SUP_RUNNING);
		ck_assert_uint_eq(A.n, 1);
		ck_assert_int_eq(A.a[0].type, SUP_ACT_SIGNAL_GROUP);
		ck_assert_int_eq(A.a[0].sig, relayed[i]);
	}
	/* Not relayed, not stopping: ignored. */
	ck_assert_int_eq(ev_sig(SIGALRM), SUP_RUNNING);
	ck_assert_uint_eq(A.n, 0);
	/* Nobody to relay to during the backoff. */
	ev_exit(0, false);
	ck_assert_int_eq(ev_sig(SIGUSR1), SUP_BACKOFF);
	ck_assert_int_eq(A.a[0].type, SUP_ACT_LOG_DROPPED);

	/* SIGQUIT as a stop signal. */
	supervise_policy_default(&p);
	p.quit_stops = true;
	setup_policy(&p);
	start_running();
	ck_assert_int_eq(ev_sig(SIGQUIT), SUP_STOPPING);
}
END_TEST

START_TEST(test_names)
{
	enum supervise_kill_mode m;
	enum supervise_leftover l;

	ck_assert_int_eq(supervise_kill_mode_parse("mixed", &m), 0);
	ck_assert_int_eq(m, SUP_KILL_MIXED);
	ck_assert_int_eq(supervise_kill_mode_parse("control-group", &m), 0);
	ck_assert_int_eq(m, SUP_KILL_CONTROL_GROUP);
	ck_assert_int_eq(supervise_kill_mode_parse("none", &m), -EINVAL);
	ck_assert_str_eq(supervise_kill_mode_name(SUP_KILL_PROCESS), "process");
	ck_assert_int_eq(supervise_leftover_parse("restart", &l), 0);
	ck_assert_int_eq(l, SUP_LEFTOVER_RESTART);
	ck_assert_int_eq(supervise_leftover_parse("x", &l), -EINVAL);
	ck_assert_str_eq(supervise_leftover_name(SUP_LEFTOVER_KILL), "kill");
	ck_assert_str_eq(supervise_state_name(SUP_KILLING), "killing");
}
END_TEST

START_TEST(test_run_describe)
{
	struct run_opts o;

	run_opts_init(&o);
	ck_assert_int_eq(o.stdin_fd, -1);
	o.start = "python worker.py";
	json_t *j = run_describe(&o);
	ck_assert_ptr_nonnull(j);
	json_t *argv = json_object_get(j, "argv");
	ck_assert_uint_eq(json_array_size(argv), 3);
	ck_assert_str_eq(json_string_value(json_array_get(argv, 0)), "/bin/sh");
	ck_assert_str_eq(json_string_value(json_array_get(argv, 1)), "-c");
	const char *script = json_string_value(json_array_get(argv, 2));
	ck_assert_ptr_nonnull(strstr(script, ". ./.environment"));
	/* a plain command: exec'd by the shell when the shell runs */
	ck_assert_ptr_nonnull(strstr(script, "\nexec python worker.py"));
	json_t *stop = json_object_get(j, "stop");
	ck_assert_str_eq(json_string_value(json_object_get(stop, "signal")), "TERM");
	ck_assert_int_eq(json_integer_value(json_object_get(stop, "timeout_ms")), 15000);
	ck_assert_str_eq(json_string_value(json_object_get(stop, "kill_mode")), "control-group");
	json_t *restart = json_object_get(j, "restart");
	ck_assert_int_eq(json_integer_value(json_object_get(restart, "min_ms")), 100);
	ck_assert(json_is_null(json_object_get(restart, "budget")));
	json_decref(j);
}
END_TEST

START_TEST(test_signals)
{
	int sig;
	char buf[16];

	ck_assert_int_eq(signals_parse("TERM", &sig), 0);
	ck_assert_int_eq(sig, SIGTERM);
	ck_assert_int_eq(signals_parse("SIGTERM", &sig), 0);
	ck_assert_int_eq(sig, SIGTERM);
	ck_assert_int_eq(signals_parse("sigint", &sig), 0);
	ck_assert_int_eq(sig, SIGINT);
	ck_assert_int_eq(signals_parse("15", &sig), 0);
	ck_assert_int_eq(sig, 15);
	ck_assert_int_eq(signals_parse("WINCH", &sig), 0);
	ck_assert_int_eq(sig, SIGWINCH);
	ck_assert_int_eq(signals_parse("RTMIN+2", &sig), 0);
	ck_assert_int_eq(sig, SIGRTMIN + 2);
	ck_assert_int_eq(signals_parse("SIGRTMAX", &sig), 0);
	ck_assert_int_eq(sig, SIGRTMAX);
	static const char *const bad[] = {"",	"0",	   "65",      "999", "TERMX", "SIG",
					  "-1", "RTMIN-1", "RTMAX+1", " 15", "1e1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(signals_parse(bad[i], &sig), -EINVAL);
	ck_assert_str_eq(signals_name(SIGUSR1), "USR1");
	ck_assert_ptr_null(signals_name(0));
	ck_assert_str_eq(signals_fullname(SIGKILL, buf, sizeof(buf)), "SIGKILL");
	/* Every name parses back to its number. */
	for (int s = 1; s < NSIG; s++) {
		const char *n = signals_name(s);
		if (!n)
			continue;
		ck_assert_int_eq(signals_parse(n, &sig), 0);
		ck_assert_int_eq(sig, s);
	}
}
END_TEST

/* An OOM kill anywhere in the worker ends the whole worker (SIGKILL to the
 * cgroup, as memory.oom.group does on v2), quietly: no leftover report, no
 * stop signal; the restart waits for the cgroup to empty. */
START_TEST(test_oom_kills_worker)
{
	int k;

	setup_default();
	start_running();
	T += 50;
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_RUNNING);
	ck_assert_int_eq(find(SUP_ACT_LOG_OOM), 0);
	k = find(SUP_ACT_KILL_ALL);
	ck_assert_int_eq(k, 1);
	ck_assert_int_eq(A.a[k].reason, SUP_KILL_OOM);
	/* The rest of the same episode: counted, not reported or killed again. */
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_RUNNING);
	ck_assert_uint_eq(A.n, 0);
	ck_assert_int_eq(ev_exit(128 + SIGKILL, true), SUP_LEFTOVER);
	ck_assert_int_eq(find(SUP_ACT_LOG_LEFTOVER), -1);
	ck_assert_int_eq(find(SUP_ACT_SIGNAL_ALL), -1);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_BACKOFF);
	ck_assert_int_ge(find(SUP_ACT_LOG_RESTART), 0);
	ck_assert_int_eq(at_deadline(), SUP_STARTING);
	ck_assert_int_eq(ev(SUP_EV_SPAWNED), SUP_RUNNING);
	/* A new run: a new OOM is reported again. */
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_RUNNING);
	ck_assert_int_eq(find(SUP_ACT_LOG_OOM), 0);
	ck_assert_int_ge(find(SUP_ACT_KILL_ALL), 0);
}
END_TEST

/* Giving up after an OOM-killed run exits BERTH_EXIT_OOM, not 137. */
START_TEST(test_oom_budget)
{
	struct supervise_policy p;
	int g;

	supervise_policy_default(&p);
	p.max_restarts = 0;
	setup_policy(&p);
	start_running();
	ev(SUP_EV_OOM);
	ck_assert_int_eq(ev_exit(128 + SIGKILL, false), SUP_EXITED);
	g = find(SUP_ACT_LOG_GIVE_UP);
	ck_assert_int_ge(g, 0);
	ck_assert(A.a[g].oom);
	ck_assert_int_eq(A.a[g].code, BERTH_EXIT_OOM);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, BERTH_EXIT_OOM);

	/* Without an OOM kill the last status passes through. */
	setup_policy(&p);
	start_running();
	ck_assert_int_eq(ev_exit(128 + SIGKILL, false), SUP_EXITED);
	ck_assert_int_eq(A.a[find(SUP_ACT_EXIT)].code, 137);

	/* An OOM kill in leftovers (main gone): they are killed at once. */
	p.max_restarts = SUPERVISE_UNLIMITED;
	setup_policy(&p);
	start_running();
	ck_assert_int_eq(ev_exit(0, true), SUP_LEFTOVER);
	T += 10;
	ck_assert_int_eq(ev(SUP_EV_OOM), SUP_LEFTOVER);
	ck_assert_int_ge(find(SUP_ACT_KILL_ALL), 0);
	ck_assert_uint_eq(supervise_deadline(&S), T + p.kill_grace_ms);
	ck_assert_int_eq(ev(SUP_EV_EMPTY), SUP_BACKOFF);
}
END_TEST

static Suite *supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("machine");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_backoff_table);
	tcase_add_test(tc, test_idle_running_has_no_deadline);
	tcase_add_test(tc, test_restart_growth_and_reset);
	tcase_add_test(tc, test_backoff_cap);
	tcase_add_test(tc, test_stop_prompt_exit);
	tcase_add_test(tc, test_stop_waits_for_cgroup);
	tcase_add_test(tc, test_stop_empty_before_reap);
	tcase_add_test(tc, test_stop_deadline_kill);
	tcase_add_test(tc, test_kill_stuck);
	tcase_add_test(tc, test_kill_mode_mixed);
	tcase_add_test(tc, test_kill_mode_process);
	tcase_add_test(tc, test_stop_during_backoff);
	tcase_add_test(tc, test_stop_idle_and_starting);
	tcase_add_test(tc, test_leftover_kill_policy);
	tcase_add_test(tc, test_leftover_stop_keeps_deadline);
	tcase_add_test(tc, test_leftover_restart_policy);
	tcase_add_test(tc, test_crash_budget);
	tcase_add_test(tc, test_crash_budget_window);
	tcase_add_test(tc, test_crash_budget_zero_and_leftovers);
	tcase_add_test(tc, test_spawn_failed);
	tcase_add_test(tc, test_oom_kills_worker);
	tcase_add_test(tc, test_oom_budget);
	tcase_add_test(tc, test_relay);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_run_describe);
	suite_add_tcase(s, tc);
	tc = tcase_create("signals");
	tcase_add_test(tc, test_signals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(supervise_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
