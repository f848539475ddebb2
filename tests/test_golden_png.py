#!/usr/bin/env python3
"""Golden pictures: the viewer draws the journey's golden trace at its five
named moments exactly as stored in traces/golden/png (byte for byte: RGB888,
software renderer). Regenerate only deliberately, with
tools/regen-golden-png.sh build/cli/mailsim traces/golden/journey.jsonl traces/golden/png

Usage: test_golden_png.py MAILSIM SRCDIR
"""
import os
import subprocess
import sys
import tempfile

MAILSIM, SRC = os.path.abspath(sys.argv[1]), sys.argv[2]
MOMENTS = ["first-submission", "mx-lookup", "greylisting", "delivery", "imap-fetch"]
trace = os.path.join(SRC, "traces", "golden", "journey.jsonl")
failures = 0
with tempfile.TemporaryDirectory() as tmp:
    for m in MOMENTS:
        out = os.path.join(tmp, m + ".png")
        r = subprocess.run([MAILSIM, "render", trace, "--at", m, "--size", "1280x800",
                            "--view", "all", "--out", out], capture_output=True, text=True)
        want = os.path.join(SRC, "traces", "golden", "png", "journey-%s.png" % m)
        ok = r.returncode == 0 and os.path.exists(out) and open(out, "rb").read() == open(want, "rb").read()
        print(("ok      " if ok else "FAILED  ") + m + ("" if ok else ": " + r.stderr.strip()))
        failures += not ok
print("%d failed" % failures)
sys.exit(1 if failures else 0)
