#!/bin/bash
# bench/bench.sh full|quick: the benchmarks of issue 10, through the whole stack (client ->
# p11unlock-pkcs11.so -> private pcscd -> vpcd -> virtual cards answering after --latency-us).
# Prints numbers and writes bench/results/latest.json and latest.md (full; quick writes
# $BENCH_OUT, default a temporary directory, and only proves the benchmark still works).
# Asserts no timing; fails only when a job fails or the APDU counts differ between reruns.
# Needs root (the rig); run by `make bench` / `make bench-quick` with top_builddir set.
# See bench/README.md for the floors and what each number means.
set -euo pipefail
mode=${1:-quick}
case $mode in full | quick) ;; *) echo "usage: bench.sh full|quick" >&2 && exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(pwd)}"
export top_builddir P11U_VCARD="${P11U_VCARD:-$top_builddir/tools/vcard/p11unlock-vcard}"
vcard=$P11U_VCARD
module=$top_builddir/src/pkcs11/.libs/p11unlock-pkcs11.so
tool=$top_builddir/tools/p11unlock/p11unlock
raw=$top_builddir/bench/bench-raw
calls=$top_builddir/bench/bench-calls
softhsm=${BENCH_SOFTHSM:-/usr/lib/softhsm/libsofthsm2.so}
rig=$here/../tests/rig.sh
[ "$(id -u)" = 0 ] || { echo "bench.sh: needs root (private pcscd in namespaces)" >&2; exit 1; }

if [ "$mode" = full ]; then
	runs=7 latencies="0 20000" rate_s=1 rate_pairs=3 conc_s=4 cards_lat=20000
	out=${BENCH_OUT:-$here/results}
else
	runs=1 latencies="0" rate_s=0.05 rate_pairs=1 conc_s=0.5 cards_lat=0
	out=${BENCH_OUT:-}
fi
work=$(mktemp -d /tmp/p11u-bench.XXXXXX)
[ -n "$out" ] || out=$work/out
mkdir -p "$out"
trap '"$rig" stop "$work/rig" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
res=$work/results.tsv
: >"$res"
put() { printf '%s\t%s\n' "$1" "$2" >>"$res"; }

export PIN=123456 UC=Ab12cd34
export BENCH_PIN=$PIN BENCH_USER_CODE=$UC BENCH_NEW_PIN=$PIN
numbers=(XC00000000000001 XC00000000000002 XC00000000000003 XC00000000000004)
for i in 0 1 2 3; do
	"$vcard" create "$work/card$i.state" --card-number "${numbers[$i]}" >/dev/null
done
eval "$("$rig" start "$work/rig" --readers 2)"
export PCSCLITE_CSOCK_NAME
printf 'allow_test_cards = yes\n' >"$work/conf"
export P11UNLOCK_CONF=$work/conf P11UNLOCK_MODULE=$module LANG=C.UTF-8
# The module's cache of public card data (emptied for the cold counts).
export XDG_CACHE_HOME=$work/cache
unset LC_ALL LC_MESSAGES LANGUAGE
printf 'benchmark data\n' >"$work/data"

inserted=0 inserted_lat=
# cards N LATENCY_US: cards 0..N-1 in readers 0..N-1, answering after LATENCY_US (cards already
# there with that latency stay: every insertion costs pcscd's polling time).
cards() {
	local i
	if [ "$2" != "$inserted_lat" ]; then
		for ((i = 0; i < inserted; i++)); do "$rig" remove "$work/rig" "$i" >/dev/null; done
		inserted=0 inserted_lat=$2
	fi
	for ((i = inserted - 1; i >= $1; i--)); do "$rig" remove "$work/rig" "$i" >/dev/null; done
	for ((i = inserted; i < $1; i++)); do
		rm -f "$work/card$i.log" # a new `run` numbers its APDUs from 1 again
		"$rig" insert "$work/rig" "$i" "$work/card$i.state" --latency-us "$2" \
			--log "$work/card$i.log" >/dev/null
	done
	inserted=$1
}
# The number of the last APDU card I answered (its log numbers them since `run` started).
last_apdu() {
	local n
	n=$(grep '^apdu ' "$work/card$1.log" 2>/dev/null | tail -n 1 | sed 's/^apdu \([0-9]*\):.*/\1/')
	echo "${n:-0}"
}
# Three wrong PINs straight to the card in reader 0 (not counted: before the job starts).
lock_pin() {
	local i
	for i in 1 2 3; do opensc-tool -r 0 -s "80 20 00 01 06 39 39 39 39 39 39" >/dev/null; done
}

