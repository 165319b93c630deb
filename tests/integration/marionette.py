#!/usr/bin/env python3
"""A small Marionette client for driving a headless firefox-esr in the integration tests.

Only the Python standard library.  The protocol (what geckodriver speaks to Firefox):
each message is "<decimal length>:<JSON>"; Firefox greets a new connection with
{"applicationType": "gecko", "marionetteProtocol": 3}; a command is
[0, id, "Name", {params}] and its answer [1, id, error-or-null, result-or-null].

Used two ways:
  * as a library (Firefox, Marionette classes);
  * as a command-line tool, one Marionette session per call, so shell tests can
    drive one running Firefox step by step:

      marionette.py start DIR [--pref NAME=JSON]...   start Firefox with a fresh profile
                                                      in DIR/profile; writes DIR/firefox.pid
                                                      and DIR/marionette.port
      marionette.py stop DIR                          quit Firefox, kill it by PID if needed
      marionette.py DIR modules                       the loaded modules and their slots
      marionette.py DIR add-module NAME PATH          nsIPKCS11ModuleDB.addModule (Load)
      marionette.py DIR del-module NAME               nsIPKCS11ModuleDB.deleteModule (Unload)
      marionette.py DIR tokens                        every present token
      marionette.py DIR token NAME                    one token, or null
      marionette.py DIR wait-token NAME present|absent
      marionette.py DIR login NAME --pin-env VAR...   token.login(): Firefox's real PIN
                                                      prompt, answered with $VAR (one
                                                      --pin-env/--cancel per prompt; later
                                                      prompts are cancelled); --shot FILE.png
                                                      per prompt to photograph it filled in
      marionette.py DIR logout NAME
      marionette.py DIR change-password NAME --old-env VAR --new-env VAR
                                                      nsIPKCS11Token.changePassword
      marionette.py DIR change-password-dialog NAME --old-env VAR --new-env VAR
                                                      the Change Password dialog of Security
                                                      Devices, typed into; prints its alert;
                                                      --shot DIALOG.png --shot ALERT.png
                                                      photograph the filled dialog, the alert
      marionette.py DIR navigate URL [--pin-env VAR]  load URL in the tab (answering PIN
                                                      prompts); the page's URI, title, text
      marionette.py DIR screenshot FILE.png           PNG of the page in the tab
      marionette.py DIR device-manager FILE.png [--select TOKEN]
                                                      Security Devices: PNG, rows, details
      marionette.py DIR cert-manager FILE.png [--tab mine|people|ca] [--select TOKEN]
                    [--pin-env VAR]
                                                      Certificate Manager: PNG, the tab's
                                                      certificates (PIN prompts on opening
                                                      answered, by default cancelled)
      marionette.py DIR chrome SCRIPT                 async JavaScript in chrome context
                                                      (with the helpers below); prints the
                                                      JSON of its return value

Secrets (PINs, user codes) come from environment variables named on the command line,
never from argv.  Output is JSON on stdout; errors go to stderr with exit status 1
(2 for usage); `login` exits 3 when Firefox opened no PIN prompt.
"""

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time

DEFAULT_TIMEOUT = 60.0
# P11U_MARIONETTE_TRACE=1 prints each command's name on stderr.
TRACE = os.environ.get("P11U_MARIONETTE_TRACE") == "1"

# Preferences of the fresh profile: no first-run pages, no network use beyond what a test
# asks for, no update or telemetry, and client certificates chosen without a dialog
# ("Select Automatically": Firefox sends the first certificate the server's CA list matches).
PROFILE_PREFS = {
	"app.normandy.enabled": False,
	"app.update.disabledForTesting": True,
	"app.update.auto": False,
	"browser.aboutwelcome.enabled": False,
	"browser.newtabpage.enabled": False,
	"browser.region.network.url": "",
	"browser.safebrowsing.blockedURIs.enabled": False,
	"browser.safebrowsing.downloads.enabled": False,
	"browser.safebrowsing.malware.enabled": False,
	"browser.safebrowsing.phishing.enabled": False,
	"browser.safebrowsing.provider.mozilla.updateURL": "",
	"browser.search.update": False,
	"browser.shell.checkDefaultBrowser": False,
	"browser.startup.homepage": "about:blank",
	"browser.startup.homepage_override.mstone": "ignore",
	"browser.startup.page": 0,
	"browser.tabs.warnOnClose": False,
	"datareporting.healthreport.uploadEnabled": False,
	"datareporting.policy.dataSubmissionEnabled": False,
	"extensions.getAddons.cache.enabled": False,
	"extensions.update.enabled": False,
	"network.captive-portal-service.enabled": False,
	"network.connectivity-service.enabled": False,
	"network.dns.disablePrefetch": True,
	"network.prefetch-next": False,
	"security.default_personal_cert": "Select Automatically",
	"services.settings.server": "data:,#remote-settings-disabled",
	"startup.homepage_welcome_url": "about:blank",
	"toolkit.telemetry.enabled": False,
	"toolkit.telemetry.reportingpolicy.firstRun": False,
}


class MarionetteError(Exception):
	"""An error answer from Marionette, or a broken connection."""


class PromptMissing(MarionetteError):
	"""A command expected a Firefox prompt that never appeared."""


class PromptOpen(MarionetteError):
	"""Marionette refused a command because a prompt is open on the current window."""


