/* SPDX-License-Identifier: MIT */
/*
 * Pod mode's check, the pure part (see podcheck.h): the waiver list, the
 * verdict and its one line, the parsers of /proc/self/status and of the
 * cgroup's limit files, the environment names a pod passes on.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env.h"
#include "podcheck.h"
#include "util.h"

static const char *const item_names[PODCHECK_COUNT] = {
	[PODCHECK_CAPS] = "caps",	[PODCHECK_NO_NEW_PRIVS] = "no_new_privs",
	[PODCHECK_SECCOMP] = "seccomp", [PODCHECK_ROOT] = "root",
	[PODCHECK_RO_ROOT] = "ro_root", [PODCHECK_MEMORY] = "memory",
	[PODCHECK_CPU] = "cpu",
};

const char *podcheck_name(enum podcheck_item i)
{
	return i < PODCHECK_COUNT ? item_names[i] : NULL;
}

int podcheck_parse_waive(const char *list, unsigned *mask, const char **bad, size_t *bad_len)
{
	const char *p = list;

	*mask = 0;
	while (p && *p) {
		size_t len = strcspn(p, ",");
		size_t i = 0;

		while (len && i < PODCHECK_COUNT &&
		       !(strlen(item_names[i]) == len && strncmp(item_names[i], p, len) == 0))
			i++;
		if (len && i == PODCHECK_COUNT) {
			*bad = p;
			*bad_len = len;
			return -EINVAL;
		}
		if (len)
			*mask |= 1U << i;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* 1G, 1280M, 4096k or bytes: the largest binary unit that divides b. */
static void put_bytes(struct strbuf *sb, uint64_t b)
{
	static const char units[] = "GMk";

	for (int i = 0; i < 3; i++) {
		uint64_t u = 1ULL << (10 * (3 - i));
		if (b >= u && b % u == 0) {
			strbuf_printf(sb, "%" PRIu64 "%c", b / u, units[i]);
			return;
		}
	}
	strbuf_printf(sb, "%" PRIu64, b);
}

/* quota/period CPUs, to the thousandth, without trailing zeros: 0.4, 2. */
static void put_cpus(struct strbuf *sb, uint64_t quota, uint64_t period)
{
	uint64_t milli = period ? quota * 1000 / period : 0;
	char frac[8];
	int n;

	if (milli % 1000 == 0) {
		strbuf_printf(sb, "%" PRIu64, milli / 1000);
		return;
	}
	n = snprintf(frac, sizeof(frac), "%03u", (unsigned)(milli % 1000));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	strbuf_printf(sb, "%" PRIu64 ".%s", milli / 1000, frac);
}

static void put_duration(struct strbuf *sb, uint64_t ms)
{
	if (ms % 1000 == 0)
		strbuf_printf(sb, "%" PRIu64 "s", ms / 1000);
	else
		strbuf_printf(sb, "%" PRIu64 "ms", ms);
}

/* 1 when the guarantee holds; else 0 and *why (what was seen) filled. */
static int holds_memory(const struct podcheck_seen *s, const struct cgroup_limits *w,
			struct strbuf *why)
{
	if (!w->memory_bytes)
		return 1; /* the size sets none (AUTO without a meaning) */
	if (!s->have_memory) {
		strbuf_puts(why, "its cgroup's limit cannot be read");
		return 0;
	}
	if (!s->memory_bytes) {
		strbuf_puts(why, "no limit, the size's is ");
		put_bytes(why, w->memory_bytes);
		return 0;
	}
	if (s->memory_bytes <= w->memory_bytes)
		return 1;
	put_bytes(why, s->memory_bytes);
	strbuf_puts(why, " above the size's ");
	put_bytes(why, w->memory_bytes);
	return 0;
}

static int holds_cpu(const struct podcheck_seen *s, const struct cgroup_limits *w,
		     struct strbuf *why)
{
	uint64_t wp = w->cpu_period_us ? w->cpu_period_us : 100000;

	if (!w->cpu_quota_us)
		return 1;
	if (!s->have_cpu) {
		strbuf_puts(why, "its cgroup's limit cannot be read");
		return 0;
	}
	if (!s->cpu_quota_us || !s->cpu_period_us) {
		strbuf_puts(why, "no limit, the size's is ");
		put_cpus(why, w->cpu_quota_us, wp);
		return 0;
	}
	/* quota/period <= wquota/wperiod, without division */
	if ((unsigned __int128)s->cpu_quota_us * wp <=
	    (unsigned __int128)w->cpu_quota_us * s->cpu_period_us)
		return 1;
	put_cpus(why, s->cpu_quota_us, s->cpu_period_us);
	strbuf_puts(why, " above the size's ");
	put_cpus(why, w->cpu_quota_us, wp);
	return 0;
}

/* Whether item i holds; *ok gets its text for the line, *why what was
 * seen when it does not. */