jobs_all="list sign unlock p11unlock serial"
job_cards() { [ "$1" = serial ] && echo 2 || echo 1; }
prepare() { case $1 in unlock | p11unlock | serial) lock_pin ;; esac; }
# module JOB: the job through the module, in a new process, as a holder's program runs it.
module_job() {
	case $1 in
	list) pkcs11-tool --module "$module" -L ;;
	sign) pkcs11-tool --module "$module" --login --pin env:PIN --sign -m SHA256-RSA-PKCS \
		--id 5349474e -i "$work/data" -o "$work/sig" ;;
	unlock) pkcs11-tool --module "$module" --login --login-type so --so-pin env:UC --init-pin \
		--new-pin env:PIN ;;
	p11unlock) printf '%s\n%s\n%s\n' "$UC" "$PIN" "$PIN" | "$tool" --serial "${numbers[0]}" ;;
	serial) printf '%s\n%s\n%s\n' "$UC" "$PIN" "$PIN" | "$tool" --serial "${numbers[0]}" ;;
	esac
}
# raw JOB: the job's floor sequence, sent by bench-raw.
raw_job() {
	case $1 in
	serial) "$raw" serial 0 1 ;;
	*) "$raw" "$1" 0 ;;
	esac
}
# apdus SIDE JOB: runs it once and prints the APDUs all inserted cards answered.
apdus() {
	local i before=() total=0
	prepare "$2"
	for ((i = 0; i < inserted; i++)); do before[i]=$(last_apdu "$i"); done
	"$1_job" "$2" >"$work/job.out" 2>&1 || { echo "bench.sh: $1 $2 failed:" >&2; cat "$work/job.out" >&2; exit 1; }
	for ((i = 0; i < inserted; i++)); do total=$((total + $(last_apdu "$i") - before[i])); done
	echo "$total"
}
# timed SIDE JOB: milliseconds of one run (the lock before it not included).
timed() {
	local t0 t1
	prepare "$2"
	t0=$(date +%s%N)
	"$1_job" "$2" >"$work/job.out" 2>&1 || { echo "bench.sh: $1 $2 failed:" >&2; cat "$work/job.out" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- APDUs per job vs the floor (the raw program's count is the floor) ---------------------------
echo "== APDUs per job (new process): cold = empty cache, module = warm cache, 3 reruns each;"
echo "   floor = what bench-raw sends"
printf '  %-10s %6s %8s %6s %7s\n' job cold module floor ratio
for job in $jobs_all; do
	cards "$(job_cards "$job")" 0
	rm -rf "$XDG_CACHE_HOME"
	cold=$(apdus module "$job")
	counts=()
	for _ in 1 2 3; do counts+=("$(apdus module "$job")"); done
	floor=$(apdus raw "$job")
	if [ "${counts[0]}" != "${counts[1]}" ] || [ "${counts[1]}" != "${counts[2]}" ]; then
		echo "bench.sh: $job: APDU counts differ between reruns: ${counts[*]}" >&2
		exit 1
	fi
	put "apdus.$job.module" "${counts[0]}"
	put "apdus.$job.cold" "$cold"
	put "apdus.$job.floor" "$floor"
	printf '  %-10s %6s %8s %6s %7s\n' "$job" "$cold" "${counts[0]}" "$floor" \
		"$(awk -v a="${counts[0]}" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')"
done
# Against the committed results: a change there is a change of the module (or of a floor).
if [ -f "$here/results/latest.json" ]; then
	python3 - "$here/results/latest.json" "$res" <<'PY'
import json, sys
old = json.load(open(sys.argv[1], encoding="utf-8")).get("apdus", {})
new = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2], encoding="utf-8"))
diff = [f"{j} {old[j][s]} -> {new[f'apdus.{j}.{s}']} ({s})" for j in old for s in ("module", "floor")
        if f"apdus.{j}.{s}" in new and str(old[j][s]) != new[f"apdus.{j}.{s}"]]
