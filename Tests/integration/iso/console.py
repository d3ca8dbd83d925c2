#!/usr/bin/env python3
"""A serial console driven by a script: iso.sh's expect.

Usage: console.py SOCKET LOG OUTDIR [--t0 EPOCH] < SCRIPT

Connects to a QEMU serial chardev listening on the Unix socket SOCKET (retrying until QEMU
has made it), writes every byte the machine sends to LOG as it arrives, and runs SCRIPT,
one step a line (blank lines and lines starting with # are skipped):

  expect TIMEOUT REGEX    wait until REGEX (Python re, over the text received since the
                          last match; ANSI escapes and \\r are kept) matches
  send TEXT               send TEXT; escapes \\n \\r \\t \\\\ \\xHH are decoded
  sendline TEXT           send TEXT and a newline
  run TIMEOUT NAME CMD    run CMD in the shell at the prompt; its output (between two unique
                          markers, line ends made \\n) goes to OUTDIR/NAME.out and its
                          exit status to OUTDIR/NAME.rc
  mark NAME               append "NAME SECONDS" to OUTDIR/marks: seconds since --t0 (QEMU's
                          start; default: when console.py started)
  sleep SECONDS           wait, still logging
  eof TIMEOUT             wait until the machine closes the console (QEMU exited)

Exits 0 when every step is done, 1 when a step times out or the console closes before a
step is done (the step, its line and what was awaited go to stderr), 2 on a bad script.
Every step's start is also logged to OUTDIR/steps with its time, for the failure report.
"""
import os
import re
import select
import socket
import sys
import time


def decode(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in "nrt\\":
                out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[n]); i += 2; continue
            if n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
                out.append(chr(int(text[i + 2:i + 4], 16))); i += 4; continue
        out.append(c); i += 1
    return "".join(out)


class Console:
    def __init__(self, path, log, connect_timeout=60):
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise SystemExit(f"console.py: no console socket at {path} after {connect_timeout} s")
                time.sleep(0.1)
        self.sock.setblocking(False)
        self.log = open(log, "ab", buffering=0)
        self.buf = ""          # text not consumed by a match yet
        self.closed = False

    def pump(self, timeout):
        """Reads what is there (waiting at most TIMEOUT s for something); False on EOF."""
        if self.closed:
            return False
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return True
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.log.write(data)
        self.buf += data.decode("utf-8", "replace")
        # Keep the unconsumed text bounded: a boot's log is megabytes of nothing awaited.
        if len(self.buf) > 1 << 20:
            self.buf = self.buf[-(1 << 19):]
        return True

    def expect(self, regex, timeout):
        pat = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            m = pat.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not self.pump(min(left, 0.5)) and not pat.search(self.buf):
                return None

    def send(self, text):
        data = text.encode()
        self.sock.setblocking(True)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def wait_eof(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.pump(min(deadline - time.monotonic(), 0.5)):
                return True
        return False


def main():
    args = sys.argv[1:]
    t0 = time.time()
    if "--t0" in args:
        i = args.index("--t0")
        t0 = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    sock_path, log_path, outdir = args
    os.makedirs(outdir, exist_ok=True)
    steps = [l.rstrip("\n") for l in sys.stdin]
    con = Console(sock_path, log_path)
    steplog = open(os.path.join(outdir, "steps"), "a")
    serial = 0

    def failed(lineno, line, why):
        print(f"console.py: step {lineno} `{line}` failed after {time.time() - t0:.1f} s: {why}"
              + (" (the console closed: QEMU exited)" if con.closed else ""), file=sys.stderr)
        return 1

    for lineno, line in enumerate(steps, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        op, _, rest = s.partition(" ")
        print(f"{time.time() - t0:7.1f} {s}", file=steplog, flush=True)
        try:
            if op == "expect":
                tmo, _, regex = rest.partition(" ")
                if not con.expect(regex, float(tmo)):
                    return failed(lineno, s, f"no match for /{regex}/ within {tmo} s")
            elif op == "send":
                con.send(decode(rest))
            elif op == "sendline":
                con.send(decode(rest) + "\n")
            elif op == "run":
                tmo, name, cmd = rest.split(" ", 2)
                serial += 1
                tag = f"{os.getpid()}x{serial}"
                # The markers are printed by printf from pieces, so the command line's echo
                # (the terminal echoes what is typed) never contains them.
                begin, end = f"KB_{tag}", f"KE_{tag}"
                # One line: a second line typed while the first runs would be echoed by the
                # terminal into the command's output.
                con.send(f"printf '%s_%s\\n' KB {tag}; {cmd}; printf '%s_%s rc=%s\\n' KE {tag} $?\n")
                if not con.expect(re.escape(begin) + r"\r?\n", float(tmo)):
                    return failed(lineno, s, f"the command did not start within {tmo} s")
                m = con.expect(re.escape(end) + r" rc=(\d+)", float(tmo))
                if not m:
                    return failed(lineno, s, f"the command did not finish within {tmo} s")
                # The output: what the buffer held between the two markers (expect keeps
                # the text after the begin marker; the match ends at the end marker).
                text = m.string[:m.start()]
                with open(os.path.join(outdir, name + ".out"), "w") as f:
                    # A lone \r (a progress line redrawn) starts a line too.
                    f.write(re.sub(r"\r+\n", "\n", text).replace("\r", "\n"))
                with open(os.path.join(outdir, name + ".rc"), "w") as f:
                    f.write(m.group(1) + "\n")
            elif op == "mark":
                with open(os.path.join(outdir, "marks"), "a") as f:
                    f.write(f"{rest} {time.time() - t0:.1f}\n")
            elif op == "sleep":
                deadline = time.monotonic() + float(rest)
                while time.monotonic() < deadline:
                    con.pump(min(deadline - time.monotonic(), 0.5))
            elif op == "eof":
                if not con.wait_eof(float(rest)):
                    return failed(lineno, s, f"the console stayed open for {rest} s")
            else:
                print(f"console.py: line {lineno}: unknown step `{op}`", file=sys.stderr)
                return 2
        except ValueError as e:
            print(f"console.py: line {lineno}: bad step `{s}`: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
