/* SPDX-License-Identifier: MIT */
/*
 * Shared between storage.c and storage-image.c: the disk image made,
 * allocated and resized.  Each returns 0 or -errno and logs why.
 */
#ifndef BERTH_STORAGE_INTERNAL_H
#define BERTH_STORAGE_INTERNAL_H

#include <stdint.h>

#include "mountplan.h"
#include "storage.h"

/* mkfs.ext4 on the image (fd), owned by o's uid:gid, fully written. */
int storage_mkfs_image(const struct storage_opts *o, int imgfd);

/* Every block of the image's `size` bytes allocated (grown to size);
 * refused, naming the space asked and available, when the storage root
 * cannot hold it, or cannot fallocate. */
int storage_allocate_image(const struct mountplan *p, int img, uint64_t size);

/* e2fsck, then the image grown (allocated first) or shrunk to want. */
int storage_resize_image(const struct mountplan *p, const struct storage_opts *o, int imgfd,
			 uint64_t have, uint64_t want);

#endif
