/* SPDX-License-Identifier: MIT */
/*
 * Syscall probe for the filter tests (bubblewrap's try-syscall idea): makes
 * each requested call with arguments the kernel would reject (bad fds,
 * pointers, flags), so that an unfiltered run returns EBADF/EFAULT/EINVAL
 * and a filtered one the filter's errno.  Installs nothing itself.
 *
 *   seccomp-probe SPEC...   prints "SPEC ERRNO" per line (0 = success)
 *   SPEC: NAME=NR           syscall NR, every argument -1
 *         clone:FLAGS       clone(FLAGS | CLONE_SIGHAND) (EINVAL unfiltered)
 *         ioctl:REQ         ioctl(-1, REQ | 1 << 32, 1)
 *         socket:FAMILY     socket(FAMILY, -1, -1)
 *         x32 / i386        getpid through the x32 ABI / int 0x80 (killed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long probe(const char *spec)
{
	const char *eq = strchr(spec, '=');
	const char *colon = strchr(spec, ':');
	long r;

	errno = 0;
	if (eq) {
		long nr = strtol(eq + 1, NULL, 0);
		r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
	} else if (colon && strncmp(spec, "clone:", 6) == 0) {
		unsigned long flags = strtoul(colon + 1, NULL, 0);
		/* CLONE_SIGHAND without CLONE_VM: EINVAL before any other check */
		r = syscall(SYS_clone, flags | CLONE_SIGHAND, 0L, 0L, 0L, 0L);
		if (r == 0)
			_exit(0); /* cannot happen; never run two copies */
	} else if (colon && strncmp(spec, "ioctl:", 6) == 0) {
		unsigned long req = strtoul(colon + 1, NULL, 0);
		r = syscall(SYS_ioctl, -1L, req | (1UL << 32), 1L);
	} else if (colon && strncmp(spec, "socket:", 7) == 0) {
		r = syscall(SYS_socket, strtol(colon + 1, NULL, 0), -1L, -1L);
	} else if (strcmp(spec, "x32") == 0) {
#if defined(__x86_64__)
		r = syscall(SYS_getpid | 0x40000000L);
#else
		errno = ENOSYS;
		r = -1;
#endif
	} else if (strcmp(spec, "i386") == 0) {
#if defined(__x86_64__)
		long nr = 20; /* getpid in the i386 table */
		__asm__ volatile("int $0x80" : "+a"(nr) : : "memory");
		r = nr;
		if (r < 0) {
			errno = (int)-r;
			r = -1;
		}
#else
		errno = ENOSYS;
		r = -1;
#endif
	} else {
		fprintf(stderr, "seccomp-probe: bad spec %s\n", spec);
		exit(2);
	}
	return r < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	/* no controlling terminal: vhangup() and TIOC* cannot touch the caller's */
	setsid();
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 1; i < argc; i++)
		printf("%s %ld\n", argv[i], probe(argv[i]));
	return 0;
}
