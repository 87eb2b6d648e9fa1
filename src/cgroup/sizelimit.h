/* SPDX-License-Identifier: MIT */
/*
 * From a worker's `size` (and the operator's overrides) to the cgroup
 * values berth writes.  Pure.
 *
 * Units: the size table's memory figures (128, 288, 1280 ...) are read as
 * MiB, the generous reading of figures the docs leave unitless (their
 * binary look, 10496 = 10.25 GiB, says MiB); `disk` is MB (10^6 bytes), as
 * the docs define it.  CPU: quota = cpu x 100 ms per 100 ms period.
 */
#ifndef BERTH_SIZELIMIT_H
#define BERTH_SIZELIMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "cgroup.h"

#define SIZELIMIT_CPU_PERIOD_US	   100000
#define SIZELIMIT_DEFAULT_PIDS_MAX 4096

struct sizelimit_overrides {
	bool have_auto_size; /* --auto-size: what AUTO resolves to */
	enum size_name auto_size;
	uint64_t memory_bytes; /* --memory; 0 = from size */
	uint32_t cpu_milli;    /* --cpus x 1000; 0 = from size */
	uint64_t pids_max;     /* --pids-max; 0 = SIZELIMIT_DEFAULT_PIDS_MAX */
	bool no_pids_max;      /* --pids-max max */
	bool allow_missing;    /* --allow-missing-controllers */
};

/* The limits for w.  AUTO without --auto-size gives no memory or CPU limit
 * (a pids limit still applies). */
void sizelimit_for_worker(const struct worker *w, const struct sizelimit_overrides *o,
			  struct cgroup_limits *out);
/* "0.4" / "2" / "1.25" -> milli-CPU; 0.001 to 1024 CPUs.  0 or -EINVAL. */
int sizelimit_parse_cpus(const char *s, uint32_t *milli);
/* The values per hierarchy, as `berth show` prints them:
 * {"v2": {"memory.max": ..}, "v1": {"memory.limit_in_bytes": ..}}. */
json_t *sizelimit_describe(const struct cgroup_limits *l);

#endif
