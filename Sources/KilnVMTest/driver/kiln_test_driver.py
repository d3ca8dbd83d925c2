"""Kiln's VM test driver: a NixOS test script runs here, in CPython, unchanged.

kiln (Swift) owns QEMU, the serial consoles, the backdoor root shells, the QMP monitors and
the test LAN. This module gives the script the NixOS test driver's names (one Machine per
node, machines, start_all, subtest, log, retry, polling_condition, ...) and builds the
Machine API on a few primitives it asks kiln for. Waits, unit checks, OCR and file copies
live here, as they do in NixOS's driver, so their semantics can be read in one place.

Protocol: a Unix stream socket (path in KILN_DRIVER_SOCKET); one JSON object per line each
way, strictly request then response:
    request   {"op": NAME, ...arguments}
    response  {"ok": RESULT}  or  {"error": MESSAGE}
Ops (arguments): hello; log (text, machine?); nest_begin (text, machine?) / nest_end (failed);
subtest_begin (name) / subtest_end (name, error?); serial_stdout (on); finish (error?).
Per machine (machine=NAME): start; is_up; execute (command, timeout?) -> {status, output};
monitor (command); console_wait (regex, timeout?); console_log; console_tail; send_console
(chars); shutdown (timeout?); wait_for_shutdown (timeout?); crash; reboot; screenshot (filename).

Run as: kiln_test_driver.py --check | --run | --interactive, with KILN_TEST_SCRIPT (a file
holding the script), KILN_TEST_FILE (the .nix file it comes from) and KILN_TEST_LINE (the
line of that file where the script's first line is, 0 when unknown), so that tracebacks and
syntax errors name the test file's own lines.
"""

import ast
import base64
import code
import json
import operator
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional, Tuple


class TestFailure(Exception):
    """A check that failed, or an error kiln reported (the message says where and what)."""


# ---------------------------------------------------------------------------------------
# Compiling the script: line numbers of the test file, and asserts that show both sides.

_COMPARE_OPS = {
    ast.Eq: ("==", operator.eq), ast.NotEq: ("!=", operator.ne), ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le), ast.Gt: (">", operator.gt), ast.GtE: (">=", operator.ge),
    ast.Is: ("is", operator.is_), ast.IsNot: ("is not", operator.is_not),
    ast.In: ("in", lambda a, b: a in b), ast.NotIn: ("not in", lambda a, b: a not in b),
}
_OPS_BY_NAME = {name: fn for name, fn in _COMPARE_OPS.values()}


def _short(value: Any, limit: int = 2000) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit // 2] + " ... " + text[-limit // 2:]


def _assert_compare(left: Any, op: str, right: Any, source: str, message: Any = None) -> None:
    if not _OPS_BY_NAME[op](left, right):
        text = f"assert {source}\n  left:  {_short(left)}\n  right: {_short(right)}"
        if message is not None:
            text = f"{message}\n{text}"
        raise AssertionError(text)


class _AssertRewriter(ast.NodeTransformer):
    """`assert a OP b[, msg]` becomes a call that evaluates a and b once each (as the compare
    would) and, when it fails, says both values: the message pytest would give."""

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE_OPS:
            name = _COMPARE_OPS[type(test.ops[0])][0]
            args = [test.left, ast.Constant(name), test.comparators[0], ast.Constant(ast.unparse(test))]
            if node.msg is not None:
                args.append(node.msg)
            call = ast.Call(func=ast.Name("__kiln_assert_compare", ast.Load()), args=args, keywords=[])
            return ast.copy_location(ast.Expr(call), node)
        if node.msg is None:
            node.msg = ast.Constant(f"assert {ast.unparse(test)}")
        return node


def compile_script(source: str, filename: str, first_line: int):
    """The script as a code object whose line numbers are the test file's."""
    tree = ast.parse(source, filename=filename)
    if first_line > 1:
        ast.increment_lineno(tree, first_line - 1)
    tree = ast.fix_missing_locations(_AssertRewriter().visit(tree))
    return compile(tree, filename, "exec")