class ScriptInterrupted(PromptOpen):
	"""A script ended without a value: a prompt opened while it ran (WebDriver then returns
	null for it)."""


class Marionette:
	"""One TCP connection and one WebDriver session."""

	def __init__(self, port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT):
		self.timeout = timeout
		self.sock = socket.create_connection((host, port), timeout=timeout)
		self.buf = b""
		self.next_id = 1
		hello = self._receive()
		if not isinstance(hello, dict) or hello.get("marionetteProtocol") != 3:
			raise MarionetteError("unexpected greeting: %r" % (hello,))
		# Marionette takes the capabilities as the parameters themselves (geckodriver unwraps
		# alwaysMatch before it forwards them).
		self.command("WebDriver:NewSession", {
			"acceptInsecureCerts": False,
			# The tests answer Firefox's prompts themselves (a PIN prompt is no WebDriver alert).
			"unhandledPromptBehavior": "ignore",
			"timeouts": {"script": int(timeout * 1000)},
		})
		# The browser window, where a session starts: the scripts' home window.
		self.set_context("chrome")
		self.main = self.command("WebDriver:GetWindowHandle")
		if isinstance(self.main, dict):
			self.main = self.main.get("value")

	def close(self):
		try:
			self.command("WebDriver:DeleteSession", {})
		except (MarionetteError, OSError):
			pass
		self.sock.close()

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()

	def _receive(self):
		while True:
			colon = self.buf.find(b":")
			if colon > 0:
				length = int(self.buf[:colon])
				if len(self.buf) >= colon + 1 + length:
					body = self.buf[colon + 1:colon + 1 + length]
					self.buf = self.buf[colon + 1 + length:]
					return json.loads(body.decode("utf-8"))
			elif colon == 0 or len(self.buf) > 20:
				raise MarionetteError("bad frame from Firefox")
			chunk = self.sock.recv(65536)
			if not chunk:
				raise MarionetteError("Firefox closed the Marionette connection")
			self.buf += chunk

	def command(self, name, params=None):
		msg_id = self.next_id
		self.next_id += 1
		data = json.dumps([0, msg_id, name, params or {}]).encode("utf-8")
		if TRACE:
			# Commands only: arguments may hold secrets.
			print("marionette.py: -> %s" % name, file=sys.stderr)
		self.sock.sendall(str(len(data)).encode("ascii") + b":" + data)
		while True:
			reply = self._receive()
			if isinstance(reply, list) and len(reply) == 4 and reply[0] == 1 and reply[1] == msg_id:
				break
		if reply[2]:
			err = reply[2]
			error = PromptOpen if err.get("error") == "unexpected alert open" else MarionetteError
			raise error("%s: %s: %s" % (name, err.get("error"), err.get("message")))
		return reply[3]

	def switch_to(self, handle):
		self.command("WebDriver:SwitchToWindow", {"handle": handle, "focus": False})

	def set_context(self, context):
		self.command("Marionette:SetContext", {"value": context})

	def execute(self, script, args=None, sandbox="p11unlock"):
		"""Runs SCRIPT (a function body; `arguments` holds ARGS), returns its value."""
		result = self.command("WebDriver:ExecuteScript", {
			"script": script, "args": args or [], "sandbox": sandbox})
		return result.get("value") if isinstance(result, dict) else result

	def execute_async(self, script, args=None, sandbox="p11unlock"):
		"""Runs SCRIPT, which calls arguments[arguments.length - 1](value) when done."""
		result = self.command("WebDriver:ExecuteAsyncScript", {
			"script": script, "args": args or [], "sandbox": sandbox})
		return result.get("value") if isinstance(result, dict) else result

	def navigate(self, url):
		self.command("WebDriver:Navigate", {"url": url})

	def screenshot_png(self, full=True):
		result = self.command("WebDriver:TakeScreenshot", {"full": full, "hash": False})
		value = result.get("value") if isinstance(result, dict) else result
		return base64.b64decode(value)


# --- chrome-context JavaScript --------------------------------------------------
#
# Everything below runs with chrome privileges inside Firefox.  One script prefix holds
# the helpers the commands share, so each command stays a few lines.

