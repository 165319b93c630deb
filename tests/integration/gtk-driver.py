#!/usr/bin/python3
"""Drives p11unlock-gtk through the accessibility tree (AT-SPI), as assistive technologies do.

Used by tests/integration/gtk-lib.sh, one command per run:
  wait ERE [SECONDS]   until a showing node (role "name") matches ERE; exit 1 otherwise
  gone ERE [SECONDS]   until no showing node matches ERE
  dump                 every showing node as "role|name|state,..." (dialogs too)
  type NAME TEXT       sets the text of the password field named NAME (its "changed" runs)
  length NAME          how many characters the field named NAME holds
  click NAME           the button named NAME
  click-see NAME ERE [SECONDS] [FILE]
                       the button named NAME, then until a node that appears afterwards (role
                       "name") matches ERE, however briefly it shows (AT-SPI events); exit 1
                       otherwise.  FILE: a screenshot right then
  enabled NAME         "yes" when the button named NAME can be pressed, else "no"
  choose INDEX         item INDEX (0-based) of the card drop-down, by keyboard
  items [FILE]         the items of the card drop-down, one a line (FILE: a screenshot of the
                       open list)
  shot FILE            a PNG of the window (and its dialogs), from the X server
  close                asks the window to close, as a window manager's close button does
Needs python3-gi, gir1.2-atspi-2.0 and Gdk 3 (gir1.2-gtk-3.0, a dependency of python3-dogtail).
"""
import ctypes
import ctypes.util
import re
import sys
import time
import warnings

import gi

gi.require_version("Atspi", "2.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Atspi, Gdk, GLib  # noqa: E402

warnings.simplefilter("ignore", DeprecationWarning)
APP = "p11unlock-gtk"


def app_node():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        child = desktop.get_child_at_index(i)
        if child is not None and child.get_name() == APP:
            return child
    return None


def showing(node):
    # GTK 4.8 sets SHOWING on windows only; VISIBLE on every widget shown.
    return node.get_state_set().contains(Atspi.StateType.VISIBLE)


def walk(node, depth=0):
    """Showing nodes, depth first (a hidden node hides its subtree)."""
    if node is None or depth > 60:
        return
    if depth > 0 and not showing(node):
        return
    yield node
    for i in range(node.get_child_count()):
        yield from walk(node.get_child_at_index(i), depth + 1)


def line(node):
    states = node.get_state_set()
    flags = [n for n, s in (("sensitive", Atspi.StateType.SENSITIVE),
                            ("focused", Atspi.StateType.FOCUSED),
                            )
             if states.contains(s)]
    name = (node.get_name() or "").replace("\n", "\\n")
    return "%s|%s|%s" % (node.get_role_name(), name, ",".join(flags))


def nodes():
    app = app_node()
    return list(walk(app)) if app is not None else []


def named(node, name):
    """The node's name, or for a button the label inside it (GTK 4.8 names a dialog's
    buttons "OK OK")."""
    if node.get_name() == name:
        return True
    return node.get_role_name() == "push button" and any(
        node.get_child_at_index(i) is not None and
        node.get_child_at_index(i).get_name() == name
        for i in range(node.get_child_count()))


def find(role, name):
    for node in nodes():
        if node.get_role_name() == role and named(node, name):
            return node
    sys.exit("no %s named %r; the window shows:\n%s" % (role, name, dump_text()))


def reread(read):
    """read() again while a node goes away under it (a label replaced as the window changes:
    AT-SPI raises); the last try's error is the answer."""
    for _ in range(20):
        try:
            return read()
        except gi.repository.GLib.Error:
            time.sleep(0.1)
    return read()


def dump_text():
    return reread(lambda: "\n".join(line(n) for n in nodes()))


def until(predicate, seconds):
    end = time.monotonic() + seconds
    while True:
        try:
            if predicate():
                return True
        except gi.repository.GLib.Error:
            pass  # a node went away while it was read: read the tree again
        if time.monotonic() > end:
            return False
        time.sleep(0.2)


def matches(ere):
    pattern = re.compile(ere)
    return any(pattern.search(line(n)) for n in nodes())


def screenshot(path):
    """The screen's top left corner, as large as the window and its dialogs (no window
    manager: they all sit there)."""
    width = height = 0
    for node in nodes():
        if node.get_role() in (Atspi.Role.FRAME, Atspi.Role.DIALOG, Atspi.Role.ALERT):
            size = node.get_component_iface().get_size()
            width, height = max(width, size.x), max(height, size.y)
    root = Gdk.get_default_root_window()
    width = min(width or root.get_width(), root.get_width())
    height = min(height or root.get_height(), root.get_height())
    Gdk.pixbuf_get_from_window(root, 0, 0, width, height).savev(path, "png", [], [])


class XClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                ("data", ctypes.c_long * 5)]


class XEvent(ctypes.Union):
    _fields_ = [("xclient", XClientMessage), ("pad", ctypes.c_long * 24)]


