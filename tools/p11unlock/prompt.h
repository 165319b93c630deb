/* Questions and answers.  On a terminal: a prompt, then a line typed with echo
 * off for secrets.  Otherwise: the answers are the lines of stdin, in the
 * prompts' order, and no prompt is shown.  Lines are read byte by byte with
 * read(2), so no answer waits in a stdio buffer nobody wipes. */
#ifndef P11UNLOCK_TOOL_PROMPT_H
#define P11UNLOCK_TOOL_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct prompt {
	int in_fd;
	FILE *out;
	bool interactive; /* in_fd is a terminal */
};

enum line_rv {
	LINE_OK,
	LINE_EOF,      /* the input ended before any byte of this line */
	LINE_TOO_LONG, /* the line did not fit; it was read up to its end and discarded */
	LINE_ERROR,
};

/* stdin and stdout; interactive when stdin is a terminal. */
void prompt_init(struct prompt *p);

/* One line without its "\n" (and a "\r" before it).  buf is NUL-terminated; a line
 * that ends the input without a newline counts as a line. */
enum line_rv line_read(int fd, char *buf, size_t size, size_t *len);

/* Shows text (interactive only) and reads an answer; hidden: echo off on a terminal. */
enum line_rv prompt_read(const struct prompt *p, const char *text, bool hidden, char *buf,
                         size_t size, size_t *len);

/* For a signal handler (async-signal-safe): when a question waits for its answer on the
 * terminal, ends its line, so what the handler writes next starts on a line of its own. */
void prompt_end_line(void);

enum answer {
	ANSWER_YES,     /* y, yes (any case), 是 */
	ANSWER_NO,      /* n, no (any case), 否, or nothing (the default) */
	ANSWER_UNCLEAR, /* anything else: ask again */
};

/* A yes/no answer, spaces around it ignored. */
enum answer answer_parse(const char *text);

/* Whether the answer to the last-try question is the word it asks for: "yes" (any case) or
 * "是", spaces around it ignored, typed in full: "y" is not enough for the last try. */
bool answer_confirms_last_try(const char *text);

#endif
