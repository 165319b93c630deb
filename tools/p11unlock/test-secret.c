/* The local checks on user codes and PINs, their messages in both languages,
 * the prompts, and reading answers as lines. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "i18n.h"
#include "prompt.h"
#include "secret.h"
#include "test-lang.h"

static enum secret_problem check(enum secret_field field, const char *value)
{
	return secret_check(field, value, strlen(value));
}

static void test_user_code_rules(void **state)
{
	(void)state;
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cd"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cd3456"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "!~#$%^"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12c"), SECRET_TOO_SHORT);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cd34567"), SECRET_TOO_LONG);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, ""), SECRET_BLANK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "      "), SECRET_BLANK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, " \t "), SECRET_BLANK);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12 cd34"), SECRET_SPACE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, " Ab12cd34"), SECRET_SPACE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cd34 "), SECRET_SPACE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12\tcd34"), SECRET_NOT_PRINTABLE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cd\x7f"), SECRET_NOT_PRINTABLE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "用戶代碼12"), SECRET_NOT_PRINTABLE);
	assert_int_equal(check(SECRET_FIELD_USER_CODE, "Ab12cdé"), SECRET_NOT_PRINTABLE);
	/* An embedded NUL is a character outside the rules, not the end of the code. */
	assert_int_equal(secret_check(SECRET_FIELD_USER_CODE, "Ab1\0cd34", 8),
	                 SECRET_NOT_PRINTABLE);
}

static void test_pin_rules(void **state)
{
	(void)state;
	assert_int_equal(check(SECRET_FIELD_NEW_PIN, "123456"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_NEW_PIN, "12345678"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_NEW_PIN, "12345"), SECRET_TOO_SHORT);
	assert_int_equal(check(SECRET_FIELD_NEW_PIN, "123456789"), SECRET_TOO_LONG);
	/* A valid user-code length is too long for a PIN. */
	assert_int_equal(check(SECRET_FIELD_NEW_PIN, "Ab12cd3456"), SECRET_TOO_LONG);
	assert_int_equal(check(SECRET_FIELD_CURRENT_PIN, "1234567"), SECRET_OK);
	assert_int_equal(check(SECRET_FIELD_CURRENT_PIN, "123 456"), SECRET_SPACE);
	assert_int_equal(check(SECRET_FIELD_CURRENT_PIN, "１２３４５６"), SECRET_NOT_PRINTABLE);
}

static void test_secret_equal(void **state)
{
	struct secret a = {"123456", 6}, b = {"123456", 6}, c = {"1234567", 7}, d = {"123457", 6};

	(void)state;
	assert_true(secret_equal(&a, &b));
	assert_false(secret_equal(&a, &c));
	assert_false(secret_equal(&a, &d));
	secret_wipe(&a);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.value[0], 0);
}

/* The message, kept until the next call (the tests compare it at once). */
static const char *message(enum secret_field field, enum secret_problem problem)
{
	static char *text;

	free(text);
	text = secret_problem_message(field, problem);
	return text;
}

static void test_messages_en(void **state)
{
	(void)state;
	assert_true(test_lang_set("en"));
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK),
	                    "User code: must not be empty.");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_SPACE),
	                    "User code: must not contain spaces.");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_NOT_PRINTABLE),
	                    "User code: only letters, digits and ASCII symbols are allowed.");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_TOO_SHORT),
	                    "User code: too short, it must have 6 to 10 characters.");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_TOO_LONG),
	                    "User code: too long, it must have 6 to 10 characters.");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN, SECRET_TOO_SHORT),
	                    "New PIN: too short, it must have 6 to 8 characters.");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN, SECRET_TOO_LONG),
	                    "New PIN: too long, it must have 6 to 8 characters.");
	assert_string_equal(message(SECRET_FIELD_CURRENT_PIN, SECRET_END_OF_INPUT),
	                    "Current PIN: the input ended before an answer.");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN_AGAIN, SECRET_END_OF_INPUT),
	                    "New PIN (again): the input ended before an answer.");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN_AGAIN, SECRET_MISMATCH),
	                    "The two new PINs differ.");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN, SECRET_OK), "");
}