def _syntax_error_text(e: SyntaxError, source: str, filename: str, first_line: int) -> str:
    """file:line:column of the test file, its line and a caret. ast.parse reports the
    script's own line (it runs before the shift), and the file's line carries the Nix
    indentation the script's lacks."""
    script_lines = source.split("\n")
    n = e.lineno or 0
    script_line = script_lines[n - 1] if 0 < n <= len(script_lines) else (e.text or "").rstrip("\n")
    line, column, shown = n, e.offset or 0, script_line
    if first_line > 0:
        line = n + first_line - 1
        try:
            with open(filename, encoding="utf-8") as f:
                file_line = f.read().split("\n")[line - 1]
            indent = (len(file_line) - len(file_line.lstrip())) - (len(script_line) - len(script_line.lstrip()))
            if file_line.strip() == script_line.strip() and indent >= 0:
                column, shown = column + indent, file_line
        except (OSError, IndexError):
            pass
    text = f"{filename}:{line}:{column}: {e.msg} (in testScript)"
    if shown.strip():
        text += "\n    " + shown + ("\n    " + " " * max(0, column - 1) + "^" if column else "")
    return text


# ---------------------------------------------------------------------------------------
# The connection to kiln.

class Connection:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        self.lock = threading.Lock()

    def call(self, op: str, **args: Any) -> Any:
        request = json.dumps({"op": op, **args}).encode() + b"\n"
        with self.lock:
            self.file.write(request)
            self.file.flush()
            line = self.file.readline()
        if not line:
            raise SystemExit("kiln closed the test driver's connection")
        answer = json.loads(line)
        if "error" in answer:
            raise TestFailure(answer["error"])
        return answer.get("ok")


# ---------------------------------------------------------------------------------------
# Logging, through kiln's logger so that one log (terminal and log.txt) has everything.

class Logger:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def log(self, message: Any, attrs: Optional[Dict[str, str]] = None) -> None:
        self._conn.call("log", text=str(message), machine=(attrs or {}).get("machine"))

    def info(self, *args: Any, **kwargs: Any) -> None:
        self.log(" ".join(map(str, args)))

    def warning(self, *args: Any, **kwargs: Any) -> None:
        self.log("warning: " + " ".join(map(str, args)))

    def error(self, *args: Any, **kwargs: Any) -> None:
        self.log("error: " + " ".join(map(str, args)))

    def __call__(self, message: Any) -> None:
        self.log(message)

    @contextmanager
    def nested(self, message: str, attrs: Optional[Dict[str, str]] = None):
        self._conn.call("nest_begin", text=message, machine=(attrs or {}).get("machine"))
        failed = True
        try:
            yield
            failed = False
        finally:
            self._conn.call("nest_end", failed=failed)


# ---------------------------------------------------------------------------------------
# Waiting.