JS_HELPERS = r"""
const moduleDB = Cc["@mozilla.org/security/pkcs11moduledb;1"].getService(Ci.nsIPKCS11ModuleDB);
// State that outlives a script, a window switch and a Marionette session: the global every
// Firefox system module shares.
const shared = Cu.getGlobalForObject(Services);
shared.p11u ??= {};

function tryGet(f) {
	try {
		return f();
	} catch (e) {
		return null;
	}
}

// An XPCOM exception as a test can compare it: the NSS error name when it is one
// (SEC_ERROR_BAD_PASSWORD...), else the XPCOM name; the nsresult; NSS's message.
function errorInfo(e) {
	const nss = Cc["@mozilla.org/nss_errors_service;1"].getService(Ci.nsINSSErrorsService);
	const result = e?.result;
	return {
		name: (result && tryGet(() => nss.getErrorName(result))) || e?.name || String(e),
		result: result >>> 0,
		message: result ? tryGet(() => nss.getErrorMessage(result)) : String(e?.message ?? e),
	};
}

async function modules() {
	const list = [];
	for (const m of await moduleDB.listModules()) {
		const slots = [];
		for (const s of m.slots) {
			slots.push({name: s.name, desc: tryGet(() => s.desc), status: tryGet(() => s.status),
				tokenName: tryGet(() => s.tokenName)});
		}
		list.push({name: m.name, libName: m.libName, slots: slots});
	}
	return list;
}

function tokenInfo(t) {
	return {
		name: t.tokenName,
		manufacturer: tryGet(() => t.tokenManID),
		serial: tryGet(() => t.tokenSerialNumber),
		hwVersion: tryGet(() => t.tokenHWVersion),
		fwVersion: tryGet(() => t.tokenFWVersion),
		isInternal: tryGet(() => t.isInternalKeyToken),
		isLoggedIn: tryGet(() => t.isLoggedIn),
		hasPassword: tryGet(() => t.hasPassword),
		canHavePassword: tryGet(() => t.canHavePassword),
	};
}

// Every present token: [{module, slot, token info...}].
async function tokens() {
	const list = [];
	for (const m of await moduleDB.listModules()) {
		for (const s of m.slots) {
			if (tryGet(() => s.status) === Ci.nsIPKCS11Slot.SLOT_NOT_PRESENT)
				continue;
			const t = tryGet(() => s.getToken());
			if (t)
				list.push(Object.assign({module: m.name, slot: s.name}, tokenInfo(t)));
		}
	}
	return list;
}

async function findToken(name) {
	for (const m of await moduleDB.listModules()) {
		for (const s of m.slots) {
			if (tryGet(() => s.status) === Ci.nsIPKCS11Slot.SLOT_NOT_PRESENT)
				continue;
			const t = tryGet(() => s.getToken());
			if (t && t.tokenName === name)
				return t;
		}
	}
	return null;
}

async function requireToken(name) {
	const t = await findToken(name);
	if (!t)
		throw new Error("no token named " + JSON.stringify(name));
	return t;
}

// Runs FN, which may block in a nested event loop while a prompt is open, from a runnable;
// its outcome lands in shared.p11u[KEY] for later scripts (and sessions) to read.
function startBlocking(key, fn) {
	shared.p11u[key] = {state: "pending"};
	Services.tm.dispatchToMainThread(() => {
		try {
			const value = fn();
			shared.p11u[key] = {state: "done", ok: true, value: value ?? null};
		} catch (e) {
			shared.p11u[key] = {state: "done", ok: false, error: errorInfo(e)};
		}
	});
}

// Firefox's prompts (the PIN prompt, alerts) are answered from inside Firefox, by an observer
// of "common-dialog-loaded", not through Marionette: while the PIN prompt of a TLS client
// authentication is open, Firefox's socket thread waits for it, and Marionette's own
// connection runs on that thread.  armPrompts(ANSWERS, CAPTURE): each prompt asking for a
// password gets the next answer typed in and OK pressed (null: Cancel; once ANSWERS run out,
// Cancel); a prompt without a password field (an alert) gets OK.  With CAPTURE, each prompt is
// photographed (as filled in) before its button is pressed, for the same reason from inside
// Firefox.  disarmPrompts() stops it, forgets the answers left, and returns what the prompts
// said: [{text, action, png (base64, with CAPTURE)}].
function promptText(doc) {
	return doc.getElementById("infoBody")?.textContent ?? "";
}

// A PNG (base64) of chrome window WIN as drawn, the way Marionette photographs chrome windows.
async function snapshotWindow(win) {
	await win.document.fonts.ready;
	// Two frames: the dialog sizes itself to its content once loaded.
	for (let i = 0; i < 2; i++)
		await new Promise((r) => win.requestAnimationFrame(r));
	const bitmap = await win.browsingContext.currentWindowGlobal.drawSnapshot(
		new win.DOMRect(0, 0, win.innerWidth, win.innerHeight), win.devicePixelRatio,
		"rgb(255,255,255)");
	const canvas = win.document.createElementNS("http://www.w3.org/1999/xhtml", "canvas");
	canvas.width = bitmap.width;
	canvas.height = bitmap.height;
	canvas.getContext("2d").drawImage(bitmap, 0, 0);
	bitmap.close();
	return canvas.toDataURL("image/png").replace(/^data:image\/png;base64,/, "");
}

// Fills in prompt WIN with ANSWER and presses its button; ENTRY ({text}) gets the action and,
// with CAPTURE, the PNG.
function answerPromptIn(win, answer, entry, capture) {
	const doc = win.document;
	const dialog = doc.getElementById("commonDialog");
	const asksPassword = !doc.getElementById("password1Container").hidden;
	entry.action = "ok";
	if (asksPassword && answer === null) {
		entry.action = "cancel";
	} else if (asksPassword) {
		const field = doc.getElementById("password1Textbox");
		field.value = answer;
		field.dispatchEvent(new win.Event("input", {bubbles: true}));
		entry.action = "password";
	}
	const press = () => (entry.action === "cancel" ? dialog.cancelDialog() : dialog.acceptDialog());
	// The observer runs inside the dialog's load: press the button once that is over.
	win.setTimeout(async () => {
		if (capture) {
			try {
				entry.png = await snapshotWindow(win);
			} catch (e) {
				entry.png_error = String(e?.message ?? e);
			}
		}
		press();
	}, 0);
}

function armPrompts(answers, capture = false) {
	disarmPrompts();
	const armed = {answers: answers.slice(), prompts: []};
	armed.observer = {
		observe(win) {
			const doc = win.document;
			if (!doc?.getElementById("commonDialog"))
				return;
			const asksPassword = !doc.getElementById("password1Container").hidden;
			const answer = asksPassword && armed.answers.length ? armed.answers.shift() : null;
			const entry = {text: promptText(doc)};
			armed.prompts.push(entry);
			answerPromptIn(win, answer, entry, capture);
		},
	};
	Services.obs.addObserver(armed.observer, "common-dialog-loaded");
	shared.p11u.armed = armed;
}

function disarmPrompts() {
	const armed = shared.p11u.armed;
	if (!armed)
		return [];
	Services.obs.removeObserver(armed.observer, "common-dialog-loaded");
	armed.answers.fill("");
	delete shared.p11u.armed;
	return armed.prompts;
}

function browserWindow() {
	return Services.wm.getMostRecentWindow("navigator:browser");
}
"""


