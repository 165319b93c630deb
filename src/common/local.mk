# Small helpers shared by every layer.
noinst_LTLIBRARIES += src/common/libp11u-common.la
src_common_libp11u_common_la_SOURCES = \
	src/common/log.c src/common/log.h \
	src/common/transport.h
src_common_libp11u_common_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
src_common_libp11u_common_la_LIBADD = -lpthread