def retry(fn: Callable[[bool], Any], timeout: float = 900) -> None:
    """Calls fn(False) every second until it is true; after `timeout` seconds, fn(True) once
    more, then gives up. (NixOS's retry.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn(False):
            return
        time.sleep(1)
    if not fn(True):
        raise TestFailure(f"action timed out after {timeout:g} seconds")


class PollingCondition:
    """A check that must keep holding while it is active (`with condition:`): it is run
    before machine commands, at most once per `seconds_interval`."""

    active: List["PollingCondition"] = []
    _checking = False

    def __init__(self, fn: Callable[[], Any], seconds_interval: float = 2.0, description: Optional[str] = None) -> None:
        self.fn = fn
        self.seconds_interval = seconds_interval
        self.description = description or (fn.__doc__ or fn.__name__).strip()
        self.last = 0.0

    def check(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < self.seconds_interval:
            return
        self.last = time.monotonic()
        if not self.fn():
            raise TestFailure(f"polling condition failed: {self.description}")

    def __call__(self) -> Any:
        return self.fn()

    def __enter__(self) -> "PollingCondition":
        PollingCondition.active.append(self)
        self.check(force=True)
        return self

    def __exit__(self, *exc: Any) -> None:
        PollingCondition.active.remove(self)

    @classmethod
    def run_active(cls) -> None:
        if cls._checking:
            return
        cls._checking = True
        try:
            for c in list(cls.active):
                c.check()
        finally:
            cls._checking = False


def polling_condition(fun_: Optional[Callable] = None, *, seconds_interval: float = 2.0,
                      description: Optional[str] = None):
    def wrap(fn: Callable) -> PollingCondition:
        return PollingCondition(fn, seconds_interval, description)
    return wrap(fun_) if fun_ is not None else wrap


# ---------------------------------------------------------------------------------------
# Keys for send_chars: QEMU's sendkey names, as a US keyboard types each character.

_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0",
            "_": "minus", "+": "equal", "{": "bracket_left", "}": "bracket_right", ":": "semicolon",
            '"': "apostrophe", "~": "grave_accent", "|": "backslash", "<": "comma", ">": "dot", "?": "slash"}
_PLAIN = {"-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right", ";": "semicolon",
          "'": "apostrophe", "`": "grave_accent", "\\": "backslash", ",": "comma", ".": "dot", "/": "slash",
          " ": "spc", "\n": "ret", "\t": "tab"}


def char_to_key(c: str) -> str:
    if c in _PLAIN:
        return _PLAIN[c]
    if c in _SHIFTED:
        return "shift-" + _SHIFTED[c]
    if c.isupper():
        return "shift-" + c.lower()
    return c


# ---------------------------------------------------------------------------------------
# Machines.

class Machine:
    """One node of the test, with the NixOS driver's methods."""

    def __init__(self, driver: "Driver", name: str) -> None:
        self.name = name
        self._driver = driver
        self._conn = driver.conn

    def __repr__(self) -> str:
        return f"<Machine '{self.name}'>"

    # -- plumbing

    def _call(self, op: str, **args: Any) -> Any:
        return self._conn.call(op, machine=self.name, **args)

    def _timeout(self, timeout: Optional[float]) -> float:
        return float(timeout) if timeout is not None else self._driver.default_timeout

    def log(self, message: str) -> None:
        self._driver.logger.log(message, {"machine": self.name})

    def nested(self, message: str, attrs: Optional[Dict[str, str]] = None):
        return self._driver.logger.nested(message, {"machine": self.name, **(attrs or {})})

    def _failure(self, message: str, output: Optional[str] = None, label: str = "its output") -> TestFailure:
        text = f"{self.name}: {message}"
        out = (output or "").strip()
        if out:
            lines = out.split("\n")[-15:]
            text += f"\n  {label}:\n" + "\n".join("    > " + l for l in lines)
        try:
            tail = self._call("console_tail")
        except TestFailure:
            tail = ""
        if tail:
            text += f"\n  {self.name}'s console, last lines:\n{tail}"
        return TestFailure(text)

    def _wait(self, what: str, attempt: Callable[[bool], Any], timeout: Optional[float], interval: float = 1.0,
              last_note: Callable[[], str] = lambda: "", last_output: Callable[[], str] = lambda: "") -> Any:
        """Calls attempt(last_try) every `interval` seconds until it returns something true."""
        limit = self._timeout(timeout)
        deadline = time.monotonic() + limit
        while True:
            last_try = time.monotonic() >= deadline
            result = attempt(last_try)
            if result:
                return result
            if last_try:
                raise self._failure(f"timed out after {limit:g} s waiting for {what}" + last_note(), last_output(),
                                    "its output on the last try")
            time.sleep(interval)

    # -- power

    @property
    def booted(self) -> bool:
        return bool(self._call("is_up"))

    def is_up(self) -> bool:
        return bool(self._call("is_up"))

    def start(self, allow_reboot: bool = False) -> None:
        self._call("start")

    def shutdown(self, timeout: Optional[float] = None) -> None:
        with self.nested("shutting down"):
            self._call("shutdown", timeout=timeout)

    def wait_for_shutdown(self, timeout: Optional[float] = None) -> None:
        with self.nested("waiting for the machine to power off"):
            self._call("wait_for_shutdown", timeout=timeout)

    def crash(self) -> None:
        with self.nested("crashing (quitting QEMU)"):
            self._call("crash")

    def reboot(self) -> None:
        self.log("rebooting")
        self._call("reboot")

    def block(self) -> None:
        self.log("cutting the network link")
        self.send_monitor_command("set_link net0 off")

    def unblock(self) -> None:
        self.log("restoring the network link")
        self.send_monitor_command("set_link net0 on")

    # -- commands

    def execute(self, command: str, check_return: bool = True, check_output: bool = True,
                timeout: Optional[float] = None) -> Tuple[int, str]:
        PollingCondition.run_active()
        r = self._call("execute", command=command, timeout=timeout)
        return r["status"], (r["output"] if check_output else "")

    def succeed(self, *commands: str, timeout: Optional[float] = None) -> str:
        output = ""
        for command in commands:
            with self.nested(f"must succeed: {command}"):
                status, out = self.execute(command, timeout=timeout)
                if status != 0:
                    raise self._failure(f"command `{command}` failed (exit code {status})", out)
                output += out
        return output

    def fail(self, *commands: str, timeout: Optional[float] = None) -> str:
        output = ""
        for command in commands:
            with self.nested(f"must fail: {command}"):
                status, out = self.execute(command, timeout=timeout)
                if status == 0:
                    raise self._failure(f"command `{command}` unexpectedly succeeded", out)
                output += out
        return output

    def wait_until_succeeds(self, command: str, timeout: Optional[float] = None) -> str:
        last = [""]

        def attempt(_: bool) -> Optional[str]:
            status, out = self.execute(command)
            last[0] = out
            return (out or " ") if status == 0 else None

        with self.nested(f"waiting until `{command}` succeeds"):
            self._wait(f"`{command}` to succeed", attempt, timeout, last_output=lambda: last[0])
            return last[0]

    def wait_until_fails(self, command: str, timeout: Optional[float] = None) -> str:
        last = [""]

        def attempt(_: bool) -> bool:
            status, out = self.execute(command)
            last[0] = out
            return status != 0

        with self.nested(f"waiting until `{command}` fails"):
            self._wait(f"`{command}` to fail", attempt, timeout, last_output=lambda: last[0])
            return last[0]

    def systemctl(self, q: str, user: Optional[str] = None) -> Tuple[int, str]:
        if user is not None:
            q = q.replace("'", "\\'")
            return self.execute(f"su -l {user} --shell /bin/sh -c $'XDG_RUNTIME_DIR=/run/user/`id -u` systemctl --user {q}'")
        return self.execute(f"systemctl {q}")

    def get_unit_info(self, unit: str, user: Optional[str] = None) -> Dict[str, str]:
        status, lines = self.systemctl(f'--no-pager show "{unit}"', user)
        if status != 0:
            who = "" if user is None else f' under user "{user}"'
            raise self._failure(f'retrieving systemctl info for unit "{unit}"{who} failed with exit code {status}', lines)
        info = {}
        for line in lines.split("\n"):
            key, sep, value = line.partition("=")
            if sep:
                info[key] = value
        return info

    def get_unit_property(self, unit: str, property: str, user: Optional[str] = None) -> str:
        status, out = self.systemctl(f'--no-pager show "{unit}" --property="{property}"', user)
        if status != 0:
            raise self._failure(f'retrieving systemctl property "{property}" of unit "{unit}" failed with exit code {status}', out)
        key, _, value = out.rstrip("\n").partition("=")
        if key != property:
            raise self._failure(f'systemctl show answered "{out.strip()}" for property "{property}"')
        return value

    def _unit_status(self, unit: str, user: Optional[str] = None) -> str:
        _, out = self.systemctl(f"status --no-pager --lines=15 -- '{unit}' 2>&1 || true", user)
        return out

    def wait_for_unit(self, unit: str, user: Optional[str] = None, timeout: Optional[float] = None) -> None:
        last = ["unknown"]

        def check_active(_: bool) -> bool:
            info = self.get_unit_info(unit, user)
            state = info.get("ActiveState", "")
            last[0] = f"{state}/{info.get('SubState', '')}"
            if info.get("LoadState") == "not-found":
                raise self._failure(f"unit {unit} does not exist (LoadState=not-found)")
            if state == "failed":
                raise self._failure(f'unit "{unit}" reached state "failed"', self._unit_status(unit, user), "its status")
            if state == "inactive":
                _, jobs = self.systemctl("list-jobs --full 2>&1", user)
                if "No jobs" in jobs and self.get_unit_info(unit, user).get("ActiveState") == "inactive":
                    raise self._failure(f'unit "{unit}" is inactive and there are no pending jobs',
                                        self._unit_status(unit, user), "its status")
            return state == "active"

        with self.nested(f"waiting for unit {unit}" + (f" with user {user}" if user else "")):
            self._wait(f"unit {unit} to become active", check_active, timeout,
                       last_note=lambda: f"\n  the unit's last state: {last[0]}")

    wait_for_job = wait_for_unit

    def require_unit_state(self, unit: str, require_state: str = "active") -> None:
        with self.nested(f"checking that unit {unit} is {require_state}"):
            state = self.get_unit_info(unit).get("ActiveState")
            if state != require_state:
                raise self._failure(f"expected unit {unit} to be in state '{require_state}' but it is in state '{state}'")

    def start_job(self, jobname: str, user: Optional[str] = None) -> Tuple[int, str]:
        return self.systemctl(f"start {jobname}", user)

    def stop_job(self, jobname: str, user: Optional[str] = None) -> Tuple[int, str]:
        return self.systemctl(f"stop {jobname}", user)

    def wait_for_file(self, filename: str, timeout: Optional[float] = None) -> None:
        with self.nested(f"waiting for file {filename}"):
            self._wait(f"file {filename} to exist",
                       lambda _: self.execute(f"test -e {shlex.quote(filename)}")[0] == 0, timeout)

    def _port_probe(self, port: int, addr: str) -> str:
        return "timeout 3 bash -c " + shlex.quote(f"exec 3<>/dev/tcp/{addr}/{int(port)}") + " 2>/dev/null"

    def wait_for_open_port(self, port: int, addr: str = "localhost", timeout: Optional[float] = None) -> None:
        with self.nested(f"waiting for TCP port {port} on {addr} to be open"):
            self._wait(f"TCP port {port} on {addr} to be open",
                       lambda _: self.execute(self._port_probe(port, addr))[0] == 0, timeout)

    def wait_for_closed_port(self, port: int, addr: str = "localhost", timeout: Optional[float] = None) -> None:
        with self.nested(f"waiting for TCP port {port} on {addr} to be closed"):
            self._wait(f"TCP port {port} on {addr} to be closed",
                       lambda _: self.execute(self._port_probe(port, addr))[0] != 0, timeout)

    def wait_for_open_unix_socket(self, addr: str, is_datagram: bool = False, timeout: Optional[float] = None) -> None:
        kind = "u" if is_datagram else "x"
        probe = f"ss -{kind}lnH | awk '{{print $5}}' | grep -qxF -- {shlex.quote(addr)}"
        with self.nested(f"waiting for UNIX socket {addr} to be open"):
            self._wait(f"UNIX socket {addr} to be open", lambda _: self.execute(probe)[0] == 0, timeout)

    def sleep(self, secs: float) -> None:
        time.sleep(secs)

    # -- consoles, keyboard, screen

    def wait_for_console_text(self, regex: str, timeout: Optional[float] = None) -> str:
        with self.nested(f"waiting for /{regex}/ on the console"):
            return self._call("console_wait", regex=regex, timeout=timeout)

    def get_console_log(self) -> str:
        return self._call("console_log")

    def send_console(self, chars: str) -> None:
        self.log(f"typing {chars!r} on the serial console")
        self._call("send_console", chars=chars)

    def send_monitor_command(self, command: str) -> str:
        return self._call("monitor", command=command)

    def send_key(self, key: str, delay: Optional[float] = 0.01, log: bool = True) -> None:
        if log:
            self.log(f"sending key {key!r}")
        self.send_monitor_command(f"sendkey {key}")
        if delay is not None:
            time.sleep(delay)

    def send_chars(self, chars: str, delay: Optional[float] = 0.01) -> None:
        """Types on the keyboard (the graphical console), like NixOS; send_console types on
        the serial console."""
        self.log(f"sending keys {chars!r}")
        for c in chars:
            self.send_key(char_to_key(c), delay, log=False)

    def screenshot(self, filename: str) -> str:
        path = self._call("screenshot", filename=filename)
        self.log(f"screenshot saved to {path}")
        return path

    def _ocr(self, psm_modes: Tuple[int, ...]) -> List[str]:
        if shutil.which("tesseract") is None:
            raise TestFailure("OCR needs tesseract on the host (Debian's tesseract-ocr; scripts/install-deps.sh installs it)")
        with tempfile.TemporaryDirectory(prefix="kiln-ocr-") as d:
            shot = self._call("screenshot", filename=os.path.join(d, "screen.png"))
            texts = []
            for psm in psm_modes:
                r = subprocess.run(["tesseract", shot, "-", "--psm", str(psm), "-c", "debug_file=/dev/null"],
                                   capture_output=True)
                if r.returncode != 0:
                    raise TestFailure(f"tesseract failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
                texts.append(r.stdout.decode(errors="replace"))
            return texts

    def get_screen_text_variants(self) -> List[str]:
        return self._ocr((3, 6, 11))

    def get_screen_text(self) -> str:
        return self._ocr((11,))[0]

    def wait_for_text(self, regex: str, timeout: Optional[float] = None) -> None:
        last = [""]

        def attempt(last_try: bool) -> bool:
            variants = self.get_screen_text_variants() if last_try else [self.get_screen_text()]
            last[0] = variants[-1]
            return any(re.search(regex, v) for v in variants)

        with self.nested(f"waiting for /{regex}/ to appear on the screen"):
            self._wait(f"/{regex}/ on the screen", attempt, timeout, interval=2,
                       last_note=lambda: "\n  the screen's text on the last try:\n" +
                       "\n".join("    > " + l for l in last[0].strip().split("\n")[-15:]))

    def get_tty_text(self, tty: str) -> str:
        status, out = self.execute(f"fold -w$(stty -F /dev/tty{tty} size | awk '{{print $2}}') /dev/vcs{tty}")
        return out

    def wait_until_tty_matches(self, tty: str, regex: str, timeout: Optional[float] = None) -> None:
        with self.nested(f"waiting for /{regex}/ to appear on tty {tty}"):
            self._wait(f"/{regex}/ on tty {tty}", lambda _: re.search(regex, self.get_tty_text(tty), re.MULTILINE), timeout)

    def dump_tty_contents(self, tty: str) -> None:
        self.log(self.get_tty_text(tty))

    # -- X11 (graphical nodes)

    def wait_for_x(self, timeout: Optional[float] = None) -> None:
        with self.nested("waiting for the X11 server"):
            self._wait("the X11 server", lambda _: self.execute(
                "journalctl -b SYSLOG_IDENTIFIER=systemd | grep -q 'Reached target.*Graphical' && [ -e /tmp/.X11-unix/X0 ]")[0] == 0,
                timeout)

    def get_window_names(self) -> List[str]:
        return self.succeed(r"xwininfo -root -tree | sed 's/.*0x[0-9a-f]* \"\([^\"]*\)\".*/\1/; t; d'").splitlines()

    def wait_for_window(self, regexp: str, timeout: Optional[float] = None) -> None:
        with self.nested(f"waiting for a window to match /{regexp}/"):
            self._wait(f"a window matching /{regexp}/",
                       lambda _: any(re.search(regexp, n) for n in self.get_window_names()), timeout)

    # -- files

    def copy_from_host(self, source: str, target: str) -> None:
        """Copies a file or directory of the host to `target` on the machine, with its modes,
        through the backdoor shell (base64 in pieces; no shared folder, no tar in the guest)."""
        with self.nested(f"copying {source} to {target}"):
            q = shlex.quote(target)
            if not os.path.isdir(source):
                self._put_file(source, target)
                return
            self.succeed(f"rm -rf {q} && mkdir -p {q}")
            for root, dirs, files in os.walk(source):
                rel = os.path.relpath(root, source)
                dest = target if rel == "." else os.path.join(target, rel)
                for d in sorted(dirs):
                    mode = os.stat(os.path.join(root, d)).st_mode & 0o7777
                    self.succeed(f"mkdir -p {shlex.quote(os.path.join(dest, d))} && chmod {mode:o} {shlex.quote(os.path.join(dest, d))}")
                for f in sorted(files):
                    self._put_file(os.path.join(root, f), os.path.join(dest, f))

    def _put_file(self, source: str, target: str) -> None:
        with open(source, "rb") as f:
            data = base64.b64encode(f.read()).decode()
        mode = os.stat(source).st_mode & 0o7777
        q, part = shlex.quote(target), shlex.quote(target + ".kiln-part")
        self.succeed(f"mkdir -p \"$(dirname {q})\" && : > {part}")
        for i in range(0, len(data), 65536):
            self.succeed(f"printf %s {data[i:i + 65536]} >> {part}")
        self.succeed(f"base64 -d {part} > {q} && rm -f {part} && chmod {mode:o} {q}")

    copy_from_host_via_shell = copy_from_host

    def copy_from_vm(self, source: str, target_dir: str = "") -> str:
        """Copies a file or directory of the machine into the run's directory:
        <run>/<machine>/<target_dir>/<name>."""
        q = shlex.quote(source)
        dest = os.path.join(self._driver.out_dir, self.name, target_dir, os.path.basename(source.rstrip("/")))
        status, listing = self.execute(f"if [ -d {q} ]; then cd {q} && find . -type f -printf '%P\\n'; else echo; fi")
        if status != 0:
            raise self._failure(f"cannot copy {source} out of the machine (it is missing or unreadable)")
        files = [l for l in listing.split("\n") if l] if listing.strip() else [""]
        for rel in files:
            path = os.path.join(source, rel) if rel else source
            status, out = self.execute(f"base64 -w 0 {shlex.quote(path)}")
            if status != 0:
                raise self._failure(f"cannot copy {path} out of the machine (base64 exited with {status})")
            local = os.path.join(dest, rel) if rel else dest
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "wb") as f:
                f.write(base64.b64decode(out))
        self.log(f"copied {source} to {dest}")
        return dest

    # -- interactive

    def shell_interact(self, address: Optional[str] = None) -> None:
        """A root shell on the machine, one command per line (each runs like execute())."""
        print(f"root shell on {self.name}; each line runs as one command; end with Ctrl-D or `exit`", file=sys.stderr)
        while True:
            try:
                line = input(f"{self.name}# ")
            except EOFError:
                print(file=sys.stderr)
                return
            if line.strip() in ("exit", "logout"):
                return
            if not line.strip():
                continue
            status, out = self.execute(line)
            sys.stdout.write(out)
            if status != 0:
                print(f"[exit {status}]", file=sys.stderr)

    def console_interact(self) -> None:
        """Types each line on the serial console and prints what the console printed since."""
        print(f"serial console of {self.name}; end with Ctrl-D", file=sys.stderr)
        seen = len(self.get_console_log())
        while True:
            try:
                line = input()
            except EOFError:
                return
            self._call("send_console", chars=line + "\n")
            time.sleep(0.5)
            text = self.get_console_log()
            sys.stdout.write(text[seen:])
            seen = len(text)

    def forward_port(self, host_port: int = 8080, guest_port: int = 80) -> None:
        raise TestFailure("forward_port is not supported: Kiln's test machines share a socket LAN, not QEMU's user network")

    def wait_for_qmp_event(self, *args: Any, **kwargs: Any) -> None:
        raise TestFailure("wait_for_qmp_event is not supported by Kiln's driver yet")


