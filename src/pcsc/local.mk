# PC/SC transport (src/pcsc/reader.h) over PCSC-lite.
# Link src/common/libp11u-common.la next to it (not added here: two convenience libraries
# carrying the same objects would clash in a shared module).
noinst_LTLIBRARIES += src/pcsc/libp11u-pcsc.la
src_pcsc_libp11u_pcsc_la_SOURCES = src/pcsc/reader.c src/pcsc/reader.h
src_pcsc_libp11u_pcsc_la_CFLAGS = $(AM_CFLAGS) $(PCSC_CFLAGS) -fvisibility=hidden
src_pcsc_libp11u_pcsc_la_LIBADD = $(PCSC_LIBS) -lpthread
