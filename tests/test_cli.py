#!/usr/bin/env python3
"""The mailsim command as a user meets it: exit codes, messages, outputs.

Usage: test_cli.py MAILSIM SRCDIR
"""
import json
import os

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM)


tmp = pyutil.tmpdir("mailsim-cli-")
stream = os.path.join(SRC, "scenarios", "stream.json")

r = run("--help")
check(r.returncode == 0 and "mailsim run" in r.stdout and "mailsim check" in r.stdout,
      "--help lists the commands, exit 0")
r = run()
check(r.returncode == 2 and "usage" in r.stderr, "no command: usage on stderr, exit 2")
r = run("frobnicate")
check(r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr, "unknown command, exit 2")
r = run("run", "--help")
check(r.returncode == 0 and "--seed" in r.stdout and "--detail" in r.stdout, "run --help")

bad = os.path.join(tmp, "bad.json")
with open(bad, "w") as f:
    f.write('{"name": "x", "hosts": [{"name": "a", "addrs": ["300.1.1.1"]}]}')
pyutil.check_errors(run, [
    (["run", os.path.join(tmp, "missing.json")], "missing.json", "missing scenario: named, exit 2"),
    (["run", bad], ["bad.json", "$.hosts[0].addrs[0]"],
     "bad scenario: file and JSON path in the message, exit 2"),
    (["check", bad], "$.hosts[0].addrs[0]", "check reports the same error"),
    (["run", stream, "--seed", "banana"], "--seed", "bad --seed, exit 2"),
    (["run", stream, "--detail", "everything"], "--detail", "bad --detail, exit 2"),
    (["run", stream, "--trace", "/nonexistent-dir/t.jsonl"], "/nonexistent-dir/t.jsonl",
     "unwritable trace, exit 2"),
])
r = run("check", stream)
check(r.returncode == 0 and "ok" in r.stdout, "check accepts the bundled scenario")

t1, t2 = os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")
r = run("run", stream, "--trace", t1)
check(r.returncode == 0 and "complete and intact" in r.stdout, "stream scenario runs, summary printed")
run("run", stream, "--trace", t2, "-q")
with open(t1, "rb") as f1, open(t2, "rb") as f2:
    check(f1.read() == f2.read(), "two runs: byte-identical traces")
with open(t1) as f:
    lines = f.read().splitlines()
head, end = json.loads(lines[0]), json.loads(lines[-1])
check(head.get("format") == "mailsim-trace" and head.get("version") == 1, "header first")
check(end.get("ev") == "end" and end.get("ok") is True, "end record last, ok")
r = run("run", stream, "--trace", "-", "-q")
check(r.returncode == 0 and r.stdout.splitlines()[0].startswith('{"format"'), "--trace - writes to stdout")

r = run("diff", t1, t2)
check(r.returncode == 0 and "identical" in r.stdout, "diff of two equal runs: identical, exit 0")
t3 = os.path.join(tmp, "c.jsonl")
run("run", stream, "--trace", t3, "--seed", "2", "-q")
r = run("diff", t1, t3)
check(r.returncode == 1 and "differ first at line" in r.stdout and "t=" in r.stdout,
      "diff of two seeds: names the line and time, exit 1")
with open(os.path.join(tmp, "cut.jsonl"), "w") as f:
    f.write(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
r = run("diff", t1, os.path.join(tmp, "cut.jsonl"))
check(r.returncode == 2 and "cut.jsonl:2" in r.stderr, "diff of a truncated trace: file:line, exit 2")

r = run("explain", t1)
check(r.returncode == 0 and "no message" in r.stdout, "explain on a trace without mail says so")
r = run("explain", t1, "--message", "m9")
check(r.returncode == 1 and "no message \"m9\"" in r.stderr, "explain of an unknown message, exit 1")
r = run("explain", os.path.join(tmp, "cut.jsonl"))
check(r.returncode == 2 and "cut.jsonl:2" in r.stderr, "explain of a truncated trace, exit 2")

# check-trace: 0 clean, 1 violations (a stored copy removed by hand), 2 unreadable.
journey = os.path.join(SRC, "scenarios", "journey.json")
tj = os.path.join(tmp, "journey.jsonl")
run("run", journey, "--trace", tj, "-q", "--detail", "messages")
r = run("check-trace", tj)
check(r.returncode == 0 and "every invariant holds" in r.stdout and "reported the same" in r.stdout,
      "check-trace of a clean run: exit 0, agrees with the end record")
with open(tj) as f:
    jl = f.read().splitlines()
broken = []
for line in jl:
    rec = json.loads(line)
    if rec.get("ev") == "msg.deliver" and rec.get("rcpt") == "bob@example.org":
        line = json.dumps({"t": rec["t"], "id": rec["id"], "ev": "test.removed"}, separators=(",", ":"))
    broken.append(line)
tb = os.path.join(tmp, "broken.jsonl")
with open(tb, "w") as f:
    f.write("\n".join(broken) + "\n")
r = run("check-trace", tb)
check(r.returncode == 1 and "no-loss: message m1." in r.stdout and "mail.example.org" in r.stdout
      and "reported 0 violations instead" in r.stdout, "check-trace of an edited trace: the loss, exit 1")
r = run("check-trace", os.path.join(tmp, "cut.jsonl"))
check(r.returncode == 2 and "cut.jsonl:2" in r.stderr, "check-trace of a truncated trace, exit 2")
r = run("check-trace", "--help")
check(r.returncode == 0 and "liveness" in r.stdout and "Exit status" in r.stdout, "check-trace --help")
r = run("diff", tj, tb)
check(r.returncode == 1 and "in mail terms" in r.stdout and "still pending instead of delivered" in r.stdout,
      "diff in mail terms: the removed delivery, exit 1")

# chaos: a table by seed, a reproducer per failing seed (none here), usage errors.
r = run("chaos", journey, "--seeds", "3-4", "-j", "2")
check(r.returncode == 0 and r.stdout.splitlines()[1].split()[0] == "3" and "2 seeds, 0 failing" in r.stdout,
      "chaos: table in seed order, exit 0")
r = run("chaos", journey, "--seeds", "x")
check(r.returncode == 2 and "--seeds" in r.stderr, "chaos: bad --seeds, exit 2")
r = run("--help")
check("check-trace" in r.stdout and "chaos" in r.stdout, "mailsim --help lists check-trace and chaos")

# The default trace path, relative to the working directory.
r = run("run", stream, cwd=tmp)
check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "out", "stream.jsonl")),
      "default trace goes to out/NAME.jsonl")

pyutil.finish()