def close_window(title):
    """WM_DELETE_WINDOW to the top-level X window titled title (libX11 through ctypes: no
    window manager runs here)."""
    x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11"))
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_void_p] * 4
    x11.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
    x11.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                               ctypes.POINTER(XEvent)]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    display = x11.XOpenDisplay(None)
    root, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    x11.XQueryTree(display, x11.XDefaultRootWindow(display), ctypes.byref(root),
                   ctypes.byref(parent), ctypes.byref(children), ctypes.byref(count))
    for i in range(count.value):
        name = ctypes.c_char_p()
        if x11.XFetchName(display, children[i], ctypes.byref(name)) and \
                name.value == title.encode():
            event = XEvent()
            event.xclient.type = 33  # ClientMessage
            event.xclient.window = children[i]
            event.xclient.message_type = x11.XInternAtom(display, b"WM_PROTOCOLS", 0)
            event.xclient.format = 32
            event.xclient.data[0] = x11.XInternAtom(display, b"WM_DELETE_WINDOW", 0)
            x11.XSendEvent(display, children[i], 0, 0, ctypes.byref(event))
            x11.XFlush(display)
            return
    sys.exit("no window titled %r" % title)


def click_see(name, ere, seconds, shot):
    """Clicks, then listens to the tree's changes until a node matching ere appears."""
    pattern = re.compile(ere)
    loop = GLib.MainLoop()
    seen = []

    def on_event(event):
        if seen:
            return
        if event.type.endswith("accessible-name") and isinstance(event.any_data, str):
            # The name the event carries: the node may have another one by now.
            said = "%s|%s|" % (event.source.get_role_name(), event.any_data.replace("\n", "\\n"))
            if pattern.search(said):
                seen.append(said)
                if shot:
                    screenshot(shot)
                loop.quit()
                return
        for node in (event.source, event.any_data):
            if isinstance(node, Atspi.Accessible) and not seen:
                try:
                    for n in walk(node):
                        if pattern.search(line(n)):
                            seen.append(line(n))
                            if shot:
                                screenshot(shot)
                            loop.quit()
                            return
                except GLib.Error:
                    pass  # gone meanwhile

    listener = Atspi.EventListener.new(on_event)
    for kind in ("object:children-changed", "object:state-changed",
                 "object:property-change:accessible-name"):
        listener.register(kind)
    # A holder clicks a button they can click: wait until it is sensitive and has stayed so for
    # a moment (a card event may start a detection, which makes the window busy for a while).
    button = find("push button", name)
    sensitive_since = []

    def settled():
        if not button.get_state_set().contains(Atspi.StateType.SENSITIVE):
            sensitive_since.clear()
            return False
        if not sensitive_since:
            sensitive_since.append(time.monotonic())
        return time.monotonic() - sensitive_since[0] >= 2

    if not until(settled, seconds):
        print("%s never stayed clickable" % name)
        return 1
    button.get_action_iface().do_action(0)
    GLib.timeout_add(int(seconds * 1000), loop.quit)
    loop.run()
    if seen:
        print(seen[0])
    return 0 if seen else 1


def press(keys):
    for key in keys:
        Atspi.generate_keyboard_event(key, None, Atspi.KeySynthType.SYM)
        time.sleep(0.2)


def open_list():
    """Opens the card drop-down's list; returns it."""
    combo = next(n for n in nodes() if n.get_role_name() == "combo box")
    combo.get_child_at_index(0).get_action_iface().do_action(0)
    lists = []
    if not until(lambda: lists.extend(n for n in nodes() if n.get_role_name() == "list")
                 or lists, 5):
        sys.exit("the drop-down's list did not open")
    time.sleep(0.3)  # the popover takes the keyboard focus
    return lists[0]


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd in ("wait", "gone"):
        seconds = float(args[1]) if len(args) > 1 else 20
        want = cmd == "wait"
        if until(lambda: matches(args[0]) == want, seconds):
            return 0
        print(dump_text())
        return 1
    if cmd == "dump":
        print(dump_text())
    elif cmd == "type":
        field = find("password text", args[0])
        field.get_editable_text_iface().set_text_contents(args[1])
    elif cmd == "length":
        print(reread(lambda: find("password text", args[0]).get_text_iface()
                     .get_character_count()))
    elif cmd == "click-see":
        return click_see(args[0], args[1], float(args[2]) if len(args) > 2 else 20,
                         args[3] if len(args) > 3 else None)
    elif cmd == "click":
        find("push button", args[0]).get_action_iface().do_action(0)
    elif cmd == "enabled":
        states = reread(lambda: find("push button", args[0]).get_state_set())
        print("yes" if states.contains(Atspi.StateType.SENSITIVE) else "no")
    elif cmd == "choose":
        open_list()
        press([Gdk.KEY_Home] + [Gdk.KEY_Down] * int(args[0]) + [Gdk.KEY_Return])
    elif cmd == "items":
        listview = open_list()
        for i in range(listview.get_child_count()):
            item = listview.get_child_at_index(i)
            if item is not None and item.get_role_name() == "list item":
                print(" ".join(n.get_name() for n in walk(item) if n.get_role_name() == "label"))
        if args:
            screenshot(args[0])
        press([Gdk.KEY_Escape])
    elif cmd == "shot":
        screenshot(args[0])
    elif cmd == "close":
        close_window(next(n.get_name() for n in nodes() if n.get_role() == Atspi.Role.FRAME))
    else:
        sys.exit("unknown command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
