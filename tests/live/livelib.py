"""Shared fixture of the live-mode tests: runs `mailsim serve` on free
loopback ports and stops it (SIGTERM, then SIGKILL) whatever happens.

Every wait has a timeout; the server is killed at exit even when a check
raises. Checks print "ok"/"FAILED" lines and count failures.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pyutil import args, check, check_errors, finish, runner, tmpdir  # noqa: E402,F401 (live tests)


def need_tools(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        print("skip: missing " + ", ".join(missing) + " (tools/bootstrap test installs them)")
        sys.exit(77)


def live_world(src, tmp):
    """The journey with two more mailbox users no simulated client touches:
    dave (read over IMAP by the tests) and erin (over POP3)."""
    with open(os.path.join(src, "scenarios", "journey.json")) as f:
        scn = json.load(f)
    scn["name"] = "journey-live"
    scn["users"] += [
        {"address": "dave@example.org", "password": "digger", "mailbox": "mail.example.org"},
        {"address": "erin@example.org", "password": "explorer", "mailbox": "mail.example.org"},
    ]
    path = os.path.join(tmp, "journey-live.json")
    with open(path, "w") as f:
        json.dump(scn, f, indent=1)
    return path


def start_live_world(prefix):
    """MAILSIM and SRCDIR from the command line, a new temporary directory
    named PREFIX…, and a Server on live_world() there at speed 100."""
    mailsim, src = args()
    tmp = tmpdir(prefix)
    return mailsim, src, tmp, Server(mailsim, live_world(src, tmp), tmp, speed=100)


class Server:
    def __init__(self, mailsim, scenario, tmp, speed=100, extra=()):
        self.tmp = tmp
        self.ports_file = os.path.join(tmp, "ports.json")
        self.ca = os.path.join(tmp, "ca.pem")
        self.trace = os.path.join(tmp, "live.jsonl")
        self.journal = os.path.join(tmp, "live.journal")
        self.log = open(os.path.join(tmp, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [mailsim, "serve", scenario, "--speed", str(speed), "--ports-file", self.ports_file,
             "--ca-out", self.ca, "--trace", self.trace, "--journal", self.journal, *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.kill)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.ports_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("mailsim serve did not start: " + self.log_text())
            time.sleep(0.05)
        with open(self.ports_file) as f:
            self.table = json.load(f)

    def port(self, host, port):
        for s in self.table["services"]:
            if s["host"] == host and s["port"] == port:
                return s["listen_port"]
        raise KeyError(f"{host}:{port} not in the port table")

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self, timeout=60):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def alive(self):
        return self.proc.poll() is None


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def replay_identical(mailsim, srv, what):
    """Replays the stopped server's journal; checks the trace is the same bytes."""
    out = os.path.join(srv.tmp, "replay.jsonl")
    r = subprocess.run([mailsim, "replay", srv.journal, "--trace", out], capture_output=True,
                       text=True, timeout=600)
    check(r.returncode == 0, f"{what}: mailsim replay exits 0", r.stderr.strip())
    with open(srv.trace, "rb") as a, open(out, "rb") as b:
        ta, tb = a.read(), b.read()
    check(len(ta) > 0 and ta == tb, f"{what}: the replayed trace is byte-identical ({len(ta)} octets)",
          "differs" if ta != tb else "empty")


def smtp_session(port, lines, timeout=20, read_greeting=True):
    """A plain SMTP conversation: returns everything the server sent."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        if read_greeting:
            got += s.recv(4096)
        for ln in lines:
            s.sendall(ln)
            got += s.recv(65536)
    finally:
        s.close()
    return got


def wait_until(fn, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()