print("  against bench/results/latest.json: " + ("; ".join(diff) if diff else "the same counts"))
PY
fi
# Where the signature certificate's subject ends: the floor reads it with one 256-byte READ BINARY.
"$vcard" export "$work/card0.state" "$work/export" >/dev/null
# The sixth element of tbsCertificate ([0] version, serial, algorithm, issuer, validity, subject).
subject_end=$(openssl asn1parse -in "$work/export/signature.pem" |
	sed -n 's/^ *\([0-9]*\):d=2 *hl= *\([0-9]*\) *l= *\([0-9]*\).*/\1 \2 \3/p' |
	awk 'NR == 6 { print $1 + $2 + $3 }')
put "subject_end" "$subject_end"
echo "  (the signature certificate's subject ends at byte $subject_end of its slot)"

# --- module vs raw time, alternating runs, medians -------------------------------------------------
for lat in $latencies; do
	echo "== time, module vs raw, card latency $((lat / 1000)) ms per APDU, median of $runs alternating runs"
	printf '  %-10s %10s %10s %7s\n' job module_ms raw_ms ratio
	for job in $jobs_all; do
		cards "$(job_cards "$job")" "$lat"
		: >"$work/t.module"
		: >"$work/t.raw"
		for ((r = 0; r < runs; r++)); do
			if ((r % 2 == 0)); then order="module raw"; else order="raw module"; fi
			for side in $order; do timed "$side" "$job" >>"$work/t.$side"; done
		done
		m=$(median <"$work/t.module")
		w=$(median <"$work/t.raw")
		put "time.$((lat / 1000))ms.$job.module_ms" "$(awk -v v="$m" 'BEGIN { printf "%.1f", v / 1000 }')"
		put "time.$((lat / 1000))ms.$job.raw_ms" "$(awk -v v="$w" 'BEGIN { printf "%.1f", v / 1000 }')"
		printf '  %-10s %10.1f %10.1f %7.2f\n' "$job" "$(awk -v v="$m" 'BEGIN { print v / 1000 }')" \
			"$(awk -v v="$w" 'BEGIN { print v / 1000 }')" "$(awk -v a="$m" -v b="$w" 'BEGIN { print a / b }')"
	done
done

# --- in-process call rates vs SoftHSM2, and resident memory -----------------------------------------
if [ -f "$softhsm" ]; then
	export SOFTHSM2_CONF=$work/softhsm2.conf
	mkdir -p "$work/softhsm-tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$work/softhsm-tokens" >"$SOFTHSM2_CONF"
	softhsm2-util --init-token --free --label bench --pin "$PIN" --so-pin 12345678 >/dev/null
	sed -n 's/^sign_key=//p' "$work/card0.state" | xxd -r -p |
		openssl pkey -inform DER -out "$work/sign-key.pem"
	softhsm2-util --import "$work/sign-key.pem" --token bench --label SIGN --id 5349474e \
		--pin "$PIN" >/dev/null
	openssl x509 -in "$work/export/signature.pem" -outform DER -out "$work/sign.der"
	pkcs11-tool --module "$softhsm" --token-label bench --login --pin env:PIN \
		--write-object "$work/sign.der" --type cert --id 5349474e --label SIGN >/dev/null
	cards 1 0
	echo "== in-process calls per second (card latency 0), median of $rate_pairs alternating pairs"
	: >"$work/rates"
	for ((r = 0; r < rate_pairs; r++)); do
		for side in module softhsm; do
			lib=$module
			[ "$side" = softhsm ] && lib=$softhsm
			"$calls" rates "$lib" "$rate_s" | sed "s/^/$side /" >>"$work/rates"
		done
	done
	printf '  %-18s %12s %12s %7s\n' call module softhsm2 ratio
	for call in C_GetSessionInfo C_GetSlotInfo C_GetSlotList C_GetTokenInfo find+CKA_VALUE sign; do
		m=$(awk -v c="$call" '$1 == "module" && $2 == c { print $3 }' "$work/rates" | median)
		s=$(awk -v c="$call" '$1 == "softhsm" && $2 == c { print $3 }' "$work/rates" | median)
		put "rate.$call.module" "$m"
		put "rate.$call.softhsm2" "$s"
		printf '  %-18s %12.1f %12.1f %7.3f\n' "$call" "$m" "$s" "$(awk -v a="$m" -v b="$s" 'BEGIN { print a / b }')"
	done
	for side in module softhsm; do
		put "memory.$side.hwm_kb" "$(awk -v s="$side" '$1 == s && $2 == "hwm_kb" { print $3 }' "$work/rates" | median)"
	done
	echo "  peak resident memory (VmHWM) after those calls: module $(awk -F'\t' '$1 == "memory.module.hwm_kb" { print $2 }' "$res") kB," \
		"SoftHSM2 $(awk -F'\t' '$1 == "memory.softhsm.hwm_kb" { print $2 }' "$res") kB"