static void test_messages_zh(void **state)
{
	(void)state;
	if (!test_lang_set("zh_TW"))
		skip();
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK), "用戶代碼：不可空白。");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_SPACE),
	                    "用戶代碼：不可包含空格。");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_NOT_PRINTABLE),
	                    "用戶代碼：只能使用英文字母、數字及半形符號。");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_TOO_SHORT),
	                    "用戶代碼：太短，長度須為 6 至 10 個字元。");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_TOO_LONG),
	                    "用戶代碼：太長，長度須為 6 至 10 個字元。");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN, SECRET_TOO_SHORT),
	                    "新PIN碼：太短，長度須為 6 至 8 個字元。");
	assert_string_equal(message(SECRET_FIELD_CURRENT_PIN, SECRET_END_OF_INPUT),
	                    "目前的PIN碼：輸入已結束，未取得回答。");
	assert_string_equal(message(SECRET_FIELD_NEW_PIN_AGAIN, SECRET_MISMATCH),
	                    "兩次輸入的新PIN碼不一致。");
	test_lang_set("en");
}

static const char *prompt_text(enum secret_field field)
{
	static char *text;

	free(text);
	text = secret_prompt(field);
	return text;
}

static void test_prompts(void **state)
{
	(void)state;
	assert_true(test_lang_set("en"));
	assert_string_equal(prompt_text(SECRET_FIELD_USER_CODE), "User code (6-10 characters): ");
	assert_string_equal(prompt_text(SECRET_FIELD_CURRENT_PIN), "Current PIN: ");
	assert_string_equal(prompt_text(SECRET_FIELD_NEW_PIN), "New PIN (6-8 characters): ");
	assert_string_equal(prompt_text(SECRET_FIELD_NEW_PIN_AGAIN), "New PIN again: ");
	if (!test_lang_set("zh_TW"))
		skip();
	assert_string_equal(prompt_text(SECRET_FIELD_USER_CODE), "用戶代碼（6 至 10 個字元）：");
	assert_string_equal(prompt_text(SECRET_FIELD_NEW_PIN), "新PIN碼（6 至 8 個字元）：");
	assert_string_equal(prompt_text(SECRET_FIELD_NEW_PIN_AGAIN), "再次輸入新PIN碼：");
	test_lang_set("en");
}

/* Without --lang the language follows the locale, even one that is not generated (the
 * messages then come over C.UTF-8). */
static void test_language_from_locale(void **state)
{
	(void)state;
	if (!test_lang_set("zh_TW"))
		skip();
	unsetenv("LANGUAGE");
	unsetenv("LC_ALL");
	unsetenv("LC_MESSAGES");
	setenv("LANG", "zh_TW.NOT-GENERATED", 1);
	i18n_init(NULL);
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK), "用戶代碼：不可空白。");
	assert_string_equal(getenv("LANGUAGE"), "zh_TW");
	unsetenv("LANGUAGE");
	setenv("LANG", "C", 1);
	i18n_init(NULL);
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK),
	                    "User code: must not be empty.");
	/* --lang wins over the locale, also over the C locale. */
	i18n_init("zh_TW");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK), "用戶代碼：不可空白。");
	setenv("LANG", "zh_TW.UTF-8", 1);
	i18n_init("en");
	assert_string_equal(message(SECRET_FIELD_USER_CODE, SECRET_BLANK),
	                    "User code: must not be empty.");
	test_lang_set("en");
}

/* A pipe holding the given bytes, write end closed: read as stdin would be. */
static int pipe_with(const char *data, size_t len)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], data, len), (ssize_t)len);
	close(fds[1]);
	return fds[0];
}

static void test_line_read(void **state)
{
	static const char input[] = "Ab12cd34\n123456\r\n\nlast";
	char buf[SECRET_BUF_SIZE];
	size_t len = 99;
	int fd = pipe_with(input, sizeof(input) - 1);

	(void)state;
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_OK);
	assert_string_equal(buf, "Ab12cd34");
	assert_int_equal(len, 8);
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_OK);
	assert_string_equal(buf, "123456");
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_OK);
	assert_int_equal(len, 0);
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_OK);
	assert_string_equal(buf, "last");
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_EOF);
	close(fd);
}

static void test_line_too_long(void **state)
{
	char input[200], buf[SECRET_BUF_SIZE];
	size_t len;
	int fd;

	(void)state;
	memset(input, 'x', sizeof(input));
	input[150] = '\n';
	memcpy(input + 151, "123456\n", 7);
	fd = pipe_with(input, 158);
	/* The long line is consumed to its end: the next answer stays in its place. */
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_TOO_LONG);
	assert_int_equal(buf[0], 0);
	assert_int_equal(line_read(fd, buf, sizeof(buf), &len), LINE_OK);
	assert_string_equal(buf, "123456");
	close(fd);
}

