#!/bin/bash
# tests/rig.sh: an isolated PC/SC test rig (a private pcscd with vsmartcard vpcd
# readers, and p11unlock virtual cards in them).
#
# Usage (as root):
#   tests/rig.sh start DIR [--readers N]   start pcscd with N vpcd entries (2N readers, default
#                                          N=1, at most 8); prints the environment to export
#   tests/rig.sh env DIR                   print that environment again
#   tests/rig.sh insert DIR INDEX STATE [ARGS...]
#                                          run `p11unlock-vcard run STATE --port <port> ARGS...`
#                                          in reader INDEX and wait until pcscd sees the card
#   tests/rig.sh remove DIR INDEX          SIGTERM that card, wait until the reader is empty
#   tests/rig.sh wait DIR INDEX present|empty
#                                          wait until pcscd reports the reader in that state
#   tests/rig.sh readers DIR               one line per reader: INDEX PORT NAME
#   tests/rig.sh reader-name DIR INDEX     the PC/SC name of reader INDEX
#   tests/rig.sh stop DIR                  stop everything the rig started (by PID)
#
# Example:
#   sudo tests/rig.sh start /tmp/rig
#   export $(sudo tests/rig.sh env /tmp/rig)
#   sudo tests/rig.sh insert /tmp/rig 0 /tmp/card.state --log /tmp/card.log
#   opensc-tool -r 0 -s "80 A4 00 00 02 3F 00"
#   sudo tests/rig.sh stop /tmp/rig
#
# Why a namespace: vpcd listens on all interfaces, and a pcscd always serves
# /run/pcscd/pcscd.comm.  So the rig's pcscd and its cards live in their own
# mount and network namespace (held open by a `sleep` process): loopback is
# brought up there, DIR/run is bind-mounted on /run/pcscd, and vpcd's ports
# exist only inside.  Clients stay outside and reach the daemon through
# PCSCLITE_CSOCK_NAME=DIR/run/pcscd.comm.  Inside, the system's PC/SC driver
# directory is hidden under an empty tmpfs, so the rig's pcscd never grabs a
# real USB reader.  The system pcscd and /etc/reader.conf.d are not touched;
# the only trace outside DIR is an empty /run/pcscd directory, created (and
# left) when the machine has none, to serve as the mount point.
#
# Readers: vpcd config entry e (0..N-1) makes two readers on TCP ports
# BASE+2e and BASE+2e+1 (BASE = $P11U_RIG_PORT_BASE, default 0x9000 = 36864;
# the ports exist only inside the namespace, so parallel rigs never collide).
# Reader INDEX i is entry i/2, slot i%2, port BASE+i, and its PC/SC name is
#   entry 0:  "Virtual PCD 00 00" (i=0), "Virtual PCD 00 01" (i=1)
#   entry e:  "Virtual PCD e 00 00" (i=2e), "Virtual PCD e 00 01" (i=2e+1)
# (pcscd 1.9.9 names every vpcd entry "... 00 0s", so each entry needs its own
# FRIENDLYNAME).  pcscd lists the readers in INDEX order, so INDEX is also the
# reader number of `opensc-tool -r` and `pkcs11-tool --slot-index`-style lists.
# Each entry loads its own copy of the vpcd driver (DIR/ifd/): the driver keeps
# its sockets in a static array indexed by slot only, so two entries sharing
# one loaded copy would talk to the same card.
#
# Files in DIR: reader.conf.d/vpcd, readers, ifd/, run/ (pcscd.comm),
# pcscd.log, holder.log, *.pid ("PID STARTTIME", so a recycled PID is never
# killed), card-INDEX.out (the card's stdout/stderr).
#
# Environment: P11U_VCARD (the p11unlock-vcard binary; default
# $top_builddir/tools/vcard/p11unlock-vcard, then the source tree's own build
# or its _build/ (the quickstart's), then PATH), P11U_VPCD_DRIVER (libifdvpcd.so), P11U_PCSC_DRIVERS_DIR
# (hidden inside; default /usr/lib/pcsc/drivers), P11U_RIG_PORT_BASE,
# P11U_RIG_TIMEOUT (seconds to wait for pcscd/cards, default 15),
# P11U_RIG_PCSCD_ARGS (extra pcscd flags, e.g. "-d"; "-a" would log APDUs,
# PINs included).  Works from a chroot (unshare --propagation unchanged, then
# the rig makes its own mounts private; nsenter --root --wd).
set -euo pipefail

