#!/usr/bin/env python3
"""`mailsim serve` and `mailsim replay` as a user meets them: help, usage
errors (exit 2), the port table, --duration, --listen, and a session with
no client at all replaying into the same trace. Needs no outside tool.

Usage: test_live_cli.py MAILSIM SRCDIR
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
from livelib import check  # noqa: E402

MAILSIM, SRC = livelib.args()
SRC = os.path.abspath(SRC)
JOURNEY = os.path.join(SRC, "scenarios", "journey.json")
tmp = livelib.tmpdir("mailsim-live-cli-")
run = livelib.runner(MAILSIM, timeout=120, cwd=tmp)


r = run("--help")
check(r.returncode == 0 and "mailsim serve" in r.stdout and "mailsim replay" in r.stdout,
      "mailsim --help lists serve and replay")
r = run("serve", "--help")
check(r.returncode == 0 and all(o in r.stdout for o in (
    "--listen", "--allow-remote", "--speed", "--ca-out", "--trace", "--journal", "--duration",
    "--ports-file")), "serve --help shows every option")
r = run("replay", "--help")
check(r.returncode == 0 and "--trace" in r.stdout and "byte-identical" in r.stdout,
      "replay --help")

with open(os.path.join(tmp, "trace.journal"), "w") as f:
    f.write('{"format":"mailsim-trace","version":1}\n')
livelib.check_errors(run, [
    (["serve"], "expected one SCENARIO", "serve without a scenario: exit 2, says why"),
    (["serve", JOURNEY, "--listen", "0.0.0.0:0=smtp.example.com:587"], "not a loopback address",
     "serve: a non-loopback address needs --allow-remote: exit 2, says why"),
    (["serve", JOURNEY, "--listen", "127.0.0.1=smtp.example.com:587"],
     "expected ADDR:PORT=HOST:PORT", "serve: a malformed --listen: exit 2, says why"),
    (["serve", JOURNEY, "--listen", "127.0.0.1:0=nosuch.example:25"], "not a host of scenario",
     "serve: --listen to an unknown host: exit 2, says why"),
    (["serve", JOURNEY, "--speed", "0"], "--speed 0", "serve: --speed 0: exit 2, says why"),
    (["serve", JOURNEY, "--duration", "soon"], "--duration",
     "serve: a bad --duration: exit 2, says why"),
    (["serve", os.path.join(tmp, "missing.json")], "missing.json",
     "serve: a missing scenario: exit 2, says why"),
    (["replay", os.path.join(tmp, "missing.journal")], "missing.journal",
     "replay: a missing journal: exit 2"),
    (["replay", os.path.join(tmp, "trace.journal")], "not a mailsim journal",
     "replay: not a journal: exit 2"),
])

# --listen with a free port chosen by the test; --duration stops the session.
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
ports = os.path.join(tmp, "p.json")
r = run("serve", JOURNEY, "--listen", f"127.0.0.1:{port}=mail.example.org:143", "--speed", "200",
        "--duration", "3m", "--ports-file", ports, "--trace", "d.jsonl", "--journal", "d.journal")
check(r.returncode == 0 and f"127.0.0.1:{port}" in r.stdout and "mail.example.org:143" in r.stdout,
      "serve --duration 3m --speed 200 stops by itself, exit 0, prints the table", r.stderr[-200:])
with open(ports) as f:
    table = json.load(f)
check(table["services"] == [{"service": "imap", "host": "mail.example.org", "port": 143,
                             "listen": "127.0.0.1", "listen_port": port, "proto": "tcp"}],
      "--ports-file: the one mapping asked for", repr(table))
recs = livelib.records(os.path.join(tmp, "d.jsonl"))
check(recs[-1].get("ev") == "end" and recs[-1]["t"] == 180 * 10**9,
      "the trace ends at the duration (3 min simulated)", repr(recs[-1].get("t")))
with open(os.path.join(tmp, "d.journal")) as f:
    lines = [json.loads(x) for x in f]
check(lines[0]["format"] == "mailsim-journal" and lines[0]["gateways"] == ["mail.example.org"]
      and lines[-1] == {"t": 180 * 10**9, "in": "end", "id": 0},
      "the journal: header with the gateway, then the end at 3 min", repr(lines[-1]))
r = run("replay", "d.journal", "--trace", "d2.jsonl")
with open(os.path.join(tmp, "d.jsonl"), "rb") as a, open(os.path.join(tmp, "d2.jsonl"), "rb") as b:
    same = a.read() == b.read()
check(r.returncode == 0 and same, "a session without clients replays byte-identically", r.stderr)

# Without --listen: every service of the journey.
r = run("serve", JOURNEY, "--speed", "1000", "--duration", "1s", "--ports-file", ports,
        "--ca-out", "ca.pem", "--trace", "e.jsonl", "--journal", "e.journal")
with open(ports) as f:
    table = json.load(f)
got = sorted((s["host"], s["port"], s["proto"]) for s in table["services"])
want = sorted([("smtp.example.com", 25, "tcp"), ("smtp.example.com", 587, "tcp"),
               ("mx.example.org", 25, "tcp"), ("mail.example.org", 143, "tcp"),
               ("mail.example.org", 110, "tcp")] +
              [(h, 53, "tcp+udp") for h in ("resolver.example.com", "resolver.example.org",
                                            "a.root-servers.net", "a.gtld-servers.net",
                                            "ns1.example.com", "ns1.example.org")])
check(r.returncode == 0 and got == want and all(
    s["listen"] == "127.0.0.1" and s["listen_port"] > 0 for s in table["services"]),
      "without --listen every service of the scenario gets a loopback port", repr(got))
with open(os.path.join(tmp, "ca.pem")) as f:
    check(f.read().startswith("-----BEGIN CERTIFICATE-----"), "--ca-out writes the CA (PEM)")
livelib.finish()
