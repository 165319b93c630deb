#!/usr/bin/env bash
# Shared by ./quickstart and .ci/run: make a fresh Debian 12 ready to build and test p11unlock.
#   scripts/setup.sh deps [demo]  packages + locale + vpcd below (demo: only what the demo needs)
#   scripts/setup.sh sources  make sure Debian 12's security updates are an apt source
#   scripts/setup.sh packages [demo]  install scripts/packages.txt (demo: scripts/packages-demo.txt)
#   scripts/setup.sh backports  pkcs11-provider from bookworm-backports (the provider tests)
#   scripts/setup.sh locale  generate the zh_TW.UTF-8 locale (the tool's Chinese messages)
#   scripts/setup.sh build   autogen + configure + make in _build/ (warnings are errors)
#   scripts/setup.sh vpcd    neutralise /etc/reader.conf.d/vpcd (see README: it opens a network reader)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "p11unlock setup: run this as root (su -, a fresh Debian has no sudo): it installs packages and runs a private pcscd" >&2
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
	local list="$top/scripts/packages.txt"
	[ "${1:-}" = demo ] && list="$top/scripts/packages-demo.txt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	# shellcheck disable=SC2046
	apt-get install -y --no-install-recommends $(grep -v '^#' "$list")
	[ "${1:-}" = demo ] || backports
}

# pkcs11-provider (OpenSSL 3 reaching tokens) is in Debian 12 only as a backport: add that source,
# and install this one package from it (apt never picks a backport that is not named).
backports() {
	need_root
	. /etc/os-release
	[ "${VERSION_CODENAME:-}" = bookworm ] || return 0
	if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deb http://deb.debian.org/debian bookworm-backports main" \
			>/etc/apt/sources.list.d/bookworm-backports.list
		echo "p11unlock setup: added bookworm-backports to the apt sources (for pkcs11-provider only)"
		apt-get update
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		pkcs11-provider/bookworm-backports
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
deps) packages "${2:-}"; locale_zh_tw; vpcd ;;
packages) packages "${2:-}" ;;
backports) backports ;;
sources) sources ;;
locale) locale_zh_tw ;;
build) build ;;
vpcd) need_root; vpcd ;;
*) echo "usage: scripts/setup.sh deps [demo]|sources|packages [demo]|backports|locale|vpcd|build" >&2; exit 2 ;;
esac
