# The card layer (src/card/card.h): the card profile over a transport.
# Link src/common/libp11u-common.la next to it (not added here: two convenience libraries
# carrying the same objects would clash in a shared module).
noinst_LTLIBRARIES += src/card/libp11u-card.la
src_card_libp11u_card_la_SOURCES = \
	src/card/card.h src/card/card-int.h src/card/profile.h \
	src/card/card.c src/card/profile.c \
	src/card/apdu.c src/card/apdu-log.c \
	src/card/files.c src/card/keys.c \
	src/card/secret.c src/card/keyops.c
src_card_libp11u_card_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fvisibility=hidden
src_card_libp11u_card_la_LIBADD = $(CRYPTO_LIBS)
