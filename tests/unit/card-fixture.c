#include "config.h"

#include "card-fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

static enum p11u_io_rv vcard_transmit(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                      size_t *resp_len)
{
	uint8_t buf[VCARD_RESP_MAX];
	size_t n = vcard_process(ctx, cmd, cmd_len, buf);

	if (n > *resp_len)
		return P11U_IO_BUFFER;
	memcpy(resp, buf, n);
	*resp_len = n;
	return P11U_IO_OK;
}

/* One process, one card: transactions have nothing to exclude. */
static enum p11u_io_rv vcard_transaction(void *ctx)
{
	(void)ctx;
	return P11U_IO_OK;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	char path[512];

	if (d == NULL)
		return;
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int card_fixture_open(struct card_fixture *fx, const struct vcard_params *params)
{
	struct vcard_params defaults = {0};
	char state[128], err[256];
	uint8_t atr[64];
	size_t atr_len;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/p11u-test-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/card.state", fx->dir);
	if (vcard_create(state, params ? params : &defaults, err, sizeof(err)) != 0) {
		fprintf(stderr, "vcard_create: %s\n", err);
		return -1;
	}
	fx->vcard = vcard_load(state, err, sizeof(err));
	if (fx->vcard == NULL) {
		fprintf(stderr, "vcard_load: %s\n", err);
		return -1;
	}
	if (vcard_export(fx->vcard, fx->dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "vcard_export: %s\n", err);
		return -1;
	}
	fx->transport = (struct p11u_transport){
	    .ctx = fx->vcard,
	    .transmit = vcard_transmit,
	    .begin = vcard_transaction,
	    .end = vcard_transaction,
	};
	atr_len = vcard_atr(fx->vcard, atr, sizeof(atr));
	if (p11u_card_open(&fx->transport, atr, atr_len, &fx->card) != P11U_CARD_OK)
		return -1;
	return 0;
}

void card_fixture_close(struct card_fixture *fx)
{
	p11u_card_free(fx->card);
	vcard_free(fx->vcard);
	if (fx->dir[0] != '\0')
		remove_dir(fx->dir);
	memset(fx, 0, sizeof(*fx));
}

X509 *card_fixture_exported_cert(const struct card_fixture *fx, const char *name)
{
	char path[256];
	FILE *f;
	X509 *x509;

	snprintf(path, sizeof(path), "%s/%s.pem", fx->dir, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	x509 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x509;
}