# ---------------------------------------------------------------------------------------
# The driver: the script's globals.

class Driver:
    def __init__(self, conn: Connection, hello: Dict[str, Any]) -> None:
        self.conn = conn
        self.logger = Logger(conn)
        self.default_timeout = float(hello["defaultTimeout"])
        self.out_dir = hello["outputDirectory"]
        self.test_name = hello["testName"]
        self.machines = [Machine(self, n) for n in hello["machines"]]

    def start_all(self) -> None:
        with self.logger.nested("starting all machines"):
            for m in self.machines:
                m.start()

    def join_all(self) -> None:
        with self.logger.nested("waiting for all machines to power off"):
            for m in self.machines:
                m.wait_for_shutdown()

    @contextmanager
    def subtest(self, name: str):
        self.conn.call("subtest_begin", name=name)
        try:
            yield True
        except BaseException as e:
            self.conn.call("subtest_end", name=name, error=format_failure(e))
            raise
        self.conn.call("subtest_end", name=name, error=None)

    def serial_stdout_on(self) -> None:
        self.conn.call("serial_stdout", on=True)

    def serial_stdout_off(self) -> None:
        self.conn.call("serial_stdout", on=False)

    def create_machine(self, *args: Any, **kwargs: Any) -> Machine:
        raise TestFailure("create_machine is not supported: declare every machine in the test's nodes")

    def globals(self) -> Dict[str, Any]:
        g: Dict[str, Any] = {
            "__name__": "__main__",
            "__kiln_assert_compare": _assert_compare,
            "driver": self,
            "machines": self.machines,
            "start_all": self.start_all,
            "join_all": self.join_all,
            "subtest": self.subtest,
            "log": self.logger,
            "retry": retry,
            "serial_stdout_on": self.serial_stdout_on,
            "serial_stdout_off": self.serial_stdout_off,
            "polling_condition": polling_condition,
            "create_machine": self.create_machine,
            "Machine": Machine,
            "TestFailure": TestFailure,
            "os": os,
            "t": unittest.TestCase(),
        }
        for m in self.machines:
            g[m.name] = m
        if len(self.machines) == 1 and "machine" not in g:
            g["machine"] = self.machines[0]
        return g


