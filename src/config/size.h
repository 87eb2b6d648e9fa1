/* SPDX-License-Identifier: MIT */
/*
 * Platform.sh container sizes and the CPU/memory they stand for
 * (Platform.sh's documented table): HIGH_CPU for app and worker containers of
 * most runtimes, HIGH_MEMORY for `java:`.  Pure table code.
 */
#ifndef BERTH_SIZE_H
#define BERTH_SIZE_H

#include <stdbool.h>
#include <stdint.h>

enum size_name { SIZE_AUTO, SIZE_S, SIZE_M, SIZE_L, SIZE_XL, SIZE_2XL, SIZE_4XL, SIZE_COUNT };
enum size_profile { PROFILE_HIGH_CPU, PROFILE_BALANCED, PROFILE_HIGH_MEMORY };

struct size_limits {
	uint32_t cpu_milli;  /* CPU in thousandths (400 = 0.40 CPU); 0 = no limit */
	uint64_t memory_mib; /* memory in MiB; 0 = no limit */
};

/* Case-insensitive: "auto", "S", "2xl".  Returns 0 or -EINVAL. */
int size_parse(const char *s, enum size_name *out);
const char *size_to_string(enum size_name s);
const char *size_profile_to_string(enum size_profile p);
/* The profile of an app or worker container for a runtime type ("java:21"). */
enum size_profile size_profile_for_type(const char *type);
/* The table's value; AUTO gives {0, 0} (no limit). */
struct size_limits size_lookup(enum size_name s, enum size_profile p);

#endif