static int holds(enum podcheck_item i, const struct podcheck_seen *s, const struct cgroup_limits *w,
		 struct strbuf *ok, struct strbuf *why)
{
	switch (i) {
	case PODCHECK_CAPS:
		strbuf_puts(ok, "caps none");
		if (s->have_status && !s->cap_eff && !s->cap_prm && !s->cap_bnd)
			return 1;
		if (s->have_status)
			strbuf_printf(why,
				      "CapEff %016" PRIx64 " CapPrm %016" PRIx64
				      " CapBnd %016" PRIx64,
				      s->cap_eff, s->cap_prm, s->cap_bnd);
		return 0;
	case PODCHECK_NO_NEW_PRIVS:
		strbuf_puts(ok, "no_new_privs");
		if (s->have_status && s->no_new_privs == 1)
			return 1;
		strbuf_printf(why, "NoNewPrivs %d", s->have_status ? s->no_new_privs : -1);
		return 0;
	case PODCHECK_SECCOMP:
		strbuf_puts(ok, "seccomp");
		if (s->have_status && s->seccomp == 2)
			return 1;
		strbuf_printf(why, "Seccomp %d", s->have_status ? s->seccomp : -1);
		return 0;
	case PODCHECK_ROOT:
		if (s->have_status && s->uid[0] && s->uid[1] && s->uid[2]) {
			strbuf_printf(ok, "uid %u", (unsigned)s->uid[1]);
			return 1;
		}
		strbuf_puts(ok, "uid 0");
		if (s->have_status)
			strbuf_printf(why, "uid %u/%u/%u", (unsigned)s->uid[0], (unsigned)s->uid[1],
				      (unsigned)s->uid[2]);
		return 0;
	case PODCHECK_RO_ROOT:
		strbuf_puts(ok, "ro root");
		if (s->have_ro_root && s->ro_root)
			return 1;
		strbuf_puts(why, s->have_ro_root ? "/ is writable" : "/ cannot be inspected");
		return 0;
	case PODCHECK_MEMORY:
		strbuf_puts(ok, "memory ");
		if (s->have_memory && s->memory_bytes)
			put_bytes(ok, s->memory_bytes);
		else
			strbuf_puts(ok, s->have_memory ? "max" : "unknown");
		return holds_memory(s, w, why);
	case PODCHECK_CPU:
		strbuf_puts(ok, "cpu ");
		if (s->have_cpu && s->cpu_quota_us && s->cpu_period_us)
			put_cpus(ok, s->cpu_quota_us, s->cpu_period_us);
		else
			strbuf_puts(ok, s->have_cpu ? "max" : "unknown");
		return holds_cpu(s, w, why);
	default:
		return 0;
	}
}

int podcheck_verdict(const struct podcheck_seen *s, const struct cgroup_limits *want,
		     unsigned waive, uint64_t stop_ms, char **line)
{
	struct strbuf engine = {0}, missing = {0}, names_sb = {0};
	unsigned nmissing = 0;

	for (int i = 0; i < PODCHECK_COUNT; i++) {
		struct strbuf ok = {0}, why = {0};
		bool held = holds(i, s, want, &ok, &why);

		if (!held && !(waive & (1U << i))) {
			strbuf_printf(&missing, "%s%s%s%s%s", nmissing ? ", " : "", item_names[i],
				      why.len ? " (" : "", why.len ? why.buf : "",
				      why.len ? ")" : "");
			strbuf_printf(&names_sb, "%s%s", nmissing ? "," : "", item_names[i]);
			nmissing++;
		}
		strbuf_printf(&engine, "%s%s", i ? ", " : "", ok.buf);
		if (!held)
			strbuf_printf(&engine, " waived%s%s%s", why.len ? " (" : "",
				      why.len ? why.buf : "", why.len ? ")" : "");
		strbuf_release(&ok);
		strbuf_release(&why);
	}
	if (nmissing) {
		*line = xasprintf("pod mode: refusing to start: the engine does not provide %s; "
				  "set it in the pod's securityContext and resources, or waive "
				  "it with --pod-waive %s",
				  missing.buf, names_sb.buf);
	} else {
		struct strbuf sb = {0};

		strbuf_printf(&sb, "pod mode: engine: %s; berth: env, restart, stop ", engine.buf);
		put_duration(&sb, stop_ms);
		strbuf_puts(&sb, ", reap");
		*line = strbuf_detach(&sb);
	}
	strbuf_release(&engine);
	strbuf_release(&missing);
	strbuf_release(&names_sb);
	return nmissing ? -EPERM : 0;
}

/* The value of "Key:\t..." in a /proc status text, or NULL. */
static const char *status_field(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ':')
			return p + n + 1 + strspn(p + n + 1, " \t");
	return NULL;
}

static int status_hex(const char *text, const char *key, uint64_t *v)
{
	const char *f = status_field(text, key);
	char *end;

	if (!f)
		return -ENOENT;
	errno = 0;
	*v = strtoull(f, &end, 16);
	return errno || end == f || (*end && *end != '\n') ? -EINVAL : 0;
}

