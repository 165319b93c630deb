# tests/integration/gtk-lib.sh: the desktop window p11unlock-gtk under Xvfb, driven through the
# accessibility tree (AT-SPI) by gtk-driver.py.
# shellcheck shell=bash
#
# Source it after lib.sh and tool-lib.sh:
#   require_rig; require_tool; require_gtk
#   tool_setup; rig_up; locked_card 0 alice
#   gtk_up                          # Xvfb, a session bus with the accessibility bus
#   gtk_start [--lang zh_TW]        # the window, waits until it shows its card
#   gtk type "User code" "$USER_CODE"; gtk click "Unlock card / reset PIN"
#   gtk_step DESC ERE SHOT          # passes when the window comes to show ERE (a line of
#                                   # `gtk dump`: role|name|states), then saves SHOT.png
#   gtk_click_step DESC BUTTON ERE SHOT  # the same for a state that may show only briefly
# Screenshots go to $top_builddir/tests/artifacts/TEST/ (docs/screenshots/ holds copies).
# Every process started here (Xvfb, dbus-daemon, the window) is stopped by its PID.

: "${P11U_GTK:=$top_builddir/tools/p11unlock-gtk/p11unlock-gtk}"
GTK_DRIVER=$P11U_LIB_DIR/gtk-driver.py
GTK_PIDS=()
GTK_PID=

gtk_cleanup() {
	local pid
	for pid in "$GTK_PID" "${GTK_PIDS[@]}"; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	return 0
}

at_exit gtk_cleanup

# Debian's python3 (python3-gi, gir1.2-atspi-2.0 and Gdk 3 for the screenshots), whatever
# python3 comes first in PATH.
GTK_PYTHON=/usr/bin/python3

require_gtk() {
	[ -x "$P11U_GTK" ] || skip_all "p11unlock-gtk not built ($P11U_GTK; configure found no GTK 4?)"
	require_cmd Xvfb xvfb
	require_cmd dbus-daemon dbus
	[ -x /usr/libexec/at-spi-bus-launcher ] ||
		skip_all "at-spi-bus-launcher not found (Debian package at-spi2-core)"
	"$GTK_PYTHON" -c 'import gi; gi.require_version("Atspi", "2.0"); gi.require_version("Gdk", "3.0"); from gi.repository import Atspi, Gdk' 2>/dev/null ||
		skip_all "python3 AT-SPI bindings not found (Debian packages python3-gi gir1.2-atspi-2.0 python3-dogtail)"
}

# gtk_up: a private X server (Xvfb) and session bus; the accessibility bus is started by the
# session bus on the first request (at-spi2-core's D-Bus service).
gtk_up() {
	local display out
	exec 7>"$TEST_TMP/xvfb.display"
	Xvfb -displayfd 7 -screen 0 1000x900x24 -nolisten tcp -noreset \
		>"$TEST_TMP/xvfb.log" 2>&1 &
	GTK_PIDS+=($!)
	exec 7>&-
	for ((i = 0; i < 100; i++)); do
		display=$(cat "$TEST_TMP/xvfb.display")
		[ -n "$display" ] && break
		sleep 0.1
	done
	[ -n "$display" ] || bail_out "Xvfb did not start: $(tail -n 3 "$TEST_TMP/xvfb.log")"
	export DISPLAY=:$display
	out=$(dbus-daemon --session --fork --print-address=1 --print-pid=1) ||
		bail_out "no session bus (dbus-daemon)"
	export DBUS_SESSION_BUS_ADDRESS
	DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p <<<"$out")
	GTK_PIDS+=("$(sed -n 2p <<<"$out")")
	# GTK 4 on X11 without a GL driver of its own; its accessibility on AT-SPI.
	export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=atspi
	unset NO_AT_BRIDGE WAYLAND_DISPLAY
	GTK_ARTIFACTS=$top_builddir/tests/artifacts/$(basename "$0" .sh)
	mkdir -p "$GTK_ARTIFACTS"
}

# gtk CMD ARGS...: one command of gtk-driver.py (see there).
gtk() {
	"$GTK_PYTHON" "$GTK_DRIVER" "$@"
}

# shellcheck disable=SC2120 # the arguments are optional
# gtk_start [ARGS...]: p11unlock-gtk ARGS (the environment chooses the language); waits until
# the window shows (its Detect cards button, in either language).
gtk_start() {
	gtk_stop
	"$P11U_GTK" "$@" >>"$TEST_TMP/gtk.out" 2>>"$TEST_TMP/gtk.err" &
	GTK_PID=$!
	gtk wait '^push button\|(Detect cards|偵測卡片)\|' 30 >/dev/null ||
		bail_out "the window did not show: $(tail -n 3 "$TEST_TMP/gtk.err")"
}

gtk_stop() {
	[ -n "$GTK_PID" ] || return 0
	kill "$GTK_PID" 2>/dev/null && wait "$GTK_PID" 2>/dev/null
	GTK_PID=
}

# gtk_shot NAME: the window now, as $GTK_ARTIFACTS/NAME.png.
gtk_shot() {
	gtk shot "$GTK_ARTIFACTS/$1.png" || diag "no screenshot $1"
}

# gtk_step DESC ERE SHOT: one test, passes when a line of the window's tree matches ERE (20 s
# at most); then the screenshot SHOT.
gtk_step() {
	local out
	if out=$(gtk wait "$2"); then
		pass "$1"
	else
		fail "$1" "the window never showed /$2/; it shows:" "$out"
	fi
	gtk_shot "$3"
}

# gtk_click_step DESC BUTTON ERE SHOT: one test: presses BUTTON, passes when a node that appears
# afterwards matches ERE, however briefly (the driver listens to the tree's changes); the
# screenshot SHOT is taken right then.
gtk_click_step() {
	local out
	if out=$(gtk click-see "$2" "$3" 20 "$GTK_ARTIFACTS/$4.png"); then
		pass "$1"
	else
		fail "$1" "after $2 the window never showed /$3/; it shows:" "$(gtk dump)"
	fi
}

# gtk_fill USER_CODE NEW_PIN [AGAIN] (field names in the window's language: $F_CODE, ...).
gtk_fill() {
	gtk type "$F_CODE" "$1"
	gtk type "$F_PIN" "$2"
	gtk type "$F_AGAIN" "${3-$2}"
}

# gtk_lang en|zh_TW: the names of the window's fields and buttons in that language.
# shellcheck disable=SC2034 # for the tests that source this file
gtk_lang() {
	if [ "$1" = zh_TW ]; then
		F_CODE=用戶代碼 F_PIN=新的PIN碼 F_AGAIN=再次輸入新PIN碼 B_UNLOCK=鎖卡解碼/重設PIN碼
		B_CLEAR=重新輸入 B_OK=關閉 B_LAST_TRY=使用最後一次機會
	else
		F_CODE="User code" F_PIN="New PIN code" F_AGAIN="New PIN code again"
		B_UNLOCK="Unlock card / reset PIN" B_CLEAR=Re-enter B_OK=Close
		B_LAST_TRY="Use the last try"
	fi
}
