#!/usr/bin/env python3
"""`mailsim show` as the README's first command: without a display it runs
the journey and writes the five named moments (equal to the golden
pictures); with one (xvfb-run, when installed) it opens the window, plays
and quits cleanly, writing no pictures. Bad traces give a clear error and
exit 2 on both paths, and in `mailsim view`.

Usage: test_show.py MAILSIM SRCDIR
"""
import filecmp
import os
import shutil
import subprocess

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
MOMENTS = ["first-submission", "mx-lookup", "greylisting", "delivery", "imap-fetch"]

def env_without_display():
    env = dict(os.environ)
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        env.pop(k, None)
    return env


def run(*args, env=None, cwd=None, xvfb=False):
    cmd = [MAILSIM, *args]
    if xvfb:
        return pyutil.run_xvfb(cmd, env if env is not None else os.environ, cwd=cwd, timeout=240)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=240)


tmp = pyutil.tmpdir("mailsim-show-")
journey = os.path.join(SRC, "scenarios", "journey.json")
golden = os.path.join(SRC, "traces", "golden", "png")
nodisp = env_without_display()

r = run("--help")
check(r.returncode == 0 and "mailsim show" in r.stdout, "mailsim --help lists show")
r = run("show", "--help")
check(r.returncode == 0 and "--pictures" in r.stdout and "DISPLAY" in r.stdout,
      "show --help documents the options and the display rule")
r = run("show")
check(r.returncode == 2 and "expected a SCENARIO or a TRACE" in r.stderr, "show with nothing: exit 2")
r = run("show", journey, "--size", "12x3")
check(r.returncode == 2 and "--size" in r.stderr, "show --size 12x3: exit 2")

# 1. no display: the journey is run, then the five pictures
out = os.path.join(tmp, "out")
r = run("show", journey, "--out", out, env=nodisp, cwd=tmp)
check(r.returncode == 0, "show journey without a display: exit 0 (%d: %s)" % (r.returncode, r.stderr))
check("scenario  journey" in r.stdout and "invariant" in r.stdout, "the run's summary is printed")
check("no display" in r.stdout, "it says there is no display")
trace = os.path.join(out, "journey.jsonl")
check(os.path.exists(trace), "the trace is written to DIR/journey.jsonl")
for mo in MOMENTS:
    png = os.path.join(out, "journey-%s.png" % mo)
    check(png in r.stdout, "it names %s" % png)
    check(os.path.exists(png) and filecmp.cmp(png, os.path.join(golden, "journey-%s.png" % mo),
                                              shallow=False),
          "%s equals the golden picture" % os.path.basename(png))

# 2. a trace, --pictures
out2 = os.path.join(tmp, "out2")
r = run("show", trace, "--out", out2, "--pictures", env=nodisp)
check(r.returncode == 0 and sorted(os.listdir(out2)) == sorted("journey-%s.png" % m for m in MOMENTS),
      "show TRACE --pictures writes exactly the five pictures")

# 3. bad traces: a clear error, exit 2, never a crash
good = open(trace, "rb").read()
cut = os.path.join(tmp, "cut.jsonl")
open(cut, "wb").write(good[: len(good) // 2])
bad = os.path.join(tmp, "bad.jsonl")
lines = good.split(b"\n")
lines[3] = lines[3].replace(b'"t":', b'"t":-', 1)
open(bad, "wb").write(b"\n".join(lines))
for path, want in ((cut, "truncated trace"), (bad, "bad.jsonl:4")):
    for cmd in ("show", "view"):
        r = run(cmd, path, "--out", os.path.join(tmp, "x"), env=nodisp) if cmd == "show" else \
            run(cmd, path, env=nodisp)
        check(r.returncode == 2 and want in r.stderr and "Traceback" not in r.stderr,
              "%s %s: exit 2 and \"%s\" (got %d: %s)" % (cmd, os.path.basename(path), want,
                                                        r.returncode, r.stderr.strip()[:120]))
check(not os.path.exists(os.path.join(tmp, "x")), "no pictures from a bad trace")

# 4. with a display: the window opens, plays, quits cleanly; no pictures
if shutil.which("xvfb-run"):
    out3 = os.path.join(tmp, "out3")
    shot = os.path.join(tmp, "shot.png")
    r = run("show", trace, "--out", out3, "--max-frames", "40", "--screenshot", shot, xvfb=True)
    check(r.returncode == 0, "show under xvfb-run: exit 0 (%d: %s)" % (r.returncode, r.stderr))
    check(os.path.exists(shot) and os.path.getsize(shot) > 10000, "the window drew frames (screenshot)")
    check(not os.path.exists(out3), "with a display no pictures are written")
    r = run("show", bad, "--max-frames", "5", xvfb=True)
    check(r.returncode == 2 and "bad.jsonl:4" in r.stderr,
          "a bad trace under a display: error window, exit 2 (got %d: %s)" % (r.returncode,
                                                                          r.stderr.strip()[:300]))
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen")
    out4 = os.path.join(tmp, "out4")
    r = run("show", trace, "--out", out4, env=env, xvfb=True)
    check(r.returncode == 0 and len(os.listdir(out4)) == 5,
          "SDL_VIDEODRIVER=offscreen counts as no display: pictures")
else:
    print("skip    the window path: xvfb-run is not installed (tools/bootstrap test installs it)")

shutil.rmtree(tmp)
pyutil.finish()