static int status_int(const char *text, const char *key, int *v)
{
	const char *f = status_field(text, key);
	char *end;
	long l;

	if (!f)
		return -ENOENT;
	l = strtol(f, &end, 10);
	if (end == f || (*end && *end != '\n') || l < 0 || l > 2)
		return -EINVAL;
	*v = (int)l;
	return 0;
}

int podcheck_parse_status(const char *text, struct podcheck_seen *s)
{
	const char *u = status_field(text, "Uid");
	unsigned long id[3];
	int r;

	s->have_status = false;
	if ((r = status_hex(text, "CapEff", &s->cap_eff)) < 0 ||
	    (r = status_hex(text, "CapPrm", &s->cap_prm)) < 0 ||
	    (r = status_hex(text, "CapBnd", &s->cap_bnd)) < 0)
		return r;
	/* Both appeared in 4.10 and 3.8: older kernels say neither (-1). */
	s->no_new_privs = -1;
	s->seccomp = -1;
	if ((r = status_int(text, "NoNewPrivs", &s->no_new_privs)) == -EINVAL ||
	    (r = status_int(text, "Seccomp", &s->seccomp)) == -EINVAL)
		return r;
	if (!u)
		return -ENOENT;
	if (sscanf(u, "%lu %lu %lu", &id[0], &id[1], &id[2]) != 3)
		return -EINVAL;
	for (int i = 0; i < 3; i++)
		s->uid[i] = (uid_t)id[i];
	s->have_status = true;
	return 0;
}

/* A whole-text decimal, one trailing newline allowed. */
static int parse_num(const char *text, uint64_t *v)
{
	size_t n = strcspn(text, "\n");
	char buf[32];

	if (n == 0 || n >= sizeof(buf) || text[n + (text[n] == '\n')])
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return parse_u64(buf, UINT64_MAX, v);
}

/* v1's "no limit": PAGE_COUNTER_MAX pages, 2^63 - 1 rounded down to a
 * page (9223372036854771712 with 4 KiB pages); anything at or above 2^62
 * is no limit a size could mean. */
#define V1_UNLIMITED (1ULL << 62)

int podcheck_parse_memory(const char *text, uint64_t *bytes)
{
	if (strcmp(text, "max") == 0 || strcmp(text, "max\n") == 0) {
		*bytes = 0;
		return 0;
	}
	if (parse_num(text, bytes) < 0)
		return -EINVAL;
	if (*bytes >= V1_UNLIMITED)
		*bytes = 0;
	return 0;
}

int podcheck_parse_cpu_max(const char *text, uint64_t *quota_us, uint64_t *period_us)
{
	size_t n = strcspn(text, " ");

	if (!text[n] || parse_num(text + n + 1, period_us) < 0 || *period_us == 0)
		return -EINVAL;
	if (n == 3 && strncmp(text, "max", 3) == 0) {
		*quota_us = 0;
		return 0;
	}
	_cleanup_free_ char *q = xstrndup(text, n);
	return parse_u64(q, UINT64_MAX, quota_us) < 0 ? -EINVAL : 0;
}

int podcheck_parse_cfs(const char *quota, const char *period, uint64_t *quota_us,
		       uint64_t *period_us)
{
	if (parse_num(period, period_us) < 0 || *period_us == 0)
		return -EINVAL;
	if (strcmp(quota, "-1") == 0 || strcmp(quota, "-1\n") == 0) {
		*quota_us = 0;
		return 0;
	}
	return parse_num(quota, quota_us) < 0 ? -EINVAL : 0;
}

/* The names a pod's environment does not pass on (podcheck.h). */
static const char *const env_prefixes[] = {"BERTH_", "KUBERNETES_"};
static const char *const env_names[] = {
	"HOSTNAME", "container", "TERM", "NOTIFY_SOCKET", "HOME",  "USER", "SHELL",
	"PATH",	    "LANG",	 "TZ",	 "PWD",		  "SHLVL",
};

static bool env_kept_back(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(env_prefixes); i++)
		if (n >= strlen(env_prefixes[i]) &&
		    strncmp(name, env_prefixes[i], strlen(env_prefixes[i])) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(env_names); i++)
		if (strlen(env_names[i]) == n && strncmp(name, env_names[i], n) == 0)
			return true;
	return false;
}

void podcheck_env_names(char *const *envv, char ***names, size_t *n)
{
	for (char *const *e = envv; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t len = eq ? (size_t)(eq - *e) : 0;
		_cleanup_free_ char *name = len ? xstrndup(*e, len) : NULL;

		if (!name || !env_name_ok(name) || env_kept_back(name, len))
			continue;
		*names = xrealloc(*names, (*n + 2) * sizeof(char *));
		(*names)[(*n)++] = TAKE_PTR(name);
		(*names)[*n] = NULL;
	}
}
