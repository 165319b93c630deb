#!/usr/bin/env bash
# Debian packages of p11unlock (issue 13): build them, check them with lintian, test the installed
# packages in a fresh Debian 12 chroot, and cross-build them for arm64.
#
#   scripts/debian.sh deps     install what the steps need (root): debhelper, lintian, debootstrap
#                              and the build dependencies of debian/control
#   scripts/debian.sh build    dpkg-buildpackage -us -uc -b (and a source package, for lintian)
#   scripts/debian.sh lintian  lintian on the source and binary packages: fails on any error or
#                              warning (overrides only in debian/*lintian-overrides, with a reason)
#   scripts/debian.sh test     the installed-package test (debian/tests/installed) in a fresh
#                              Debian 12 chroot (debootstrap minbase, cached as a tarball), the
#                              .debs installed with apt-get install ./*.deb (root, network to the
#                              Debian mirror)
#   scripts/debian.sh cross    arm64 cross-build (root: adds the arm64 architecture to dpkg and
#                              installs crossbuild-essential-arm64 and the :arm64 -dev packages)
#   scripts/debian.sh base     only make (and cache) the chroot's minbase tarball (root, network)
#   scripts/debian.sh all      build, lintian, cross and test (the chroot's base downloaded
#                              during the build); ends with "N passed, N failed, N skipped"
#
# Each step prints "PASS: debian <step>" or "FAIL: debian <step>" and how long it took, and writes
# $P11U_DEB_WORK/results/<step>.result ("# PASS: N" / "# FAIL: N" lines, as scripts/summary.sh
# reads them; the test step counts its TAP results).
#
# The packages are built from the committed tree (git archive HEAD) with the working tree's
# debian/ copied over it, so uncommitted packaging is tested without anyone else's uncommitted
# work.  P11U_DEB_OVERLAY="debian src/x.c ..." names the paths taken from the working tree.
# Run as root, the builds run as the user nobody, as on Debian's build daemons (as root,
# `make check` would also run the PC/SC rig test tests/unit/test-pcsc).
#
# Environment: P11U_DEB_WORK (default /tmp/p11unlock-debian), P11U_DEB_OVERLAY (default debian),
# P11U_DEB_MIRROR (default http://deb.debian.org/debian), P11U_DEB_KEEP=1 keeps the chroot.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
WORK=${P11U_DEB_WORK:-/tmp/p11unlock-debian}
MIRROR=${P11U_DEB_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
CROSS_ARCH=arm64
BUILDER=nobody
BUILDER_GROUP=nogroup
export DEBIAN_FRONTEND=noninteractive
APT_GET=(apt-get -o DPkg::Lock::Timeout=600 -y)

say() { echo "debian.sh: $*"; }
die() {
	echo "debian.sh: $*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1: run as root (sudo scripts/debian.sh $1)"
}

source_name() { dpkg-parsechangelog -l "$top/debian/changelog" -S Source; }
upstream_version() {
	local v
	v=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
	v=${v#*:}
	echo "${v%-*}"
}

# as_builder CMD...: CMD as the unprivileged build user when run as root, else as the caller.
as_builder() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$BUILDER" --regid="$BUILDER_GROUP" --clear-groups \
			env HOME="$WORK/home" "$@"
	else
		env HOME="${HOME:-$WORK/home}" "$@"
	fi
}

# own DIR: the build user may write DIR.
own() {
	[ "$(id -u)" = 0 ] && chown -R "$BUILDER:$BUILDER_GROUP" "$@"
	return 0
}

work_dirs() {
	mkdir -p "$WORK/results" "$WORK/home"
	chmod 0755 "$WORK"
	own "$WORK/home"
}

# result STEP PASS|FAIL [N]: records and prints a step's result.
result() {
	local step=$1 verdict=$2 n=${3:-1}
	echo "# $verdict: $n (debian $step)" >>"$WORK/results/$step.result"
	echo "$verdict: debian $step"
}

# prepare_tree DIR: DIR/<source>-<version>: HEAD (or this tree when it is no git checkout) with
# the P11U_DEB_OVERLAY paths of the working tree over it.  No generated file, no build tree.
prepare_tree() {
	local dir=$1 tree p
	tree=$dir/$(source_name)-$(upstream_version)
	rm -rf "$tree"
	mkdir -p "$tree"
	if git -C "$top" rev-parse --verify -q HEAD >/dev/null 2>&1; then
		git -C "$top" archive HEAD | tar -x -C "$tree"
		for p in ${P11U_DEB_OVERLAY:-debian}; do
			[ -e "$top/$p" ] || continue
			rm -rf "${tree:?}/$p"
			mkdir -p "$(dirname "$tree/$p")"
			cp -a "$top/$p" "$tree/$p"
		done
	else
		tar -C "$top" --exclude='./_build*' -cf - . | tar -x -C "$tree"
	fi
	echo "$tree"
}

# ----- deps ----------------------------------------------------------------------------------------
cmd_deps() {
	need_root deps
	apt-get update
	"${APT_GET[@]}" install --no-install-recommends debhelper lintian debootstrap dpkg-dev file
	"${APT_GET[@]}" build-dep "$top"
}

# ----- build ---------------------------------------------------------------------------------------
cmd_build() {
	local d=$WORK/build tree base rc=0 start=$SECONDS
	work_dirs
	rm -f "$WORK/results/build.result"
	rm -rf "$d"
	mkdir -p "$d"
	tree=$(prepare_tree "$d")
	base=$(basename "$tree")
	# The upstream tarball, for the source package (lintian checks debian/ there).
	tar -C "$d" --exclude="$base/debian" --sort=name --owner=0 --group=0 --numeric-owner \
		-cJf "$d/$(source_name)_$(upstream_version).orig.tar.xz" "$base"
	own "$d"
	say "building in $tree (log: $d/build.log)"
	(cd "$d" && as_builder dpkg-source -b "$base") >"$d/source.log" 2>&1 || rc=$?
	if [ $rc = 0 ]; then
		(cd "$tree" && as_builder env DEB_BUILD_OPTIONS="parallel=$(nproc)" \
			dpkg-buildpackage -us -uc -b) >"$d/build.log" 2>&1 || rc=$?
	else
		cat "$d/source.log"
	fi
	if [ $rc = 0 ]; then
		grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):|^# (TOTAL|PASS|SKIP|FAIL|ERROR):' "$d/build.log" |
			grep -v '^PASS:' || true
		(cd "$d" && ls -l ./*.deb ./*.dsc)
		result build PASS
	else
		tail -n 60 "$d/build.log" 2>/dev/null || true
		result build FAIL
	fi
	say "build took $((SECONDS - start)) s"
	return $rc
}

built() {
	ls "$WORK"/build/*.deb >/dev/null 2>&1 || die "no packages in $WORK/build: run scripts/debian.sh build first"
}

# ----- lintian -------------------------------------------------------------------------------------
cmd_lintian() {
	local rc=0 start=$SECONDS
	work_dirs
	rm -f "$WORK/results/lintian.result"
	built
	lintian --version
	# -I: informational tags are shown too (they do not fail); --fail-on: errors and warnings do.
	# From the work directory: the caller's (CI: /root/...) is not the build user's to enter.
	(cd "$WORK" && as_builder lintian -I --fail-on error,warning "$WORK"/build/*.dsc "$WORK"/build/*.deb) || rc=$?
	if [ $rc = 0 ]; then result lintian PASS; else result lintian FAIL; fi
	say "lintian took $((SECONDS - start)) s"
	return $rc
}

# ----- test: the installed packages in a fresh Debian 12 chroot --------------------------------------
ROOT=

# The minbase chroot tarball, made once (the shared fresh-machine tool's is the same thing).
base_tarball() {
	local base=$WORK/base/$SUITE-minbase.tar tmp
	if [ ! -f "$base" ] && [ -f /tmp/fresh/$SUITE-minbase.tar ]; then
		echo /tmp/fresh/$SUITE-minbase.tar
		return
	fi
	if [ ! -f "$base" ]; then
		command -v debootstrap >/dev/null || die "debootstrap not found (Debian package debootstrap)"
		mkdir -p "$WORK/base"
		tmp=$(mktemp -d "$WORK/base/root.XXXXXX")
		say "debootstrap --variant=minbase $SUITE (log: $WORK/base/debootstrap.log)" >&2
		if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$MIRROR" >"$WORK/base/debootstrap.log" 2>&1; then
			tail -n 20 "$WORK/base/debootstrap.log" >&2
			rm -rf --one-file-system "$tmp"
			die "debootstrap failed"
		fi
		chmod 0755 "$tmp"
		tar -C "$tmp" -cf "$base.tmp" . && mv "$base.tmp" "$base"
		rm -rf --one-file-system "$tmp"
	fi
	echo "$base"
}

chroot_cleanup() {
	local p
	[ -n "$ROOT" ] || return 0
	# Whatever the test left running inside (its rig stops itself; this is the safety net):
	# processes whose root is the chroot, by PID.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$ROOT" ] && kill "${p#/proc/}" 2>/dev/null
	done
	sleep 1
	for p in run sys dev proc; do
		umount -l "$ROOT/$p" 2>/dev/null || true
	done
	umount -l "$ROOT" 2>/dev/null || true
	if [ "${P11U_DEB_KEEP:-0}" = 1 ]; then
		say "kept the chroot $ROOT (mounts removed)"
	elif grep -q " ${ROOT}[/ ]" /proc/self/mounts; then
		say "left $ROOT in place: something is still mounted under it" >&2
	else
		rm -rf --one-file-system "$ROOT"
	fi
	ROOT=
}

# seed_apt_cache PACKAGES...: the .debs that apt in the chroot is about to download and that
# this machine's apt cache holds already (same file name, so same version; apt checks their
# hashes against the chroot's own indexes) are copied into the chroot's cache.  Only saves
# downloads: what gets installed is decided by the chroot's apt alone.
seed_apt_cache() {
	local name n=0
	while read -r name; do
		[ -f "/var/cache/apt/archives/$name" ] || continue
		cp "/var/cache/apt/archives/$name" "$ROOT/var/cache/apt/archives/$name"
		n=$((n + 1))
	done < <(in_chroot bash -c 'cd /root && apt-get install -qq --print-uris --no-install-recommends ./debs/*.deb "$@"' \
		apt "$@" | sed -n "s/^'[^']*' \([^ ]*\) .*/\1/p" | grep -E '^[A-Za-z0-9][A-Za-z0-9.+~%:_-]*\.deb$')
	echo "seeded the chroot's apt cache with $n package files from this machine's"
}

in_chroot() {
	chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# The test's Depends (debian/tests/control) that are not ours: ours come from the .debs.
test_depends() {
	sed -n '/^Depends:/,/^[A-Z][A-Za-z-]*:/{/^Depends:/{s/^Depends://;p;d};/^[A-Z]/d;p}' "$1" |
		tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' |
		grep -v -E '^p11unlock(-pkcs11|-vcard)?$' || true
}

cmd_test() {
	local base tree rc=0 start=$SECONDS t0 deps npass nfail nskip
	need_root test
	work_dirs
	rm -f "$WORK/results/test.result"
	built
	tree=$(find "$WORK/build" -mindepth 4 -maxdepth 4 -path "*/debian/tests/installed" | head -n 1)
	tree=${tree%/debian/tests/installed}
	[ -n "$tree" ] || die "no built source tree with debian/tests in $WORK/build"

	t0=$SECONDS
	base=$(base_tarball)
	say "chroot base $base ($((SECONDS - t0)) s)"
	ROOT=$(mktemp -d "$WORK/chroot.XXXXXX")
	trap chroot_cleanup EXIT
	tar -C "$ROOT" -xf "$base"
	chmod 0755 "$ROOT" # mktemp's 0700 (also in the tarball's "."): apt's _apt user must get in
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
	# As on a real machine: / is a mount point (unshare -m needs it), /proc, /dev, /sys, /run.
	mount --bind "$ROOT" "$ROOT"
	mount -t proc proc "$ROOT/proc"
	mount --rbind /dev "$ROOT/dev"
	mount --make-rslave "$ROOT/dev"
	mount -t sysfs sys "$ROOT/sys"
	mount -t tmpfs tmpfs "$ROOT/run"
	# Installing pcscd must not start a daemon in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
	printf '%s\n' "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
		"deb http://deb.debian.org/debian-security $SUITE-security main" >"$ROOT/etc/apt/sources.list"
	mkdir -p "$ROOT/root/debs" "$ROOT/root/src/tests" "$ROOT/root/src/debian"
	find "$WORK/build" -maxdepth 1 -name '*.deb' ! -name '*-dbgsym_*' -exec cp {} "$ROOT/root/debs/" \;
	cp "$tree/tests/rig.sh" "$ROOT/root/src/tests/"
	cp -a "$tree/debian/tests" "$ROOT/root/src/debian/"

	mapfile -t deps < <(test_depends "$ROOT/root/src/debian/tests/control")
	t0=$SECONDS
	say "installing ./*.deb and ${deps[*]} in the chroot, without Recommends as autopkgtest does (log: $WORK/chroot-install.log)"
	if ! {
		in_chroot apt-get -o Acquire::Languages=none update &&
			seed_apt_cache "${deps[@]}" &&
			in_chroot bash -c 'cd /root && apt-get install -y --no-install-recommends ./debs/*.deb "$@"' \
				apt "${deps[@]}"
	} >"$WORK/chroot-install.log" 2>&1 </dev/null; then
		tail -n 30 "$WORK/chroot-install.log"
		result test FAIL
		return 1
	fi
	grep -E '^(Need to get|[0-9]+ upgraded|seeded)' "$WORK/chroot-install.log" || true
	say "apt-get install in the chroot took $((SECONDS - t0)) s"
	in_chroot dpkg-query -W 'p11unlock*' p11-kit opensc pcscd vsmartcard-vpcd

	t0=$SECONDS
	{
		rc=0
		in_chroot bash -c 'cd /root/src && debian/tests/installed' </dev/null 2>&1 || rc=$?
		echo "$rc" >"$WORK/installed.rc"
	} | tee "$WORK/installed.tap"
	rc=$(cat "$WORK/installed.rc")
	say "debian/tests/installed exited $rc ($((SECONDS - t0)) s)"
	npass=$(grep -c -E '^ok [0-9]+' "$WORK/installed.tap" || true)
	nskip=$(grep -c -E '^ok [0-9]+.*# SKIP' "$WORK/installed.tap" || true)
	nfail=$(grep -c -E '^not ok [0-9]+' "$WORK/installed.tap" || true)
	npass=$((npass - nskip))
	if [ "$rc" = 77 ]; then
		echo "# SKIP: 1 (debian test: no namespaces)" >>"$WORK/results/test.result"
		echo "SKIP: debian test"
		rc=0
	else
		[ "$rc" = 0 ] || [ "$nfail" -gt 0 ] || nfail=1 # a bail-out or a short plan
		[ "$npass" -gt 0 ] && echo "# PASS: $npass (debian test)" >>"$WORK/results/test.result"
		[ "$nfail" -gt 0 ] && echo "# FAIL: $nfail (debian test)" >>"$WORK/results/test.result"
		[ "$nskip" -gt 0 ] && echo "# SKIP: $nskip (debian test)" >>"$WORK/results/test.result"
		if [ "$rc" = 0 ]; then echo "PASS: debian test ($npass passed)"; else echo "FAIL: debian test ($npass passed, $nfail failed)"; fi
	fi
	chroot_cleanup
	trap - EXIT
	say "test took $((SECONDS - start)) s (debootstrap or cache, apt, the test)"
	return "$rc"
}

# ----- cross: arm64 ----------------------------------------------------------------------------------
cmd_cross() {
	local d=$WORK/cross tree rc=0 start=$SECONDS t0 deb x f out
	need_root cross
	work_dirs
	rm -f "$WORK/results/cross.result"
	rm -rf "$d"
	mkdir -p "$d"
	tree=$(prepare_tree "$d")

	t0=$SECONDS
	if ! dpkg --print-foreign-architectures | grep -qx "$CROSS_ARCH"; then
		dpkg --add-architecture "$CROSS_ARCH"
	fi
	say "installing crossbuild-essential-$CROSS_ARCH and the :$CROSS_ARCH build dependencies (log: $d/deps.log)"
	if ! {
		apt-get update &&
			"${APT_GET[@]}" install --no-install-recommends "crossbuild-essential-$CROSS_ARCH" &&
			"${APT_GET[@]}" build-dep -a "$CROSS_ARCH" -P cross,nocheck,pkg.p11unlock.nogtk "$tree"
	} >"$d/deps.log" 2>&1; then
		tail -n 30 "$d/deps.log"
		result cross FAIL
		return 1
	fi
	grep -E '^(Inst|Setting up) ' "$d/deps.log" | grep -E ":$CROSS_ARCH|crossbuild" | sed 's/^/  /' | head -n 40 || true
	say "cross-build dependencies took $((SECONDS - t0)) s"

	t0=$SECONDS
	own "$d"
	(cd "$tree" && as_builder env DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
		dpkg-buildpackage -a"$CROSS_ARCH" -Pcross,nocheck,pkg.p11unlock.nogtk -us -uc -b) >"$d/build.log" 2>&1 || rc=$?
	say "cross-build took $((SECONDS - t0)) s (log: $d/build.log)"
	if [ $rc != 0 ]; then
		tail -n 40 "$d/build.log"
		result cross FAIL
		return 1
	fi
	(cd "$d" && ls -l ./*.deb)
	x=$d/extract
	for deb in "$d"/*_"$CROSS_ARCH".deb; do
		dpkg-deb -x "$deb" "$x"
	done
	for f in "$x"/usr/lib/*/pkcs11/p11unlock-pkcs11.so "$x"/usr/bin/p11unlock "$x"/usr/bin/p11unlock-vcard; do
		out=$(file -L "$f")
		echo "${out#"$x"}"
		grep -q 'ELF 64-bit LSB .*ARM aarch64' <<<"$out" || rc=1
	done
	grep -H . "$x"/usr/share/p11-kit/modules/p11unlock.module | sed "s|^$x||"
	if [ $rc = 0 ]; then result cross PASS; else result cross FAIL; fi
	say "cross took $((SECONDS - start)) s"
	return $rc
}

cmd_base() {
	need_root base
	work_dirs
	base_tarball
}

# The chroot's base is downloaded (debootstrap: network-bound) while the packages build
# (CPU-bound), then the cross-build, then the test in the chroot.
cmd_all() {
	local rc=0 start=$SECONDS base_pid=
	need_root all
	work_dirs
	rm -f "$WORK"/results/*.result
	(base_tarball >"$WORK/base.out" 2>&1) &
	base_pid=$!
	if cmd_build; then
		cmd_lintian || rc=1
	else
		rc=1
	fi
	cmd_cross || rc=1
	wait "$base_pid" || true
	cat "$WORK/base.out"
	if [ -f "$WORK/results/build.result" ] && grep -q PASS "$WORK/results/build.result"; then
		cmd_test || rc=1
	fi
	say "all steps took $((SECONDS - start)) s"
	"$top/scripts/summary.sh" "$WORK"/results/*.result
	return $rc
}

case "${1:-}" in
deps) cmd_deps ;;
build) cmd_build ;;
lintian) cmd_lintian ;;
test) cmd_test ;;
cross) cmd_cross ;;
base) cmd_base ;;
all) cmd_all ;;
*)
	sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