readonly PROG=rig.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly MAX_ENTRIES=8
PORT_BASE=$((${P11U_RIG_PORT_BASE:-0x9000}))
TIMEOUT=${P11U_RIG_TIMEOUT:-15}

die() {
	echo "$PROG: $*" >&2
	exit 1
}

usage() {
	sed -n '5,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# --- processes, remembered as "PID STARTTIME" -------------------------------

# Field 22 of /proc/PID/stat (start time in clock ticks); empty if gone or a zombie.
proc_starttime() {
	local stat fields
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# The fields after "(comm)": state is the first, start time the 20th.
	read -r -a fields <<<"${stat##*) }"
	[ "${fields[0]}" = Z ] && return 0
	echo "${fields[19]}"
}

save_pid() {
	local start
	start=$(proc_starttime "$2")
	[ -n "$start" ] || return 1
	echo "$2 $start" >"$1"
}

# Prints the PID recorded in FILE if that very process is still running.
live_pid() {
	local pid start
	[ -f "$1" ] || return 1
	read -r pid start <"$1" || return 1
	[ -n "$pid" ] && [ "$(proc_starttime "$pid")" = "$start" ] || return 1
	echo "$pid"
}

# SIGTERM the process recorded in FILE, SIGKILL after TIMEOUT; removes FILE.
stop_pid() {
	local pid i
	if pid=$(live_pid "$1"); then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < TIMEOUT * 10; i++)); do
			live_pid "$1" >/dev/null || break
			sleep 0.1
		done
		if live_pid "$1" >/dev/null; then
			echo "$PROG: PID $pid ignored SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$1"
}

# --- checks -------------------------------------------------------------------

require_root() {
	[ "$(id -u)" = 0 ] ||
		die "needs root (it creates a mount and network namespace); run it with sudo"
}

require_cmd() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd not found (Debian package $pkg)"
}

# DIR as an absolute path; the rig writes it into pcscd's config, so keep it plain.
rig_dir() {
	local dir=$1
	[ -n "$dir" ] || usage
	case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
	[[ $dir =~ ^[A-Za-z0-9._/+-]+$ ]] ||
		die "DIR must be a plain path (letters, digits, . _ / + -): $dir"
	echo "${dir%/}"
}

rig_started() {
	if ! live_pid "$1/holder.pid" >/dev/null || ! live_pid "$1/pcscd.pid" >/dev/null; then
		die "no rig running in $1 (tests/rig.sh start $1)"
	fi
}

find_pcscd() {
	local p
	for p in "${PCSCD:-}" "$(command -v pcscd 2>/dev/null || true)" /usr/sbin/pcscd /sbin/pcscd; do
		[ -n "$p" ] && [ -x "$p" ] && {
			echo "$p"
			return
		}
	done
	die "pcscd not found (Debian package pcscd)"
}

find_vpcd_driver() {
	local p
	for p in "${P11U_VPCD_DRIVER:-}" /usr/lib/pcsc/drivers/serial/libifdvpcd.so \
		/usr/lib64/pcsc/drivers/serial/libifdvpcd.so /usr/local/lib/pcsc/drivers/serial/libifdvpcd.so; do
		[ -n "$p" ] && [ -f "$p" ] && {
			echo "$p"
			return
		}
	done
	die "vpcd driver libifdvpcd.so not found (Debian package vsmartcard-vpcd)"
}

find_vcard() {
	local p
	for p in "${P11U_VCARD:-}" "${top_builddir:+$top_builddir/tools/vcard/p11unlock-vcard}" \
		"$SCRIPT_DIR/../tools/vcard/p11unlock-vcard" "$SCRIPT_DIR/../_build/tools/vcard/p11unlock-vcard" \
		"$(command -v p11unlock-vcard 2>/dev/null || true)"; do
		[ -n "$p" ] && [ -x "$p" ] && {
			(cd "$(dirname "$p")" && echo "$PWD/$(basename "$p")")
			return
		}
	done
	die "p11unlock-vcard not found: build it, or name it (sudo env P11U_VCARD=/path/to/p11unlock-vcard ...)"
}

