#!/usr/bin/env python3
"""Golden pictures: the viewer draws the journey's golden trace at its five
named moments exactly as stored in traces/golden/png (byte for byte: RGB888,
software renderer). Regenerate only deliberately, with
tools/regen-golden-png.sh build/cli/mailsim traces/golden/journey.jsonl traces/golden/png

Usage: test_golden_png.py MAILSIM SRCDIR
"""
import os
import tempfile

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM)
MOMENTS = ["first-submission", "mx-lookup", "greylisting", "delivery", "imap-fetch"]
trace = os.path.join(SRC, "traces", "golden", "journey.jsonl")
with tempfile.TemporaryDirectory() as tmp:
    for m in MOMENTS:
        out = os.path.join(tmp, m + ".png")
        r = run("render", trace, "--at", m, "--size", "1280x800", "--view", "all", "--out", out)
        want = os.path.join(SRC, "traces", "golden", "png", "journey-%s.png" % m)
        ok = r.returncode == 0 and os.path.exists(out) and open(out, "rb").read() == open(want, "rb").read()
        check(ok, m, r.stderr.strip())
pyutil.finish()
