/* SPDX-License-Identifier: MIT */
/*
 * What a long-lived process gives back after its setup (memtrim.h).  A
 * user lookup through NSS dlopen()s its modules (libnss_systemd and its
 * libraries: about 400 KiB resident), used once; their read-only pages
 * are file pages that madvise(MADV_DONTNEED) only unmaps from this
 * process, so dropping them changes nothing a later call would see.
 */
#include "config.h"

#include <link.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memtrim.h"
#include "util.h"

struct walk {
	size_t index; /* of the object being visited */
	size_t keep;  /* the objects before this one are left alone */
	uintptr_t page;
};

static int count_one(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)info;
	(void)size;
	++*(size_t *)data;
	return 0;
}

size_t memtrim_objects(void)
{
	size_t n = 0;

	dl_iterate_phdr(count_one, &n);
	return n;
}

/* Text relocations write to read-only segments at load time: those pages
 * are private copies, which MADV_DONTNEED would throw away. */
static bool has_textrel(const struct dl_phdr_info *info)
{
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
			continue;
		for (const ElfW(Dyn) *d =
			     (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		     d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_TEXTREL ||
			    (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_TEXTREL)))
				return true;
	}
	return false;
}

/* Whole pages of a read-only loaded segment only: a page shared with a
 * neighbour, or inside the RELRO range, is kept.  Returns false when
 * nothing is to be dropped. */
static bool segment_pages(const struct dl_phdr_info *info, const ElfW(Phdr) * ph,
			  const ElfW(Phdr) * relro, uintptr_t page, uintptr_t range[2])
{
	uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;

	if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
		return false;
	if (relro && start < info->dlpi_addr + relro->p_vaddr + relro->p_memsz &&
	    info->dlpi_addr + relro->p_vaddr < end)
		return false;
	range[0] = (start + page - 1) & ~(page - 1);
	range[1] = end & ~(page - 1);
	return range[0] < range[1];
}

/* The ranges are gathered first: the program headers read here lie in
 * the object's first segment, which a read after its madvise() would
 * fault back (with its neighbours: the kernel maps around a fault). */
static int drop_one(struct dl_phdr_info *info, size_t size, void *data)
{
	struct walk *w = data;
	const ElfW(Phdr) *relro = NULL;
	uintptr_t ranges[8][2];
	size_t n = 0;

	(void)size;
	if (w->index++ < w->keep || has_textrel(info))
		return 0;
	for (size_t i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO)
			relro = &info->dlpi_phdr[i];
	for (size_t i = 0; i < info->dlpi_phnum && n < ARRAY_SIZE(ranges); i++)
		if (segment_pages(info, &info->dlpi_phdr[i], relro, w->page, ranges[n]))
			n++;
	for (size_t i = 0; i < n; i++) /* best effort */
		madvise((void *)ranges[i][0], ranges[i][1] - ranges[i][0], MADV_DONTNEED);
	return 0;
}

void memtrim_release(size_t keep)
{
	struct walk w = {.keep = keep, .page = (uintptr_t)sysconf(_SC_PAGESIZE)};

	malloc_trim(0);
	dl_iterate_phdr(drop_one, &w);
}
