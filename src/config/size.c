/* SPDX-License-Identifier: MIT */
/* The size table: CPU and memory for each size and resource profile, as
 * Platform.sh publishes them for app containers (doc/cgroups.md). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "size.h"
#include "util.h"

static const char *const size_names[SIZE_COUNT] = {
	[SIZE_AUTO] = "AUTO", [SIZE_S] = "S",	  [SIZE_M] = "M",     [SIZE_L] = "L",
	[SIZE_XL] = "XL",     [SIZE_2XL] = "2XL", [SIZE_4XL] = "4XL",
};

/* [profile][size] = {cpu in milli-CPU, memory in MiB}; AUTO row is empty. */
static const struct size_limits size_table[3][SIZE_COUNT] = {
	[PROFILE_HIGH_CPU] =
		{
			[SIZE_S] = {400, 128},
			[SIZE_M] = {400, 128},
			[SIZE_L] = {1200, 256},
			[SIZE_XL] = {2500, 384},
			[SIZE_2XL] = {5000, 768},
			[SIZE_4XL] = {10000, 1536},
		},
	[PROFILE_BALANCED] =
		{
			[SIZE_S] = {50, 32},
			[SIZE_M] = {50, 64},
			[SIZE_L] = {80, 256},
			[SIZE_XL] = {100, 512},
			[SIZE_2XL] = {200, 1024},
			[SIZE_4XL] = {400, 2048},
		},
	[PROFILE_HIGH_MEMORY] =
		{
			[SIZE_S] = {250, 128},
			[SIZE_M] = {250, 288},
			[SIZE_L] = {400, 1280},
			[SIZE_XL] = {750, 2624},
			[SIZE_2XL] = {1500, 5248},
			[SIZE_4XL] = {3000, 10496},
		},
};

int size_parse(const char *s, enum size_name *out)
{
	for (int i = 0; i < SIZE_COUNT; i++) {
		if (strcasecmp(s, size_names[i]) == 0) {
			*out = (enum size_name)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *size_to_string(enum size_name s)
{
	return (unsigned)s < SIZE_COUNT ? size_names[s] : "?";
}

const char *size_profile_to_string(enum size_profile p)
{
	switch (p) {
	case PROFILE_HIGH_CPU:
		return "HIGH_CPU";
	case PROFILE_BALANCED:
		return "BALANCED";
	case PROFILE_HIGH_MEMORY:
		return "HIGH_MEMORY";
	}
	return "?";
}

enum size_profile size_profile_for_type(const char *type)
{
	if (type && (strcmp(type, "java") == 0 || str_has_prefix(type, "java:")))
		return PROFILE_HIGH_MEMORY;
	return PROFILE_HIGH_CPU;
}

struct size_limits size_lookup(enum size_name s, enum size_profile p)
{
	if ((unsigned)s >= SIZE_COUNT || (unsigned)p > PROFILE_HIGH_MEMORY)
		return (struct size_limits){0, 0};
	return size_table[p][s];
}
