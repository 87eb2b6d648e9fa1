/* SPDX-License-Identifier: MIT */
/* size -> cgroup values (see limits.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sizelimit.h"

void sizelimit_for_worker(const struct worker *w, const struct sizelimit_overrides *o,
			  struct cgroup_limits *out)
{
	struct size_limits sl = w->limits;

	memset(out, 0, sizeof(*out));
	if (w->size == SIZE_AUTO && o->have_auto_size)
		sl = size_lookup(o->auto_size, w->profile);
	out->memory_bytes = o->memory_bytes ? o->memory_bytes : sl.memory_mib << 20;
	if (o->cpu_milli)
		sl.cpu_milli = o->cpu_milli;
	out->cpu_period_us = SIZELIMIT_CPU_PERIOD_US;
	out->cpu_quota_us = (uint64_t)sl.cpu_milli * (SIZELIMIT_CPU_PERIOD_US / 1000);
	if (!out->cpu_quota_us)
		out->cpu_period_us = 0;
	out->pids_max = o->no_pids_max ? 0 : o->pids_max ? o->pids_max : SIZELIMIT_DEFAULT_PIDS_MAX;
	out->allow_missing = o->allow_missing;
}

int sizelimit_parse_cpus(const char *s, uint32_t *milli)
{
	uint64_t whole = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	if (!*p || *p == '.')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 1024)
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++digits > 3)
				return -EINVAL; /* below a thousandth of a CPU */
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		if (!digits)
			return -EINVAL;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	whole = whole * 1000 + frac;
	if (whole == 0 || whole > 1024 * 1000)
		return -EINVAL;
	*milli = (uint32_t)whole;
	return 0;
}

static json_t *num_or_max(uint64_t v)
{
	return v ? json_integer((json_int_t)v) : json_string("max");
}

json_t *sizelimit_describe(const struct cgroup_limits *l)
{
	json_t *v2 = json_object(), *v1 = json_object();
	char cpu[64];

	json_object_set_new(v2, "memory.max", num_or_max(l->memory_bytes));
	json_object_set_new(v2, "memory.swap.max",
			    l->memory_bytes ? json_integer(0) : json_string("max"));
	json_object_set_new(v2, "memory.oom.group", json_integer(l->memory_bytes ? 1 : 0));
	if (l->cpu_quota_us)
		snprintf(cpu, sizeof(cpu), "%llu %llu", (unsigned long long)l->cpu_quota_us,
			 (unsigned long long)(l->cpu_period_us ? l->cpu_period_us
							       : SIZELIMIT_CPU_PERIOD_US));
	else
		snprintf(cpu, sizeof(cpu), "max %d", SIZELIMIT_CPU_PERIOD_US);
	json_object_set_new(v2, "cpu.max", json_string(cpu));
	json_object_set_new(v2, "pids.max", num_or_max(l->pids_max));

	json_object_set_new(v1, "memory.limit_in_bytes",
			    l->memory_bytes ? json_integer((json_int_t)l->memory_bytes)
					    : json_integer(-1));
	json_object_set_new(v1, "memory.memsw.limit_in_bytes",
			    l->memory_bytes ? json_integer((json_int_t)l->memory_bytes)
					    : json_integer(-1));
	json_object_set_new(v1, "cpu.cfs_quota_us",
			    l->cpu_quota_us ? json_integer((json_int_t)l->cpu_quota_us)
					    : json_integer(-1));
	json_object_set_new(v1, "cpu.cfs_period_us", json_integer(SIZELIMIT_CPU_PERIOD_US));
	json_object_set_new(v1, "pids.max", num_or_max(l->pids_max));
	return json_pack("{s:o, s:o, s:b}", "v2", v2, "v1", v1, "allow_missing_controllers",
			 l->allow_missing);
}
