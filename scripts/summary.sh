#!/usr/bin/env bash
# Turns automake's test-suite summary (from `make check` output, possibly several suites)
# into the single closing line CI reads: "N passed, N failed, N skipped".
set -euo pipefail
awk '
	/^# PASS:/  { pass += $3 }
	/^# SKIP:/  { skip += $3 }
	/^# XFAIL:/ { pass += $3 }
	/^# FAIL:/  { fail += $3 }
	/^# XPASS:/ { fail += $3 }
	/^# ERROR:/ { fail += $3 }
	END {
		if (pass + fail + skip == 0) fail = 1   # no test ran: that is a failure
		printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	}' "$@"
