/* SPDX-License-Identifier: MIT */
/*
 * berth: run one worker of a Platform.sh-style app in its own box.
 * main() parses the global options, sets up logging and runs the command;
 * it is the only place that exits.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "exitcodes.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct cli_global g;
	const struct cli_command *cmd;
	int argi, status, err = 0;

	status = cli_parse_global(argc, argv, &g, &cmd, &argi);
	if (status == CMD_CONTINUE) {
		log_setup(g.log_format, g.log_level, NULL);
		log_journal(getenv("JOURNAL_STREAM"));
		status = cmd->run(&g, argc - argi, argv + argi);
	}
	/* Flushed only when something is buffered: a flush of an unused
	 * stream writes its lock, the first write to that page of libc's
	 * data, a page fault in a stopping berth's exit.  stderr is
	 * unbuffered. */
	if (__fpending(stdout) && fflush(stdout) != 0)
		err = errno;
	/* a write that failed earlier (a full disk,
	 * /dev/full) left only the stream's error flag */
	if ((err || ferror_unlocked(stdout)) && status == 0) {
		log_error("standard output: %s", err ? strerror(err) : "a write failed");
		status = BERTH_EXIT_FAILURE;
	}
#if defined(__SANITIZE_ADDRESS__)
	return status; /* let LeakSanitizer run at exit */
#else
	/* Everything is released and flushed: skip the libraries' exit-time
	 * destructors, which cost a stopping berth a noticeable part of its
	 * exit (bench/README). */
	_exit(status);
#endif
}
