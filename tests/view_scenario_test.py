#!/usr/bin/env python3
"""`mailsim view SCENARIO` (issue 8: "a scenario is run first"): the
scenario is run like `mailsim run` (summary printed, the same trace bytes
written to DIR/NAME.jsonl), then the window opens under xvfb-run and quits
after --max-frames; `view TRACE` is unchanged; a bad scenario is exit 2 with
the loader's error and no trace. Skips (exit 77) without xvfb-run, after
the checks that need no display.

Usage: view_scenario_test.py MAILSIM SRCDIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pyutil

MAILSIM, SRC = os.path.abspath(sys.argv[1]), sys.argv[2]
failures = 0


def check(cond, what):
    global failures
    print(("ok      " if cond else "FAILED  ") + what)
    if not cond:
        failures += 1


def run(*args, cwd=None, xvfb=False):
    cmd = [MAILSIM, *args]
    env = dict(os.environ)
    if xvfb:
        return pyutil.run_xvfb(cmd, env, cwd=cwd, timeout=240)
    for k in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(k, None)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=240)


def read(path):
    with open(path, "rb") as f:
        return f.read()


tmp = tempfile.mkdtemp(prefix="mailsim-view-")
journey = os.path.join(SRC, "scenarios", "journey.json")

r = run("--help")
check(r.returncode == 0 and "mailsim view TRACE|SCENARIO" in r.stdout,
      "mailsim --help lists view TRACE|SCENARIO")
r = run("view", "--help")
check(r.returncode == 0 and "SCENARIO is run first" in r.stdout and "--max-frames" in r.stdout
      and "--out DIR" in r.stdout and "--seed N" in r.stdout,
      "view --help documents the scenario and its options")
r = run("view")
check(r.returncode == 2 and "expected a TRACE or a SCENARIO" in r.stderr, "view with nothing: exit 2")

# The reference: the trace `mailsim run` writes for the journey, seeds 1 (the
# scenario's) and 7.
ref = os.path.join(tmp, "ref.jsonl")
r = run("run", journey, "--trace", ref, "-q")
check(r.returncode == 0 and os.path.exists(ref), "run journey (the reference trace)")
ref7 = os.path.join(tmp, "ref7.jsonl")
r = run("run", journey, "--trace", ref7, "--seed", "7", "-q")
check(r.returncode == 0 and read(ref7) != read(ref), "run journey --seed 7 (another trace)")

# A bad scenario: the loader's error, exit 2, no trace, no window needed.
bad = os.path.join(tmp, "bad.json")
with open(bad, "w") as f:
    f.write('{"name": "bad", "hosts": [\n')
badout = os.path.join(tmp, "badout")
r = run("view", bad, "--out", badout, "--max-frames", "5")
check(r.returncode == 2 and "bad.json:" in r.stderr and "Traceback" not in r.stderr,
      "view of a bad scenario: exit 2 with the loader's error (got %d: %s)"
      % (r.returncode, r.stderr.strip()[:160]))
check(not os.path.exists(os.path.join(badout, "bad.jsonl")), "no trace from a bad scenario")
r = run("view", os.path.join(tmp, "missing.json"), "--out", badout)
check(r.returncode == 2 and "missing.json" in r.stderr, "view of a missing scenario: exit 2")

if not shutil.which("xvfb-run"):
    print("SKIP: the window checks: xvfb-run is not installed (tools/bootstrap test installs it)")
    shutil.rmtree(tmp)
    sys.exit(1 if failures else 77)

# The journey, run then shown; the default DIR is out/ in the working directory.
shot = os.path.join(tmp, "shot.png")
r = run("view", journey, "--max-frames", "30", "--screenshot", shot, cwd=tmp, xvfb=True)
check(r.returncode == 0, "view journey.json under xvfb-run: exit 0 (%d: %s)" % (r.returncode, r.stderr))
check("scenario  journey" in r.stdout and "invariant" in r.stdout, "the run's summary is printed")
trace = os.path.join(tmp, "out", "journey.jsonl")
check(os.path.exists(trace) and read(trace) == read(ref),
      "the trace is out/journey.jsonl, byte for byte the one 'mailsim run' writes")
check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "the window drew frames (screenshot)")

out7 = os.path.join(tmp, "seven")
r = run("view", journey, "--out", out7, "--seed", "7", "--max-frames", "5", xvfb=True)
t7 = os.path.join(out7, "journey.jsonl")
check(r.returncode == 0 and os.path.exists(t7) and read(t7) == read(ref7),
      "view --out DIR --seed 7: DIR/journey.jsonl is run --seed 7's trace (%d: %s)"
      % (r.returncode, r.stderr.strip()[:160]))

# A trace: unchanged (nothing run, nothing written, the window opens).
before = sorted(os.listdir(tmp))
r = run("view", ref, "--max-frames", "5", cwd=tmp, xvfb=True)
check(r.returncode == 0 and "scenario" not in r.stdout, "view TRACE: exit 0, nothing run (%d: %s)"
      % (r.returncode, r.stderr.strip()[:160]))
check(sorted(os.listdir(tmp)) == before, "view TRACE writes nothing")

r = run("view", bad, "--out", badout, "--max-frames", "5", xvfb=True)
check(r.returncode == 2 and "bad.json:" in r.stderr, "a bad scenario under a display: exit 2")

shutil.rmtree(tmp)
print("%d failed" % failures)
sys.exit(1 if failures else 0)
