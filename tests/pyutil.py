"""Shared by the Python test drivers (tests/*.py, tests/live/*.py): the
command line `MAILSIM SRCDIR`, check() lines that count failures, a runner
for mailsim, a temporary directory and the exit status.

A driver does:
    MAILSIM, SRC = pyutil.args()
    run = pyutil.runner(MAILSIM)
    check(r.returncode == 0, "what it shows")
    ...
    pyutil.finish()   # exits 1 when a check failed, else 0
"""
import os
import subprocess
import sys
import tempfile

failures = 0


def args():
    """MAILSIM (made absolute) and SRCDIR from the command line."""
    return os.path.abspath(sys.argv[1]), sys.argv[2]


def check(cond, what, detail=""):
    """Prints "ok"/"FAILED" and WHAT (with DETAIL on failure); counts failures.
    Returns COND."""
    global failures
    print(("ok      " if cond else "FAILED  ") + what + ("" if cond or not detail else f"  [{detail}]"),
          flush=True)
    if not cond:
        failures += 1
    return cond


def runner(mailsim, **defaults):
    """A run(*ARGS, **KW) that runs MAILSIM ARGS with the output captured (as
    text unless text=False), DEFAULTS and KW passed to subprocess.run."""
    def run(*argv, **kw):
        opts = {"capture_output": True, "text": True, **defaults, **kw}
        return subprocess.run([mailsim, *argv], **opts)
    return run


def run_xvfb(cmd, env, **kw):
    """Runs CMD under `xvfb-run -a` with ENV minus the leak check (X11 and
    D-Bus keep allocations to exit, as for viz_window), output captured as
    text. xvfb-run's own failures (exit 5, "problem while cleaning up
    temporary directory", when several start at once on a loaded machine)
    say nothing about CMD: it is run again, up to three times."""
    env = dict(env)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    for _ in range(3):
        r = subprocess.run(["xvfb-run", "-a", *cmd], capture_output=True, text=True, env=env, **kw)
        if "xvfb-run: error:" not in r.stderr:
            break
    return r


def check_errors(run, rows):
    """For each row (ARGV, PARTS, WHAT): run(*ARGV) exits 2 and its stderr
    holds every string of PARTS (a str is one part)."""
    for argv, parts, what in rows:
        r = run(*argv)
        parts = (parts,) if isinstance(parts, str) else parts
        check(r.returncode == 2 and all(p in r.stderr for p in parts), what, r.stderr.strip()[:200])


def tmpdir(prefix):
    """A new temporary directory named PREFIX…, left for the test to inspect."""
    return tempfile.mkdtemp(prefix=prefix)


def finish():
    """Prints the failure count and exits: 1 when a check failed, else 0."""
    print(f"{failures} failed", flush=True)
    sys.exit(1 if failures else 0)