# --- readers --------------------------------------------------------------------

# "INDEX PORT NAME" of reader INDEX, from DIR/readers.
reader_line() {
	local dir=$1 index=$2 line
	[[ $index =~ ^[0-9]+$ ]] || die "reader index must be a number: $index"
	line=$(awk -v i="$index" '$1 == i' "$dir/readers")
	[ -n "$line" ] || die "no reader $index in $dir (see tests/rig.sh readers $dir)"
	echo "$line"
}

reader_port() {
	local fields
	read -r -a fields <<<"$(reader_line "$@")"
	echo "${fields[1]}"
}

reader_name() {
	reader_line "$@" | cut -d' ' -f3-
}

# Whether pcscd reports a card in reader NAME: "yes", "no", or "missing" (no such
# reader, or pcscd not answering).  opensc-tool -l only asks for the reader
# states; it does not connect to the card.  OPENSC_CONF=/dev/null: OpenSC's
# built-in defaults, whatever configuration the caller's tests use.
card_state() {
	local dir=$1 name=$2
	PCSCLITE_CSOCK_NAME=$dir/run/pcscd.comm OPENSC_CONF=/dev/null opensc-tool -l 2>/dev/null |
		awk -v name="$name" '
			$1 ~ /^[0-9]+$/ && substr($0, length($0) - length(name) + 1) == name &&
			substr($0, length($0) - length(name), 1) == " " {
				print ($2 == "Yes" ? "yes" : "no"); found = 1; exit
			}
			END { if (!found) print "missing" }'
}

# Waits until reader INDEX is in STATE (present|empty); with CARD_PIDFILE set,
# fails early if that card process dies while waiting for "present".
wait_reader() {
	local dir=$1 index=$2 want=$3 name got i
	name=$(reader_name "$dir" "$index")
	case $want in
	present) want=yes ;;
	empty) want=no ;;
	*) usage ;;
	esac
	for ((i = 0; i < TIMEOUT * 10; i++)); do
		got=$(card_state "$dir" "$name")
		[ "$got" = "$want" ] && return 0
		if [ "$want" = yes ] && [ -n "${CARD_PIDFILE:-}" ] && ! live_pid "$CARD_PIDFILE" >/dev/null; then
			echo "$PROG: the card in reader $index exited; its output:" >&2
			tail -n 20 "$dir/card-$index.out" >&2 || true
			return 1
		fi
		sleep 0.1
	done
	echo "$PROG: reader $index ($name) is still \"$got\" after ${TIMEOUT}s, wanted \"$want\"" >&2
	return 1
}

# --- namespace ------------------------------------------------------------------

# Run by `unshare -m -n` as the namespace holder: arguments DIR DRIVERS_DIR.
# Mounts are made private first so that nothing propagates back to the host.
# `mount -n`: no /run/mount/utab bookkeeping on the host.
# shellcheck disable=SC2016
readonly HOLDER_SCRIPT='
set -eu
dir=$1 drivers=$2
mount -n --make-rprivate / 2>/dev/null || true
for target in /run/pcscd "$drivers"; do
	[ -e "$target" ] || continue
	mnt=$(findmnt -n -o TARGET --target "$target")
	case $(findmnt -n -o PROPAGATION --target "$target") in
	*shared*) mount -n --make-private "$mnt" ;;
	esac
	case $(findmnt -n -o PROPAGATION --target "$target") in
	*shared*) echo "cannot make $mnt private: refusing to mount on it" >&2; exit 1 ;;
	esac
done
ip link set lo up
mount -n --bind "$dir/run" /run/pcscd
if [ -d "$drivers" ]; then
	mount -n -t tmpfs -o mode=0755,size=64k p11u-rig "$drivers"
fi
: >"$dir/holder.ready"
exec sleep infinity
'

