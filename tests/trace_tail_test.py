#!/usr/bin/env python3
"""A run that ends abnormally still writes its trace up to the last complete
record (traces/trace_guard.h): a bug's abort or g_error, a crash, Ctrl-C and
SIGTERM, and a failure of the invariant checker on the writer thread.

The test-only trigger MAILSIM_TEST_FAIL_AT=N[:SIG][:tap] raises SIG on the
thread that finishes (or, with tap, checks) record N. The world writes ~7 MB
at protocol detail, so several of the writer thread's 64 KiB chunks are in
flight when it fires (before the guard, up to ~1 MiB of tail was lost).

Usage: trace_tail_test.py MAILSIM SRCDIR
"""
import json
import os
import signal
import subprocess
import sys
import time

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM)
tmp = pyutil.tmpdir("mailsim-tail-")
world = os.path.join(tmp, "tail.json")
subprocess.run([sys.executable, os.path.join(SRC, "tools", "gen-load-scenario.py"), "--users",
                "20", "--domains", "4", "--messages", "300", "--no-tls", "--name", "tail",
                "--out", world], check=True)

full = os.path.join(tmp, "full.jsonl")
r = run("run", world, "--detail", "protocol", "--trace", full, "-q")
check(r.returncode == 0, "the whole run", r.stderr[-300:])
with open(full, "rb") as f:
    whole = f.read()
nrec = whole.count(b"\n")
check(nrec > 10000 and len(whole) > 4 << 20, f"the whole trace: {nrec} records, {len(whole)} octets")

# (trigger, signal the process must die of, records the file must hold at least)
at = nrec * 2 // 3
rows = [
    (f"{at}", signal.SIGABRT, "abort() (g_assert) on the simulation thread"),
    (f"{at}:TRAP", signal.SIGTRAP, "g_error (breakpoint trap)"),
    (f"{at}:SEGV", signal.SIGSEGV, "a crash"),
    (f"{at}:INT", signal.SIGINT, "Ctrl-C"),
    (f"{at}:TERM", signal.SIGTERM, "SIGTERM"),
    (f"{at}:ABRT:tap", signal.SIGABRT, "the checker aborting on the writer thread"),
    ("1", signal.SIGABRT, "abort at the header"),
]
for trig, sig, what in rows:
    path = os.path.join(tmp, "cut.jsonl")
    if os.path.exists(path):
        os.unlink(path)
    r = run("run", world, "--detail", "protocol", "--trace", path, "-q",
            env={**os.environ, "MAILSIM_TEST_FAIL_AT": trig})
    check(r.returncode == -sig, f"{what}: dies of signal {sig.name}",
          f"got returncode {r.returncode} want {-sig}")
    with open(path, "rb") as f:
        got = f.read()
    n = got.count(b"\n")
    want = int(trig.split(":")[0])
    ok_prefix = whole.startswith(got) and got.endswith(b"\n")
    check(ok_prefix, f"{what}: the trace is the whole run's, cut after a complete record",
          f"got {len(got)} octets")
    if ":tap" in trig:
        # The checker stops at record N; its chunk and those queued behind it are written.
        check(n >= want, f"{what}: record {want} and the rest of its chunk are there",
              f"got {n} records want >= {want}")
    else:
        check(n == want, f"{what}: every record up to the failing one is there",
              f"got {n} records want {want}")
    if got:
        last = got.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        check(json.loads(last) is not None, f"{what}: the tail record parses")

# A signal the run was started ignoring (nohup, a script's background job)
# stays ignored: the guard changes how a run ends, never whether it does.
path = os.path.join(tmp, "ign.jsonl")
r = run("run", world, "--detail", "protocol", "--trace", path, "-q",
        env={**os.environ, "MAILSIM_TEST_FAIL_AT": f"{at}:INT"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
with open(path, "rb") as f:
    check(r.returncode == 0 and f.read() == whole, "an ignored SIGINT: the run goes on to the end",
          f"returncode {r.returncode}")

# SIGTERM from outside, once the trace has passed 1 MB: the file ends with a
# complete record and is the start of the whole run's (when the run was
# still going; on a machine fast enough to finish first there is nothing
# to check).
path = os.path.join(tmp, "kill.jsonl")
p = subprocess.Popen([MAILSIM, "run", world, "--detail", "protocol", "--trace", path, "-q"])
while p.poll() is None and (not os.path.exists(path) or os.path.getsize(path) < 1 << 20):
    time.sleep(0.001)
if p.poll() is None:
    p.send_signal(signal.SIGTERM)
    rc = p.wait()
    with open(path, "rb") as f:
        got = f.read()
    check(rc in (-signal.SIGTERM, 0) and got.endswith(b"\n") and whole.startswith(got),
          "SIGTERM from outside: the trace ends with a complete record",
          f"returncode {rc}, {len(got)} octets")
else:
    print("skip    SIGTERM from outside: the run had finished")

pyutil.finish()
