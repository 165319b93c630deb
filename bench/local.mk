# Benchmarks: built and run by `make bench`, never part of `make check`.
EXTRA_PROGRAMS += bench/bench-card
bench_bench_card_SOURCES = bench/bench-card.c tests/unit/card-fixture.c tests/unit/card-fixture.h
bench_bench_card_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_bench_card_LDADD = tools/vcard/libvcard.la src/card/libp11u-card.la \
	src/common/libp11u-common.la $(CRYPTO_LIBS)
EXTRA_DIST += bench/bench-rig.sh
CLEANFILES += bench/bench-card

bench: bench/bench-card
	bench/bench-card 50 2048
	$(SHELL) $(top_srcdir)/bench/bench-rig.sh
.PHONY: bench