def format_failure(e: BaseException) -> str:
    """The exception as the test's author needs it: where in the test file (file:line) and
    what, first, then the test file's frames of the traceback."""
    test_file = os.environ.get("KILN_TEST_FILE", "")
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == test_file]
    message = str(e)
    if not isinstance(e, TestFailure):
        message = f"{type(e).__name__}: {message}" if message else type(e).__name__
    text = f"{frames[-1].filename}:{frames[-1].lineno}: {message}" if frames else message
    if frames:
        text += "\nTraceback (the test script's lines):\n" + "".join(traceback.format_list(frames)).rstrip("\n")
    return text


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "--run"
    test_file = os.environ.get("KILN_TEST_FILE", "<testScript>")
    first_line = int(os.environ.get("KILN_TEST_LINE", "0") or 0)
    with open(os.environ["KILN_TEST_SCRIPT"], encoding="utf-8") as f:
        source = f.read()
    try:
        compiled = compile_script(source, test_file, first_line)
    except SyntaxError as e:
        print(_syntax_error_text(e, source, test_file, first_line), file=sys.stderr)
        return 2
    if mode == "--check":
        return 0
    conn = Connection(os.environ["KILN_DRIVER_SOCKET"])
    driver = Driver(conn, conn.call("hello"))
    g = driver.globals()
    if mode == "--interactive":
        def run_tests() -> None:
            exec(compiled, g)
        g["run_tests"] = g["test_script"] = run_tests
        names = ", ".join(m.name for m in driver.machines)
        banner = (f"kiln test --interactive: machines {names} (none started). start_all(), "
                  f"<machine>.shell_interact(), run_tests() runs the test script; Ctrl-D quits.")
        try:
            import readline  # noqa: F401  (line editing at the prompt)
        except ImportError:
            pass
        code.interact(banner=banner, local=g, exitmsg="")
        conn.call("finish", error=None)
        return 0
    try:
        exec(compiled, g)
    except SystemExit as e:
        # sys.exit() ends the script; a status other than 0 (or None) fails it.
        if e.code not in (None, 0):
            conn.call("finish", error=format_failure(e) if not isinstance(e.code, int) else f"the script called sys.exit({e.code})")
            return 1
    except BaseException as e:
        conn.call("finish", error=format_failure(e))
        return 1
    conn.call("finish", error=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