static void test_prompt_read_not_a_terminal(void **state)
{
	struct prompt p;
	char buf[SECRET_BUF_SIZE];
	size_t len;
	FILE *out;
	char *shown = NULL;
	size_t shown_len = 0;

	(void)state;
	out = open_memstream(&shown, &shown_len);
	assert_non_null(out);
	p.in_fd = pipe_with("Ab12cd34\n", 9);
	p.out = out;
	p.interactive = false;
	assert_int_equal(prompt_read(&p, "User code: ", true, buf, sizeof(buf), &len), LINE_OK);
	assert_string_equal(buf, "Ab12cd34");
	fclose(out);
	/* No prompt without a terminal. */
	assert_int_equal(shown_len, 0);
	free(shown);
	close(p.in_fd);
}

/* In the child of test_signal_wipes_secrets: the action the signal had before
 * secrets_hold(), run after the wipe; exits 0 when every held byte is zero. */
static const struct secret *watched;

static void exit_with_wipe_result(int sig)
{
	const unsigned char *bytes = (const unsigned char *)watched;
	size_t size = SECRETS_HELD * sizeof(struct secret);

	(void)sig;
	for (size_t i = 0; i < size; i++)
		if (bytes[i] != 0)
			_exit(3);
	_exit(0);
}

static int child_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* A fatal signal while secrets are held wipes them, then takes its previous course. */
static void test_signal_wipes_secrets(void **state)
{
	static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct secret *held;
			signal(signals[i], exit_with_wipe_result);
			held = secrets_hold();
			watched = held;
			for (size_t j = 0; j < SECRETS_HELD; j++) {
				memcpy(held[j].value, "Ab12cd34", 8);
				held[j].len = 8;
			}
			raise(signals[i]);
			_exit(4); /* the signal did not end the child */
		}
		assert_int_equal(child_status(pid), 0);
	}
	/* With the default action, the signal still ends the process. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		secrets_hold();
		raise(SIGTERM);
		_exit(4);
	}
	assert_int_equal(WTERMSIG(child_status(pid)), SIGTERM);
	/* An ignored signal stays ignored (nohup). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGHUP, SIG_IGN);
		secrets_hold();
		raise(SIGHUP);
		_exit(5);
	}
	assert_int_equal(WEXITSTATUS(child_status(pid)), 5);
}

/* The signal's end says where the command stood (the message the flow set), on stderr; after
 * secrets_release() nothing is said. */
static void test_signal_message(void **state)
{
	char said[256];
	ssize_t n;
	int fds[2];
	pid_t pid;

	(void)state;
	for (int released = 0; released <= 1; released++) {
		assert_int_equal(pipe(fds), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			dup2(fds[1], STDERR_FILENO);
			secrets_hold();
			secrets_interrupt_message("Interrupted: nothing was sent to the card.");
			if (released) {
				secrets_release();
				signal(SIGINT, SIG_DFL);
			}
			raise(SIGINT);
			_exit(4);
		}
		close(fds[1]);
		assert_int_equal(WTERMSIG(child_status(pid)), SIGINT);
		n = read(fds[0], said, sizeof(said) - 1);
		close(fds[0]);
		said[n > 0 ? n : 0] = '\0';
		assert_string_equal(said,
		                    released ? "" : "Interrupted: nothing was sent to the card.\n");
	}
}

/* After secrets_release() the area is wiped and the signals are what they were. */
static void test_secrets_release(void **state)
{
	struct sigaction now;
	struct secret *held;

	(void)state;
	held = secrets_hold();
	memcpy(held[1].value, "654321", 6);
	held[1].len = 6;
	secrets_release();
	assert_int_equal(held[1].len, 0);
	assert_int_equal(held[1].value[0], 0);
	assert_int_equal(sigaction(SIGINT, NULL, &now), 0);
	assert_ptr_equal(now.sa_handler, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_code_rules),
	    cmocka_unit_test(test_pin_rules),
	    cmocka_unit_test(test_secret_equal),
	    cmocka_unit_test(test_messages_en),
	    cmocka_unit_test(test_messages_zh),
	    cmocka_unit_test(test_prompts),
	    cmocka_unit_test(test_language_from_locale),
	    cmocka_unit_test(test_line_read),
	    cmocka_unit_test(test_line_too_long),
	    cmocka_unit_test(test_prompt_read_not_a_terminal),
	    cmocka_unit_test(test_signal_wipes_secrets),
	    cmocka_unit_test(test_signal_message),
	    cmocka_unit_test(test_secrets_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