else
	echo "== SoftHSM2 not found ($softhsm): no call rates"
fi

# --- processes signing at once ---------------------------------------------------------------------
conc_lat=${latencies##* }
cards 1 "$conc_lat"
echo "== processes signing at once for ${conc_s} s each, card latency $((conc_lat / 1000)) ms"
printf '  %-6s %10s %7s %14s %22s\n' procs signs/s errors worst_wait_ms poll_worst_ms_errors
for procs in 1 2 4; do
	# A process polling C_GetSessionInfo + C_GetSlotInfo as NSS does, while the others sign.
	"$calls" poll "$module" "$conc_s" >"$work/poll" 2>&1 &
	pids=($!)
	for ((p = 0; p < procs; p++)); do
		"$calls" sign "$module" "$conc_s" >"$work/conc.$p" 2>&1 &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || true; done
	# Throughput over the union of the signing windows (the processes start one after another).
	signs=0 errors=0 worst=0 first='' last=''
	for ((p = 0; p < procs; p++)); do
		t1=''
		read -r _ s _ e _ w _ t0 _ t1 <"$work/conc.$p" || true
		if [ -z "$t1" ]; then
			echo "bench.sh: signer failed: $(cat "$work/conc.$p")" >&2
			exit 1
		fi
		signs=$((signs + s)) errors=$((errors + e))
		worst=$(awk -v a="$worst" -v b="$w" 'BEGIN { print (b > a) ? b : a }')
		first=$(awk -v a="${first:-$t0}" -v b="$t0" 'BEGIN { print (b < a) ? b : a }')
		last=$(awk -v a="${last:-$t1}" -v b="$t1" 'BEGIN { print (b > a) ? b : a }')
	done
	tput=$(awk -v n="$signs" -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", n / (b - a) }')
	put "concurrent.$procs.signs_per_s" "$tput"
	put "concurrent.$procs.errors" "$errors"
	put "concurrent.$procs.worst_wait_ms" "$worst"
	pw=''
	read -r _ _ _ pe _ pw <"$work/poll" || true
	if [ -z "$pw" ]; then
		echo "bench.sh: poller failed: $(cat "$work/poll")" >&2
		exit 1
	fi
	put "concurrent.$procs.poll_worst_ms" "$pw"
	put "concurrent.$procs.poll_errors" "$pe"
	printf '  %-6s %10s %7s %14s %22s\n' "$procs" "$tput" "$errors" "$worst" "$pw ($pe)"
done

# --- cold pkcs11-tool -L with 1, 2 and 4 cards -------------------------------------------------------
# A new process each time; with the cache emptied before each run, and with it warm.
echo "== cold pkcs11-tool -L (new process), card latency $((cards_lat / 1000)) ms, median of $runs"
printf '  %-8s %16s %16s\n' cards empty_cache_ms warm_cache_ms
for n in 1 2 4; do
	cards "$n" "$cards_lat"
	: >"$work/t.empty"
	: >"$work/t.warm"
	for ((r = 0; r < runs; r++)); do
		rm -rf "$XDG_CACHE_HOME"
		timed module list >>"$work/t.empty"
		timed module list >>"$work/t.warm"
	done
	empty=$(median <"$work/t.empty" | awk '{ printf "%.1f", $1 / 1000 }')
	warm=$(median <"$work/t.warm" | awk '{ printf "%.1f", $1 / 1000 }')
	put "cards.$n.list_empty_cache_ms" "$empty"
	put "cards.$n.list_ms" "$warm"
	printf '  %-8s %16s %16s\n' "$n" "$empty" "$warm"
done

# --- the result files ------------------------------------------------------------------------------
put mode "$mode"
put date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put machine "$(uname -srm), $(nproc) CPU ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$here/.." status --porcelain --untracked-files=no -- src tools 2>/dev/null)" ] ||
	commit="$commit (with uncommitted changes in src/ or tools/)"
put commit "$commit"
put settings "runs=$runs latencies_us=${latencies// /,} rate_s=$rate_s rate_pairs=$rate_pairs concurrent_s=$conc_s"
python3 "$here/bench-report.py" "$res" "$out/latest.json" "$out/latest.md"
echo "== wrote $out/latest.json and $out/latest.md ($SECONDS s)"
