// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * `xlb batch [FILE]`: commands one per line, each `OBJECT COMMAND ARGS`
 * as after `xlb` on a command line, from FILE or standard input. For
 * scripts that make many changes (as `ip -batch` or `ipvsadm -R`): one
 * process, so a change costs its request to xlbd, not a process start as
 * well. Each line is a change of its own, in order; the first line that
 * fails stops the batch (the lines before it stay made) and is named as
 * FILE:LINE. A whole configuration at once is `xlb config apply`.
 *
 * Words are split as a shell would for plain words: blanks between them,
 * '...' literal, "..." with \" and \\, a backslash outside quotes taking
 * the next character; a # at the start of a word begins a comment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlb.h"

#define BATCH_MAX_WORDS 64

static const char batch_help[] =
	"Usage: xlb batch [FILE]\n"
	"       xlb batch help\n"
	"Runs FILE's lines (default or -: standard input), each\n"
	"OBJECT COMMAND [ARGS] as after `xlb`, in order, each a change of\n"
	"its own; # begins a comment. The first line that fails stops the\n"
	"batch (lines before it stay made) and is named as FILE:LINE.\n";

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Splits line in place into at most max words (argv[i] point into line).
 * The count, or -1 with *why set: an unclosed quote, too many words.
 */
static int batch_split(char *line, char **argv, int max, const char **why)
{
	char *r = line, *w = line;
	int n = 0;

	for (;;) {
		char quote = 0;

		while (blank(*r))
			r++;
		if (!*r || *r == '#')
			return n;
		if (n == max) {
			*why = "too many words";
			return -1;
		}
		argv[n++] = w;
		for (; *r; r++) {
			if (quote == '\'') {
				if (*r == '\'')
					quote = 0;
				else
					*w++ = *r;
			} else if (quote == '"') {
				if (*r == '"')
					quote = 0;
				else if (*r == '\\' &&
					 (r[1] == '"' || r[1] == '\\'))
					*w++ = *++r;
				else
					*w++ = *r;
			} else if (*r == '\'' || *r == '"') {
				quote = *r;
			} else if (*r == '\\' && r[1]) {
				*w++ = *++r;
			} else if (blank(*r)) {
				break;
			} else {
				*w++ = *r;
			}
		}
		if (quote) {
			*why = "unclosed quote";
			return -1;
		}
		/* The word ends here; r may be where w is about to write. */
		if (*r)
			r++;
		*w++ = '\0';
	}
}

/* Its help and -h are the object table's (main.c run_object). */
static int do_batch(int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "-", *why = NULL;
	char *line = NULL, *words[BATCH_MAX_WORDS];
	size_t cap = 0, lineno = 0;
	FILE *f;
	int ret = 0, n;

	if (argc > 1)
		return usage_err("unexpected argument '%s'", argv[1]);
	f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return fail(-errno, "%s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		n = batch_split(line, words, BATCH_MAX_WORDS, &why);
		if (n < 0) {
			cli.object = "batch";
			cli.command = NULL;
			ret = usage_err("%s:%zu: %s", path, lineno, why);
			break;
		}
		if (!n)
			continue;
		if (!strcmp(words[0], "batch")) {
			cli.object = "batch";
			cli.command = NULL;
			ret = usage_err("%s:%zu: a batch within a batch", path,
					lineno);
			break;
		}
		cli.object = cli.command = NULL;
		ret = xlb_run(n, words);
		fflush(stdout);
		if (ret < 0) {
			char msg[sizeof(cli.msg) + 128];

			/* The line's error, said where it is. */
			if (cli.object && cli.command)
				snprintf(msg, sizeof(msg), "%s:%zu: %s %s: %s",
					 path, lineno, cli.object, cli.command,
					 cli.msg);
			else
				snprintf(msg, sizeof(msg), "%s:%zu: %s%s%s",
					 path, lineno,
					 cli.object ? cli.object : "",
					 cli.object ? ": " : "", cli.msg);
			memcpy(cli.msg, msg, sizeof(cli.msg) - 1);
			cli.msg[sizeof(cli.msg) - 1] = '\0';
			cli.object = cli.command = NULL;
			break;
		}
		ret = 0;
	}
	if (!ret && ferror(f))
		ret = fail(-EIO, "%s: read error", path);
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

const struct object batch_object = {
	.name = "batch",
	.dflt = do_batch,
	.help = batch_help,
};
