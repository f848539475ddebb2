#!/usr/bin/env python3
"""Real peer for spam scoring: SpamAssassin (Debian package spamassassin,
run with -L: local tests only) and our spam_tool look at the same messages;
for the content rules both implement under the same names — GTUBE,
MISSING_DATE, MISSING_MID, MIME_HTML_ONLY — each must hit in both or in
neither. (Weights differ on purpose: SpamAssassin -L uses score set 0, we
use set 1; see spam.h.) Exits 77 (skipped) when spamassassin is missing.

usage: spam_peer_test.py SPAM_TOOL
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile

RULES = ["GTUBE", "MISSING_DATE", "MISSING_MID", "MIME_HTML_ONLY"]
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HDR = ("From: Alice <alice@a.example>\r\nTo: <bob@b.example>\r\nSubject: Hello\r\n"
       "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\nMessage-ID: <1@a.example>\r\n"
       "MIME-Version: 1.0\r\n")
TEXT = "Content-Type: text/plain; charset=us-ascii\r\n\r\nHi Bob, see you at eight.\r\n"
HTML = ("Content-Type: text/html; charset=us-ascii\r\n\r\n"
        "<html><body><p>Hi Bob, see you at eight.</p></body></html>\r\n")
ALT = ("Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n--b1\r\n" + TEXT +
       "--b1\r\n" + HTML + "--b1--\r\n")

MESSAGES = {
    "clean": HDR + TEXT,
    "gtube": HDR + "Content-Type: text/plain\r\n\r\n" + GTUBE + "\r\n",
    "gtube-base64": HDR + "Content-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n--b2\r\n"
    "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    base64.b64encode(GTUBE.encode()).decode() + "\r\n--b2--\r\n",
    "gtube-cut": HDR + "Content-Type: text/plain\r\n\r\n" + GTUBE[:40] + "\r\n",
    "no-date": HDR.replace("Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n", "") + TEXT,
    "no-mid": HDR.replace("Message-ID: <1@a.example>\r\n", "") + TEXT,
    "no-date-no-mid": "From: alice@a.example\r\nTo: <bob@b.example>\r\nSubject: x\r\n" + TEXT,
    "html-only": HDR + HTML,
    "html-alternative": HDR + ALT,
}


def ours(tool, path):
    out = subprocess.run([tool, path, "alice@a.example"], capture_output=True, text=True,
                         check=True).stdout
    return {line for line in out.splitlines() if line in RULES}


def theirs(sa, path):
    with open(path, "rb") as f:
        out = subprocess.run([sa, "-L", "-t"], stdin=f, capture_output=True, check=True).stdout
    text = out.decode("utf-8", "replace")
    hits = set(re.findall(r"^\s*-?\d+(?:\.\d+)?\s+([A-Z0-9_]+)\s", text, re.M))
    return {r for r in hits if r in RULES}


def main():
    tool = os.path.abspath(sys.argv[1])
    sa = shutil.which("spamassassin")
    if not sa:
        print("spamassassin not installed: skipped")
        return 77
    work = tempfile.mkdtemp(prefix="spam_peer_")
    fails = 0
    try:
        for name, msg in sorted(MESSAGES.items()):
            path = os.path.join(work, name + ".eml")
            with open(path, "w", newline="") as f:
                f.write(msg)
            a, b = ours(tool, path), theirs(sa, path)
            if a != b:
                fails += 1
                print("MISMATCH %s: ours %s, SpamAssassin %s" % (name, sorted(a), sorted(b)))
            else:
                print("%s: %s" % (name, sorted(a) or "none"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (len(MESSAGES) - fails, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