def js(body):
	"""A chrome script: the helpers, then BODY inside an async function whose value is returned."""
	return (JS_HELPERS + "\nconst resolve = arguments[arguments.length - 1];\n"
		"(async () => {\n" + body + "\n})().then((v) => resolve({ok: v}),"
		" (e) => resolve({error: String(e && e.message || e)}));")


def proc_stat(pid):
	"""(state, session id, start time) of process PID from /proc, or None."""
	try:
		with open("/proc/%d/stat" % pid) as f:
			fields = f.read().rsplit(")", 1)[1].split()
	except (OSError, IndexError):
		return None
	# After "(comm)": state is field 3, session field 6, starttime field 22.
	return fields[0], int(fields[3]), int(fields[19])


class Firefox:
	"""A firefox-esr process with a fresh profile, under DIR."""

	def __init__(self, workdir):
		self.dir = os.path.abspath(workdir)
		self.profile = os.path.join(self.dir, "profile")
		self.pid_file = os.path.join(self.dir, "firefox.pid")
		self.port_file = os.path.join(self.dir, "marionette.port")
		self.log_file = os.path.join(self.dir, "firefox.log")

	@staticmethod
	def free_port():
		with socket.socket() as s:
			s.bind(("127.0.0.1", 0))
			return s.getsockname()[1]

	def write_profile(self, port, extra_prefs):
		os.makedirs(self.profile, exist_ok=True)
		prefs = dict(PROFILE_PREFS)
		prefs.update(extra_prefs)
		prefs["marionette.port"] = port
		with open(os.path.join(self.profile, "user.js"), "w", encoding="utf-8") as f:
			for name in sorted(prefs):
				f.write("user_pref(%s, %s);\n" % (json.dumps(name), json.dumps(prefs[name])))

	def start(self, binary="firefox-esr", extra_prefs=None, timeout=DEFAULT_TIMEOUT):
		os.makedirs(self.dir, exist_ok=True)
		port = self.free_port()
		self.write_profile(port, extra_prefs or {})
		home = os.path.join(self.dir, "home")
		os.makedirs(home, exist_ok=True)
		env = dict(os.environ)
		# A private HOME and cache: Firefox leaves the user's ~/.mozilla alone.
		env.update({"HOME": home, "XDG_CACHE_HOME": os.path.join(home, ".cache"),
			"XDG_CONFIG_HOME": os.path.join(home, ".config"),
			"MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1",
			"MOZ_DISABLE_AUTO_SAFE_MODE": "1"})
		env.pop("DISPLAY", None)
		env.pop("WAYLAND_DISPLAY", None)
		with open(self.log_file, "ab") as log:
			proc = subprocess.Popen(
				[binary, "-headless", "-marionette", "-remote-allow-system-access",
				 "-no-remote", "-profile", self.profile, "about:blank"],
				stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
				start_new_session=True)
		with open(self.pid_file, "w") as f:
			f.write("%d %s\n" % (proc.pid, proc_stat(proc.pid)[2]))
		with open(self.port_file, "w") as f:
			f.write("%d\n" % port)
		deadline = time.monotonic() + timeout
		while True:
			if proc.poll() is not None:
				raise MarionetteError("Firefox exited with status %d (see %s)"
					% (proc.returncode, self.log_file))
			try:
				with Marionette(port, timeout=10):
					return proc.pid
			except (OSError, MarionetteError):
				if time.monotonic() > deadline:
					self.kill()
					raise MarionetteError("Marionette did not answer on port %d within %ds"
						% (port, timeout))
				time.sleep(0.5)

	def port(self):
		with open(self.port_file) as f:
			return int(f.read())

	def recorded(self):
		"""(PID, start time) of the Firefox started here, or None."""
		try:
			with open(self.pid_file) as f:
				pid, start = f.read().split()
				return int(pid), int(start)
		except (OSError, ValueError):
			return None

	def processes(self):
		"""Firefox and its child processes still running: the processes of the session it
		leads (started with start_new_session), none older than Firefox itself."""
		rec = self.recorded()
		if rec is None:
			return []
		pid, start = rec
		found = []
		for entry in os.listdir("/proc"):
			if entry.isdigit():
				stat = proc_stat(int(entry))
				if stat and stat[0] != "Z" and stat[1] == pid and stat[2] >= start:
					found.append(int(entry))
		return found

	def kill(self, grace=10.0):
		"""Quits Firefox through Marionette, then SIGTERM, then SIGKILL, by PID: Firefox and
		the processes of its session."""
		if self.recorded() is None:
			return
		if self.processes():
			try:
				with Marionette(self.port(), timeout=5) as m:
					m.command("Marionette:Quit", {"flags": ["eForceQuit"]})
			except (OSError, MarionetteError, ValueError):
				pass
		for sig in (None, signal.SIGTERM, signal.SIGKILL):
			if sig is not None:
				for pid in self.processes():
					try:
						os.kill(pid, sig)
					except ProcessLookupError:
						pass
			deadline = time.monotonic() + grace
			while self.processes() and time.monotonic() < deadline:
				time.sleep(0.2)
			if not self.processes():
				break
			grace = 5.0
		try:
			os.waitpid(self.recorded()[0], os.WNOHANG)
		except ChildProcessError:
			pass
		os.unlink(self.pid_file)

	def connect(self, timeout=DEFAULT_TIMEOUT):
		return Marionette(self.port(), timeout=timeout)