write_config() {
	local dir=$1 entries=$2 driver=$3 e name port
	: >"$dir/readers"
	: >"$dir/reader.conf.d/vpcd"
	for ((e = 0; e < entries; e++)); do
		port=$((PORT_BASE + 2 * e))
		if [ "$e" = 0 ]; then name="Virtual PCD"; else name="Virtual PCD $e"; fi
		cp "$driver" "$dir/ifd/libifdvpcd-$e.so"
		printf 'FRIENDLYNAME "%s"\nDEVICENAME /dev/null:0x%04X\nLIBPATH %s\nCHANNELID 0x%04X\n\n' \
			"$name" "$port" "$dir/ifd/libifdvpcd-$e.so" "$port" >>"$dir/reader.conf.d/vpcd"
		printf '%d %d %s 00 00\n%d %d %s 00 01\n' $((2 * e)) "$port" "$name" \
			$((2 * e + 1)) $((port + 1)) "$name" >>"$dir/readers"
	done
}

print_env() {
	echo "PCSCLITE_CSOCK_NAME=$1/run/pcscd.comm"
	echo "P11U_RIG_DIR=$1"
}

# Waits until pcscd answers on DIR/run/pcscd.comm and lists every reader.
wait_pcscd() {
	local dir=$1 want i have=0
	want=$(wc -l <"$dir/readers")
	for ((i = 0; i < TIMEOUT * 10; i++)); do
		live_pid "$dir/pcscd.pid" >/dev/null || break
		if [ -S "$dir/run/pcscd.comm" ]; then
			have=$(PCSCLITE_CSOCK_NAME=$dir/run/pcscd.comm OPENSC_CONF=/dev/null opensc-tool -l 2>/dev/null |
				grep -c '^[0-9]' || true)
			[ "$have" = "$want" ] && return 0
		fi
		sleep 0.1
	done
	echo "$PROG: pcscd did not come up with $want readers (it lists $have); pcscd.log:" >&2
	tail -n 20 "$dir/pcscd.log" >&2 || true
	return 1
}

cmd_start() {
	local dir entries=1 pcscd driver drivers holder i pcscd_args
	dir=$(rig_dir "${1:-}")
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--readers)
			[ $# -ge 2 ] || usage
			entries=$2
			shift 2
			;;
		--readers=*)
			entries=${1#--readers=}
			shift
			;;
		*) usage ;;
		esac
	done
	if ! [[ $entries =~ ^[0-9]+$ ]] || [ "$entries" -lt 1 ] || [ "$entries" -gt $MAX_ENTRIES ]; then
		die "--readers takes 1..$MAX_ENTRIES (vpcd entries; each makes two readers)"
	fi
	require_root
	require_cmd unshare util-linux
	require_cmd nsenter util-linux
	require_cmd findmnt util-linux
	require_cmd ip iproute2
	require_cmd opensc-tool opensc
	pcscd=$(find_pcscd)
	driver=$(find_vpcd_driver)
	drivers=${P11U_PCSC_DRIVERS_DIR:-/usr/lib/pcsc/drivers}
	if live_pid "$dir/holder.pid" >/dev/null; then
		die "a rig is already running in $dir (tests/rig.sh stop $dir)"
	fi

	mkdir -p "$dir/run" "$dir/reader.conf.d" "$dir/ifd"
	rm -f "$dir/holder.ready" "$dir/run/pcscd.comm" "$dir/run/pcscd.pid"
	write_config "$dir" "$entries" "$driver"
	# The mount point for DIR/run; a machine with pcscd installed has it already.
	[ -d /run/pcscd ] || mkdir -m 0755 /run/pcscd

	# setsid and no inherited stdio: the daemons must outlive this script
	# without holding the caller's terminal or $(...) pipe open.
	(cd / && exec setsid unshare -m -n --propagation unchanged -- \
		/bin/sh -c "$HOLDER_SCRIPT" holder "$dir" "$drivers" \
		</dev/null >"$dir/holder.log" 2>&1) &
	holder=$!
	for ((i = 0; i < TIMEOUT * 10; i++)); do
		[ -f "$dir/holder.ready" ] && break
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.05
	done
	if [ ! -f "$dir/holder.ready" ] || ! save_pid "$dir/holder.pid" "$holder"; then
		kill -KILL "$holder" 2>/dev/null || true
		cat "$dir/holder.log" >&2 || true
		die "could not set up the namespace"
	fi

	read -r -a pcscd_args <<<"${P11U_RIG_PCSCD_ARGS:-}"
	(exec setsid env -u LISTEN_FDS -u LISTEN_PID -u LISTEN_FDNAMES \
		nsenter -t "$holder" -m -n --root --wd=/ -- \
		"$pcscd" -f -c "$dir/reader.conf.d" "${pcscd_args[@]}" \
		</dev/null >"$dir/pcscd.log" 2>&1) &
	if ! save_pid "$dir/pcscd.pid" $! || ! wait_pcscd "$dir"; then
		cmd_stop "$dir" >/dev/null 2>&1 || true
		die "pcscd did not start"
	fi
	print_env "$dir"
}

