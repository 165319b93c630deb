/* The per-user cache of cards' public data (cache.h): files only.  What goes into a file and
 * whether it may be used is the card layer's decision (card.h, struct p11u_card_cache).
 *
 * Trust: the directory and its files are used only when they are the user's own and nobody
 * else's to change: the directory $XDG_CACHE_HOME/p11unlock (else ~/.cache/p11unlock) is not
 * a symbolic link, is owned by the effective user and has mode 0700 (no group or other bits);
 * a file is a regular file, not a link, owned by the user, mode 0600, at most CACHE_FILE_MAX
 * bytes.  Anything else is ignored (logged under P11UNLOCK_DEBUG=card): the card is read, and
 * nothing is written there.  A file is written whole under a temporary name and renamed, so a
 * reader never sees half of one. */
#include "config.h"

#include "pkcs11/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define CACHE_FILE_MAX (64 * 1024)
#define CACHE_DIR_NAME "p11unlock"

/* The base directory: $XDG_CACHE_HOME when it is an absolute path, else ~/.cache (HOME, else
 * the user's entry).  secure_getenv: a set-user-ID program does not take it from its caller. */
static bool cache_base(char *out, size_t size)
{
	const char *xdg = secure_getenv("XDG_CACHE_HOME");
	const char *home = secure_getenv("HOME");
	struct passwd pw, *found = NULL;
	char buf[1024];
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, size, "%s", xdg);
	else {
		if (home == NULL || home[0] != '/') {
			if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) != 0 ||
			    found == NULL || found->pw_dir == NULL || found->pw_dir[0] != '/')
				return false;
			home = found->pw_dir;
		}
		n = snprintf(out, size, "%s/.cache", home);
	}
	return n > 0 && (size_t)n < size;
}

/* Whether an open descriptor is the user's own and private: owner, type and no group or other
 * permission bits. */
static bool private_to_user(int fd, mode_t type, const char *what)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return false;
	if ((st.st_mode & S_IFMT) != type || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		P11U_DEBUG(P11U_LOG_CARD,
		           "cache: %s ignored: mode %04o owner %u, must be the user's (%u) and "
		           "private",
		           what, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
		           (unsigned)geteuid());
		return false;
	}
	if (type == S_IFREG && st.st_size > CACHE_FILE_MAX)
		return false;
	return true;
}

/* The cache directory, open (O_DIRECTORY, no link followed), if it is private to the user;
 * with create, made first (mode 0700) where missing.  -1 otherwise. */
static int open_cache_dir(bool create)
{
	char base[1024], dir[1100];
	int fd;

	if (!cache_base(base, sizeof base))
		return -1;
	snprintf(dir, sizeof dir, "%s/" CACHE_DIR_NAME, base);
	if (create) {
		/* XDG: the base directory is made with mode 0700 when it does not exist. */
		if (mkdir(base, 0700) != 0 && errno != EEXIST)
			return -1;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			P11U_DEBUG(P11U_LOG_CARD, "cache: %s ignored: not a directory", dir);
		return -1;
	}
	if (!private_to_user(fd, S_IFDIR, "directory")) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The file name for a card number: letters and digits only (the number comes from the card). */
static bool file_name(const char *card_number, char *out, size_t size)
{
	size_t len = strlen(card_number);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = card_number[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return false;
	}
	return (size_t)snprintf(out, size, "%s.card", card_number) < size;
}

static bool read_all(int fd, uint8_t **data, size_t *len)
{
	uint8_t *buf = malloc(CACHE_FILE_MAX);
	size_t got = 0;

	if (buf == NULL)
		return false;
	for (;;) {
		ssize_t n = read(fd, buf + got, CACHE_FILE_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return false;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == CACHE_FILE_MAX) {
			free(buf);
			return false;
		}
	}
	*data = buf;
	*len = got;
	return true;
}

static bool cache_load(void *ctx, const char *card_number, uint8_t **data, size_t *len)
{
	char name[64];
	int dir, fd;
	bool ok = false;

	(void)ctx;
	if (!file_name(card_number, name, sizeof name))
		return false;
	dir = open_cache_dir(false);
	if (dir < 0)
		return false;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		ok = private_to_user(fd, S_IFREG, name) && read_all(fd, data, len);
		close(fd);
	} else if (errno == ELOOP) {
		P11U_DEBUG(P11U_LOG_CARD, "cache: %s ignored: a symbolic link", name);
	}
	close(dir);
	return ok;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static void cache_store(void *ctx, const char *card_number, const uint8_t *data, size_t len)
{
	char name[64], tmp[96];
	int dir, fd;
	bool ok;

	(void)ctx;
	if (len > CACHE_FILE_MAX || !file_name(card_number, name, sizeof name))
		return;
	dir = open_cache_dir(true);
	if (dir < 0)
		return;
	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(dir);
		return;
	}
	ok = fchmod(fd, 0600) == 0 && write_all(fd, data, len) && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok)
		ok = renameat(dir, tmp, dir, name) == 0;
	if (!ok)
		unlinkat(dir, tmp, 0);
	P11U_DEBUG(P11U_LOG_CARD, "cache: card %s %s", card_number,
	           ok ? "stored" : "could not be stored");
	close(dir);
}

static const struct p11u_card_cache file_cache = {
    .ctx = NULL,
    .load = cache_load,
    .store = cache_store,
};

const struct p11u_card_cache *p11u_cache_of(const struct p11u_config *config)
{
	return config->cache ? &file_cache : NULL;
}