def run_chrome(m, body, args=None):
	"""Runs BODY (async JavaScript using JS_HELPERS) in the current chrome window."""
	m.set_context("chrome")
	result = m.execute_async(js(body), args)
	if result is None:
		raise ScriptInterrupted("a prompt opened while a script ran")
	if not isinstance(result, dict):
		raise MarionetteError("unexpected script result %r" % (result,))
	if "error" in result:
		raise MarionetteError(result["error"])
	return result.get("ok")


def each_window(m, body, args=None):
	"""Runs BODY in every chrome window: [(handle, value)].

	A window with a prompt open on it refuses scripts (Marionette reports "unexpected alert
	open" whatever the session's prompt behaviour); its value is None.  The prompt itself is
	a window of its own, where scripts run.  Ends in the browser window."""
	m.set_context("chrome")
	results = []
	for handle in m.command("WebDriver:GetWindowHandles"):
		try:
			m.switch_to(handle)
			results.append((handle, run_chrome(m, body, args)))
		except PromptOpen:
			results.append((handle, None))
		except MarionetteError:
			# The window closed between the listing and the switch.
			pass
	m.switch_to(m.main)
	return results


def poll(m, body, args, until, timeout, what):
	"""Runs BODY in the browser window until UNTIL(value) holds; returns that value.
	Marionette refuses scripts while a prompt is open there: such a round is just retried."""
	deadline = time.monotonic() + timeout
	while True:
		try:
			value = run_chrome(m, body, args)
			if until(value):
				return value
		except PromptOpen:
			pass
		if time.monotonic() > deadline:
			raise MarionetteError("%s: not done within %ds" % (what, timeout))
		time.sleep(0.2)


def save_prompt_shots(prompts, shots):
	"""Writes the PNG of the Nth prompt (armPrompts with CAPTURE) to SHOTS[N], as many as both
	lists have, and drops the pictures from PROMPTS (they are no output)."""
	for i, prompt in enumerate(prompts):
		png = prompt.pop("png", None)
		if i < len(shots):
			if png is None:
				raise MarionetteError("no picture of prompt %d: %s" % (i + 1, prompt.get("png_error")))
			write_png(shots[i], base64.b64decode(png))


def write_png(path, data):
	with open(path, "wb") as f:
		f.write(data)


def run_answering(m, start_body, args, job, answers, timeout, window=None, shots=()):
	"""Arms the prompt answers (see armPrompts), runs START_BODY (in chrome window WINDOW, by
	default the browser window), which starts the blocking call JOB (startBlocking), waits
	for JOB to end, disarms.  Returns JOB's outcome with "prompts": what each prompt said and
	what was done to it.  SHOTS: files for PNGs of the prompts, in the order they opened."""
	run_chrome(m, "delete shared.p11u[arguments[1]]; armPrompts(arguments[0], arguments[2]);"
		" return true;", [answers, job, bool(shots)])
	try:
		if window is not None:
			m.switch_to(window)
		try:
			run_chrome(m, start_body, args)
		except ScriptInterrupted:
			# JOB's prompt opened before the script's value got back: JOB has started.
			pass
		finally:
			# WINDOW may close once JOB is over: wait from the browser window.
			m.switch_to(m.main)
		state = poll(m, "return shared.p11u[arguments[0]];", [job],
			lambda s: s is not None and s["state"] == "done", timeout, job)
	finally:
		prompts = poll(m, "return disarmPrompts();", None, lambda p: True, timeout, "disarm")
	save_prompt_shots(prompts, shots)
	return {"ok": state["ok"], "error": state.get("error"), "prompts": prompts}


def login(m, token, answers, timeout, shots=()):
	"""token.login() as Security Devices' Log In button does: Firefox opens its PIN prompt,
	which gets ANSWERS (see armPrompts), photographed into SHOTS as filled in.  Raises
	PromptMissing if no prompt appeared."""
	out = run_answering(m, """
		const t = await requireToken(arguments[0]);
		startBlocking("login", () => t.login());
		return true;
	""", [token], "login", answers, timeout, shots=shots)
	if not out["prompts"]:
		raise PromptMissing("token.login() returned without a PIN prompt: %r" % (out,))
	return out


