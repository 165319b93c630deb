#!/usr/bin/env bash
# Shared by ./quickstart and .ci/run: make a fresh Debian 12 ready to build and test p11unlock.
#   scripts/setup.sh deps    packages + locale + vpcd below
#   scripts/setup.sh sources  make sure Debian 12's security updates are an apt source
#   scripts/setup.sh packages install the packages of scripts/packages.txt
#   scripts/setup.sh locale  generate the zh_TW.UTF-8 locale (the tool's Chinese messages)
#   scripts/setup.sh build   autogen + configure + make in _build/ (warnings are errors)
#   scripts/setup.sh vpcd    neutralise /etc/reader.conf.d/vpcd (see README: it opens a network reader)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "p11unlock setup: run this as root (sudo): it installs packages and runs a private pcscd" >&2
		exit 1
	fi
}

# A Debian 12 made by debootstrap has no security source: its firefox-esr is then 140 instead of
# the 153 the Firefox tests drive (and it misses every security fix).
sources() {
	need_root
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] || return 0
	if ! grep -rqs 'bookworm-security' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deb http://deb.debian.org/debian-security bookworm-security main" \
			>/etc/apt/sources.list.d/debian-security.list
		echo "p11unlock setup: added bookworm-security to the apt sources"
	fi
}

packages() {
	need_root
	sources
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2046
	apt-get install -y --no-install-recommends $(grep -v '^#' "$top/scripts/packages.txt")
}

locale_zh_tw() {
	need_root
	if ! locale -a 2>/dev/null | grep -qi '^zh_TW.utf8$'; then
		sed -i 's/^# *\(zh_TW.UTF-8 UTF-8\)/\1/' /etc/locale.gen
		grep -q '^zh_TW.UTF-8 UTF-8' /etc/locale.gen || echo 'zh_TW.UTF-8 UTF-8' >>/etc/locale.gen
		locale-gen
	fi
}

# Installing vsmartcard-vpcd gives the system pcscd a virtual reader listening on TCP port
# 35963 on all interfaces: anyone who can reach the port can offer it a card.  The tests run their
# own pcscd in a private network namespace and do not need it, so the file is moved aside.
vpcd() {
	if [ -f /etc/reader.conf.d/vpcd ]; then
		mv /etc/reader.conf.d/vpcd /etc/reader.conf.d/vpcd.disabled-by-p11unlock
		echo "p11unlock setup: moved /etc/reader.conf.d/vpcd aside (network-reachable virtual reader)"
	fi
}

build() {
	cd "$top"
	./autogen.sh
	mkdir -p _build
	cd _build
	../configure --enable-werror --prefix=/usr/local --sysconfdir=/etc
	make -j"$(nproc)"
}

case "${1:-}" in
deps) packages; locale_zh_tw; vpcd ;;
packages) packages ;;
sources) sources ;;
locale) locale_zh_tw ;;
build) build ;;
vpcd) need_root; vpcd ;;
*) echo "usage: scripts/setup.sh deps|sources|packages|locale|vpcd|build" >&2; exit 2 ;;
esac