cmd_env() {
	local dir
	dir=$(rig_dir "${1:-}")
	rig_started "$dir"
	print_env "$dir"
}

cmd_insert() {
	local dir index state port holder vcard
	[ $# -ge 3 ] || usage
	dir=$(rig_dir "$1")
	index=$2
	state=$3
	shift 3
	require_root
	rig_started "$dir"
	port=$(reader_port "$dir" "$index")
	vcard=$(find_vcard)
	[ -f "$state" ] || die "no card state file $state (p11unlock-vcard create $state)"
	if live_pid "$dir/card-$index.pid" >/dev/null; then
		die "reader $index already has a card (tests/rig.sh remove $dir $index)"
	fi
	holder=$(live_pid "$dir/holder.pid")
	echo "--- $(date '+%F %T') insert $state $*" >>"$dir/card-$index.out"
	# --wd=$PWD: relative STATE and --log paths work as the caller meant them.
	(exec setsid nsenter -t "$holder" -m -n --root --wd="$PWD" -- \
		"$vcard" run "$state" --port "$port" "$@" \
		</dev/null >>"$dir/card-$index.out" 2>&1) &
	save_pid "$dir/card-$index.pid" $! || {
		tail -n 20 "$dir/card-$index.out" >&2
		die "the card process exited at once"
	}
	CARD_PIDFILE=$dir/card-$index.pid wait_reader "$dir" "$index" present
}

cmd_remove() {
	local dir index
	[ $# -eq 2 ] || usage
	dir=$(rig_dir "$1")
	index=$2
	require_root
	rig_started "$dir"
	reader_line "$dir" "$index" >/dev/null
	stop_pid "$dir/card-$index.pid"
	wait_reader "$dir" "$index" empty
}

cmd_wait() {
	local dir
	[ $# -eq 3 ] || usage
	dir=$(rig_dir "$1")
	rig_started "$dir"
	wait_reader "$dir" "$2" "$3"
}

cmd_readers() {
	local dir
	dir=$(rig_dir "${1:-}")
	[ -f "$dir/readers" ] || die "no rig in $dir"
	cat "$dir/readers"
}

cmd_reader_name() {
	local dir
	[ $# -eq 2 ] || usage
	dir=$(rig_dir "$1")
	[ -f "$dir/readers" ] || die "no rig in $dir"
	reader_name "$dir" "$2"
}

cmd_stop() {
	local dir f
	dir=$(rig_dir "${1:-}")
	require_root
	[ -d "$dir" ] || return 0
	# Cards first (they are the vpcd clients), then the daemon, then the namespace.
	for f in "$dir"/card-*.pid; do
		[ -e "$f" ] && stop_pid "$f"
	done
	stop_pid "$dir/pcscd.pid"
	stop_pid "$dir/holder.pid"
	rm -f "$dir/holder.ready"
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	start) cmd_start "$@" ;;
	env) cmd_env "$@" ;;
	insert) cmd_insert "$@" ;;
	remove) cmd_remove "$@" ;;
	wait) cmd_wait "$@" ;;
	readers) cmd_readers "$@" ;;
	reader-name) cmd_reader_name "$@" ;;
	stop) cmd_stop "$@" ;;
	*) usage ;;
	esac
}

main "$@"
