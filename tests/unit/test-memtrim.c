/* SPDX-License-Identifier: MIT */
/*
 * memtrim_release() on this process's real mappings: the code pages of a
 * library dlopen()ed after the mark leave the resident set and come back
 * on the next call, which still works; the heap's free pages go back to
 * the kernel.
 */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtrim.h"

/* zlib: on every Debian system (priority required), and not linked into
 * this test, so dlopen() maps it anew. */
#define LIB "libz.so.1"

/* Is line a mapping's header of smaps or maps ("start-end perms ...")?
 * Its perms in p. */
static bool header(const char *line, char p[8])
{
	return line[strspn(line, "0123456789abcdef")] == '-' && sscanf(line, "%*x-%*x %7s", p) == 1;
}

/* KiB resident in this process's mappings whose perms are perm and whose
 * path contains name (a "[heap]" too). */
static long rss_kib(const char *name, const char *perm)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512], p[8];
	bool in = false;
	long kib, sum = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (header(line, p))
			in = strcmp(p, perm) == 0 && strstr(line, name);
		else if (in && sscanf(line, "Rss: %ld kB", &kib) == 1)
			sum += kib;
	}
	fclose(f);
	return sum;
}

/* Read a byte of every page of those mappings: all of them resident. */
static void touch(const char *name, const char *perm)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], p[8];
	uintptr_t a, b;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (header(line, p) && strcmp(p, perm) == 0 && strstr(line, name) &&
		    sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &a, &b) == 2)
			for (; a < b; a += 4096)
				(void)*(volatile const char *)a;
	fclose(f);
}

START_TEST(test_library_code)
{
	size_t before = memtrim_objects();
	void *h = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);
	unsigned long (*crc)(unsigned long, const unsigned char *, unsigned);

	ck_assert_msg(h, "dlopen %s: %s", LIB, dlerror());
	ck_assert_uint_gt(memtrim_objects(), before);
	*(void **)&crc = dlsym(h, "crc32");
	ck_assert_ptr_nonnull(crc);
	ck_assert_uint_eq(crc(0, (const unsigned char *)"abc", 3), 0x352441c2UL);
	touch("libz", "r-xp");
	ck_assert_int_gt(rss_kib("libz", "r-xp"), 16);

	memtrim_release(before);
	/* a partial page at the segment's end may stay */
	ck_assert_int_le(rss_kib("libz", "r-xp"), 4);
	ck_assert_uint_eq(crc(0, (const unsigned char *)"abc", 3), 0x352441c2UL);
	ck_assert_int_gt(rss_kib("libz", "r-xp"), 0);
	dlclose(h);
}
END_TEST

START_TEST(test_earlier_objects_kept)
{
	/* loaded before the mark: left alone */
	void *h = dlopen(LIB, RTLD_NOW | RTLD_LOCAL);

	ck_assert_msg(h, "dlopen %s: %s", LIB, dlerror());
	touch("libz", "r-xp");
	long used = rss_kib("libz", "r-xp");
	ck_assert_int_gt(used, 16);
	memtrim_release(memtrim_objects());
	ck_assert_int_eq(rss_kib("libz", "r-xp"), used);
	dlclose(h);
}
END_TEST

START_TEST(test_heap)
{
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's allocator is not malloc's heap */
#else
	enum { N = 2048 };
	static void *blocks[N];

	for (size_t i = 0; i < N; i++) {
		blocks[i] = malloc(1000);
		memset(blocks[i], 1, 1000);
	}
	for (size_t i = 0; i < N - 1; i++) /* the last one holds the top */
		free(blocks[i]);
	long used = rss_kib("[heap]", "rw-p");
	ck_assert_int_gt(used, 1500);
	memtrim_release(SIZE_MAX);
	ck_assert_int_lt(rss_kib("[heap]", "rw-p"), used - 1024);
	free(blocks[N - 1]);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memtrim");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_library_code);
	tcase_add_test(tc, test_earlier_objects_kept);
	tcase_add_test(tc, test_heap);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
