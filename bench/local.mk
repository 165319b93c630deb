# Benchmarks: built and run by `make bench` (full, minutes) and `make bench-quick` (seconds, proves
# the benchmark still works), never part of `make check`.  The rig parts need root.
bench_programs = bench/bench-card bench/bench-raw bench/bench-calls
EXTRA_PROGRAMS += $(bench_programs)
bench_bench_card_SOURCES = bench/bench-card.c tests/unit/card-fixture.c tests/unit/card-fixture.h
bench_bench_card_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_bench_card_LDADD = tools/vcard/libvcard.la src/card/libp11u-card.la \
	src/common/libp11u-common.la $(CRYPTO_LIBS)
bench_bench_raw_SOURCES = bench/bench-raw.c
bench_bench_raw_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) $(CRYPTO_CFLAGS)
bench_bench_raw_LDADD = $(PCSC_LIBS) $(CRYPTO_LIBS)
bench_bench_calls_SOURCES = bench/bench-calls.c
bench_bench_calls_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS) $(CRYPTO_CFLAGS)
bench_bench_calls_LDADD = $(CRYPTO_LIBS) -ldl
EXTRA_DIST += bench/bench.sh bench/bench-report.py bench/README.md
CLEANFILES += $(bench_programs)

bench: $(bench_programs) src/pkcs11/p11unlock-pkcs11.la tools/vcard/p11unlock-vcard \
	tools/p11unlock/p11unlock
	bench/bench-card 50 2048
	top_builddir=$(abs_top_builddir) $(SHELL) $(top_srcdir)/bench/bench.sh full
bench-quick: $(bench_programs) src/pkcs11/p11unlock-pkcs11.la tools/vcard/p11unlock-vcard \
	tools/p11unlock/p11unlock
	bench/bench-card 2 1024
	top_builddir=$(abs_top_builddir) $(SHELL) $(top_srcdir)/bench/bench.sh quick
.PHONY: bench bench-quick
