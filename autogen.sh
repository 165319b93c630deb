#!/bin/sh
# Generates configure and the Makefile templates from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# automake does not install the TAP driver by itself.
cp "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