def wait_window(m, uri, ready_js, timeout):
	"""The handle of the chrome window showing URI once READY_JS (an expression) holds there."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		for handle, probe in each_window(m, "return {uri: document.documentURI, ready: "
				"document.readyState === 'complete' && !!(" + ready_js + ")};"):
			if probe and probe["uri"] == uri and probe["ready"]:
				return handle
		time.sleep(0.2)
	raise MarionetteError("no window %s within %ds" % (uri, timeout))


CHANGE_PASSWORD = "chrome://pippki/content/changepassword.xhtml"


def change_password_dialog(m, token, old, new, timeout, shots=()):
	"""Change Password the way a user does it from Security Devices: the dialog opens for the
	token, the three fields are typed, OK is pressed.  Firefox reports the outcome in an
	alert, which is read and closed.  SHOTS: files for PNGs of the dialog as filled in, then
	of the alert.  Returns {"alert": text, "dialog_closed": bool}."""
	run_chrome(m, """
		const t = await requireToken(arguments[0]);
		const params = Cc["@mozilla.org/embedcomp/dialogparam;1"]
			.createInstance(Ci.nsIDialogParamBlock);
		const objects = Cc["@mozilla.org/array;1"].createInstance(Ci.nsIMutableArray);
		objects.appendElement(t);
		params.objects = objects;
		browserWindow().openDialog(arguments[1], "", "chrome,centerscreen", params);
		return true;
	""", [token, CHANGE_PASSWORD])
	handle = wait_window(m, CHANGE_PASSWORD, "document.getElementById('pw1')", timeout)
	m.switch_to(handle)
	run_chrome(m, """
		const type = (id, value) => {
			const field = document.getElementById(id);
			field.value = value;
			field.dispatchEvent(new Event("input", {bubbles: true}));
		};
		type("oldpw", arguments[0]);
		type("pw1", arguments[1]);
		type("pw2", arguments[1]);
		return true;
	""", [old, new])
	if shots:
		write_png(shots[0], m.screenshot_png(full=False))
	m.switch_to(m.main)
	# OK runs token.changePassword(), then an alert with the outcome: both block.
	out = run_answering(m, """
		startBlocking("changepw", () => document.getElementById("set_password").acceptDialog());
		return true;
	""", None, "changepw", [], timeout, window=handle, shots=shots[1:])
	left = [h for h, uri in each_window(m, "return document.documentURI;") if uri == CHANGE_PASSWORD]
	for h in left:
		# A failed change leaves the dialog open, as it does for a user: cancel it.
		m.switch_to(h)
		run_chrome(m, "setTimeout(() => document.getElementById('set_password')"
			".cancelDialog(), 0); return true;")
		m.switch_to(m.main)
	alerts = [p["text"] for p in out["prompts"]]
	return {"alert": alerts[0] if len(alerts) == 1 else alerts, "dialog_closed": not left}


def chrome_dialog(m, uri, name, ready_js, path, body, args, timeout, answers=None):
	"""Opens the chrome dialog URI (window name NAME) as Firefox's preferences do, waits until
	READY_JS holds there, runs BODY (ARGS) in it, saves a PNG of it to PATH, closes it.
	Returns BODY's value.  With ANSWERS (a list), the prompts the dialog opens while it loads
	get them (see armPrompts); the value is then {"shown": BODY's value, "prompts": [...]}."""
	if answers is not None:
		run_chrome(m, "armPrompts(arguments[0]); return true;", [answers])
	try:
		run_chrome(m, """
			browserWindow().openDialog(arguments[0], arguments[1],
				"chrome,resizable,dialog=no,width=960,height=600");
			return true;
		""", [uri, name])
		handle = wait_window(m, uri, ready_js, timeout)
		m.switch_to(handle)
		# Wide enough for slot and certificate names in the panes.
		m.command("WebDriver:SetWindowRect", {"width": 1280, "height": 460})
		shown = run_chrome(m, body, args)
		write_png(path, m.screenshot_png(full=False))
		run_chrome(m, "setTimeout(() => window.close(), 0); return true;")
		m.switch_to(m.main)
	finally:
		if answers is not None:
			prompts = poll(m, "return disarmPrompts();", None, lambda p: True, timeout, "disarm")
	return shown if answers is None else {"shown": shown, "prompts": prompts}


DEVICE_MANAGER = "chrome://pippki/content/device_manager.xhtml"


def device_manager(m, path, select, timeout):
	"""Opens Security Devices, selects the slot holding token SELECT (if given), saves a PNG
	of the dialog to PATH and closes it.  Returns the rows and the details pane it showed."""
	return chrome_dialog(m, DEVICE_MANAGER, "mozilla:devicemanager",
		"document.getElementById('device_tree')?.view?.rowCount > 0", path, """
		const tree = document.getElementById("device_tree");
		const column = tree.columns.getFirstColumn();
		const rows = [];
		let selected = -1;
		for (let i = 0; i < tree.view.rowCount; i++) {
			rows.push(tree.view.getCellText(i, column));
			const slot = tree.view.getItemAtIndex(i).slotObject;
			if (selected < 0 && arguments[0] !== null && slot &&
			    tryGet(() => slot.tokenName) === arguments[0])
				selected = i;
		}
		if (arguments[0] !== null && selected < 0)
			throw new Error("Security Devices shows no slot with token " + arguments[0]);
		if (selected >= 0)
			tree.view.selection.select(selected);
		// The details pane is filled in synchronously; its labels are localized later.
		await document.l10n.translateRoots();
		await new Promise((r) => setTimeout(r, 300));
		const info = document.getElementById("info_tree");
		const details = [];
		for (let i = 0; info && i < info.view.rowCount; i++) {
			const cols = info.columns;
			details.push([info.view.getCellText(i, cols[0]), info.view.getCellText(i, cols[1])]);
		}
		const buttons = {};
		for (const id of ["login_button", "logout_button", "change_pw_button"])
			buttons[id] = !document.getElementById(id).disabled;
		return {rows: rows, selected: selected, details: details, buttons: buttons};
	""", [select], timeout)


CERT_MANAGER = "chrome://pippki/content/certManager.xhtml"
# Certificate Manager's tabs with a certificate tree: tab id, tree id.
CERT_TABS = {"mine": ("mine_tab", "user-tree"), "people": ("others_tab", "email-tree"),
	"ca": ("ca_tab", "ca-tree")}


def cert_manager(m, path, tab, select, answers, timeout):
	"""Opens Certificate Manager on TAB (mine = Your Certificates, people, ca = Authorities),
	selects (and scrolls to) the first certificate there, or the first on token SELECT, saves
	a PNG to PATH, closes it.  Firefox asks for the
	password of tokens that need a login while it lists certificates: those prompts get
	ANSWERS (see armPrompts; none: Cancel).  Returns {"shown": the tab's rows [{name, token,
	serial, sha256}] (sha256 null for an organization's heading row), "prompts": [...]}."""
	tab_id, tree_id = CERT_TABS[tab]
	return chrome_dialog(m, CERT_MANAGER, "mozilla:certmanager",
		"document.getElementById(%s)?.view" % json.dumps(tree_id), path, """
		document.getElementById("certmanagertabs").selectedTab =
			document.getElementById(arguments[0]);
		const tree = document.getElementById(arguments[1]);
		const text = (i, id) => {
			const column = tree.columns.getNamedColumn(id);
			return column ? tree.view.getCellText(i, column) : null;
		};
		const rows = [];
		let first = -1;
		for (let i = 0; i < tree.view.rowCount; i++) {
			const cert = tryGet(() => tree.view.getCert(i));
			if (cert && first < 0 &&
			    (arguments[2] === null || tryGet(() => cert.tokenName) === arguments[2]))
				first = i;
			rows.push({name: text(i, "certcol"), token: text(i, "tokencol"),
				serial: cert?.serialNumber ?? null, sha256: cert?.sha256Fingerprint ?? null});
		}
		if (first >= 0) {
			tree.view.selection.select(first);
			tree.ensureRowIsVisible(first);
		}
		await document.l10n.translateRoots();
		await new Promise((r) => setTimeout(r, 300));
		return rows;
	""", [tab_id, tree_id, select], timeout, answers)


def navigate(m, url, answers, timeout):
	"""Loads URL in the selected tab after clearing Firefox's TLS session cache, answering
	prompts with ANSWERS (see armPrompts).  Returns the page's URI (an error page's is
	about:neterror...), title and text, and the prompts.  The load starts from chrome code:
	WebDriver:Navigate would stop at the first prompt."""
	run_chrome(m, "armPrompts(arguments[0]); return true;", [answers])
	try:
		# A full handshake every time: no TLS session to resume, no connection to reuse.
		start_load = """
			Cc["@mozilla.org/psm;1"].getService(Ci.nsINSSComponent)
				.clearTLSCacheAndCancelAllConnections();
			const browser = browserWindow().gBrowser.selectedBrowser;
			shared.p11u.navigateFrom = browser.browsingContext.currentWindowGlobal?.innerWindowId;
			browser.fixupAndLoadURIString(arguments[0], {
				triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal()});
			return true;
		"""
		try:
			run_chrome(m, start_load, [url])
		except ScriptInterrupted:
			pass
		poll(m, """
			const browser = browserWindow().gBrowser.selectedBrowser;
			const global = browser.browsingContext.currentWindowGlobal;
			return !browser.webProgress.isLoadingDocument && global &&
				global.innerWindowId !== shared.p11u.navigateFrom;
		""", None, bool, timeout, "loading " + url)
	finally:
		prompts = poll(m, "return disarmPrompts();", None, lambda p: True, timeout, "disarm")
	m.set_context("content")
	page = m.execute("return {uri: document.documentURI, title: document.title,"
		" text: document.body ? document.body.innerText : ''};", sandbox=None)
	m.set_context("chrome")
	page["prompts"] = prompts
	return page


def secret(name):
	if not name:
		raise MarionetteError("this command needs its secret named: --pin-env/--old-env/--new-env")
	value = os.environ.get(name)
	if value is None:
		raise MarionetteError("environment variable %s is not set" % name)
	return value

def token_command(m, cmd, args, opts, answers):
	"""The token commands: nsIPKCS11ModuleDB and nsIPKCS11Token, as Security Devices uses them."""
	if cmd == "modules":
		return run_chrome(m, "return await modules();")
	if cmd == "add-module":
		return run_chrome(m, "await moduleDB.addModule(arguments[0], arguments[1], 0, 0);"
			" return true;", args)
	if cmd == "del-module":
		return run_chrome(m, "await moduleDB.deleteModule(arguments[0]); return true;", args)
	if cmd == "tokens":
		return run_chrome(m, "return await tokens();")
	if cmd == "token":
		return run_chrome(m, "const t = await findToken(arguments[0]);"
			" return t ? tokenInfo(t) : null;", args)
	if cmd == "wait-token":
		want = args[1] == "present"
		deadline = time.monotonic() + opts.timeout
		while True:
			out = run_chrome(m, "const t = await findToken(arguments[0]);"
				" return t ? tokenInfo(t) : null;", args[:1])
			if (out is not None) == want:
				return out
			if time.monotonic() > deadline:
				raise MarionetteError("token %r still %s after %ds" % (
					args[0], "absent" if want else "present", opts.timeout))
			time.sleep(0.5)
	if cmd == "login":
		return login(m, args[0], answers, opts.timeout, opts.shots)
	if cmd == "logout":
		return run_chrome(m, "(await requireToken(arguments[0])).logout(); return true;", args)
	if cmd == "change-password":
		return run_chrome(m, """
			const t = await requireToken(arguments[0]);
			try {
				t.changePassword(arguments[1], arguments[2]);
				return {ok: true};
			} catch (e) {
				return {ok: false, error: errorInfo(e)};
			}
		""", [args[0], secret(opts.old_env), secret(opts.new_env)])
	if cmd == "change-password-dialog":
		return change_password_dialog(m, args[0], secret(opts.old_env), secret(opts.new_env),
			opts.timeout, opts.shots)
	return None


# Command name -> number of positional arguments.
COMMANDS = {
	"modules": 0, "add-module": 2, "del-module": 1, "tokens": 0, "token": 1, "wait-token": 2,
	"login": 1, "logout": 1, "change-password": 1, "change-password-dialog": 1,
	"navigate": 1, "screenshot": 1, "device-manager": 1, "cert-manager": 1, "chrome": 1,
}


def main(argv):
	parser = argparse.ArgumentParser(
		description="Drive a headless firefox-esr through Marionette (see the module's help).")
	parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
		help="seconds to wait for Firefox, a prompt, a page (default %(default)s)")
	parser.add_argument("--pref", action="append", default=[], metavar="NAME=JSON",
		help="start: an extra preference of the fresh profile")
	parser.add_argument("--firefox", default=os.environ.get("FIREFOX", "firefox-esr"))
	parser.add_argument("--pin-env", dest="answers", action="append", default=[],
		metavar="VAR", help="answer the next PIN prompt with $VAR (repeatable)")
	parser.add_argument("--cancel", dest="answers", action="append_const", const="",
		help="press Cancel on the next PIN prompt")
	parser.add_argument("--old-env", metavar="VAR")
	parser.add_argument("--new-env", metavar="VAR")
	parser.add_argument("--select", metavar="TOKEN",
		help="device-manager: select this token; cert-manager: its first certificate")
	parser.add_argument("--tab", choices=sorted(CERT_TABS), default="mine",
		help="cert-manager: the tab to show (default %(default)s)")
	parser.add_argument("--shot", dest="shots", action="append", default=[], metavar="FILE.png",
		help="login, change-password-dialog: a PNG of the next window the command shows, as "
		"filled in (repeatable; see the module's help)")
	parser.add_argument("words", nargs="+", metavar="start DIR | stop DIR | DIR COMMAND [ARGS]")
	opts = parser.parse_intermixed_args(argv)
	words = opts.words
	if len(words) < 2:
		parser.error("a directory and a command are needed")
	# "start DIR" and "stop DIR" read naturally; the other commands are "DIR COMMAND".
	if words[0] in ("start", "stop"):
		words[0], words[1] = words[1], words[0]
	ff = Firefox(words[0])
	cmd, args = words[1], words[2:]

	if cmd == "start":
		prefs = {}
		for p in opts.pref:
			name, _, value = p.partition("=")
			prefs[name] = json.loads(value)
		print(json.dumps({"pid": ff.start(opts.firefox, prefs, opts.timeout), "port": ff.port()}))
		return 0
	if cmd == "stop":
		ff.kill()
		return 0
	if cmd not in COMMANDS:
		parser.error("unknown command " + cmd)
	if len(args) != COMMANDS[cmd]:
		parser.error("%s takes %d argument(s)" % (cmd, COMMANDS[cmd]))

	answers = [secret(v) if v else None for v in opts.answers]
	with ff.connect(opts.timeout) as m:
		out = token_command(m, cmd, args, opts, answers)
		if cmd == "navigate":
			out = navigate(m, args[0], answers, opts.timeout)
		elif cmd == "screenshot":
			# A README-sized window; the viewport is what a user sees.
			m.command("WebDriver:SetWindowRect", {"width": 1000, "height": 440})
			m.set_context("content")
			with open(args[0], "wb") as f:
				f.write(m.screenshot_png(full=False))
			out = args[0]
		elif cmd == "device-manager":
			out = device_manager(m, args[0], opts.select, opts.timeout)
		elif cmd == "cert-manager":
			out = cert_manager(m, args[0], opts.tab, opts.select, answers, opts.timeout)
		elif cmd == "chrome":
			out = run_chrome(m, args[0])
	print(json.dumps(out, ensure_ascii=False))
	return 0


if __name__ == "__main__":
	try:
		sys.exit(main(sys.argv[1:]))
	except PromptMissing as e:
		print("marionette.py: %s" % e, file=sys.stderr)
		sys.exit(3)
	except (MarionetteError, OSError) as e:
		print("marionette.py: %s" % e, file=sys.stderr)
		sys.exit(1)
