#!/usr/bin/env python3
"""`mailsim export --eml/--mbox` read by real tools: Python's email and
mailbox modules and dkimpy (python3-dkim), on the journey run with
--keep-messages. Exit 77 (skip) without dkimpy.

Usage: export_mail_test.py MAILSIM SRCDIR
"""
import email
import email.policy
import json
import mailbox
import os
import sys

import pyutil
from pyutil import check

try:
    import dkim
except ImportError:
    print("dkimpy (python3-dkim) missing: skipped")
    sys.exit(77)

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM, text=False)

tmp = pyutil.tmpdir("mailsim-export-")
journey = os.path.join(SRC, "scenarios", "journey.json")
plain = os.path.join(tmp, "plain.jsonl")
kept = os.path.join(tmp, "kept.jsonl")
r = run("run", journey, "-q", "--trace", plain)
check(r.returncode == 0, "journey runs")
r = run("run", journey, "-q", "--keep-messages", "--trace", kept)
check(r.returncode == 0, "journey runs with --keep-messages")

# Without --keep-messages: no bodies, a hint, exit 2.
r = run("export", plain, "--eml", os.path.join(tmp, "none"))
check(r.returncode == 2 and b"--keep-messages" in r.stderr,
      "a trace without bodies: exit 2 naming --keep-messages")

records = [json.loads(l) for l in open(kept, encoding="utf-8")]
stores = {x["id"]: x for x in records if x.get("ev") == "msg.store"}
kepts = [x for x in records if x.get("ev") == "msg.kept"]
# m1 goes to Bob and Carol in one delivery; the newsletter m2 to Bob only.
check(len(stores) == 2, f"two msg.store (got {len(stores)})")
# Bob syncs over IMAP (keeps; his Sieve script filed the newsletter),
# Carol downloads over POP3 (deletes).
check([(k["mailbox"], k["folder"]) for k in kepts] ==
      [("bob@example.org", "INBOX"), ("bob@example.org", "Newsletters")],
      f"msg.kept: Bob's two copies only (got {[(k['mailbox'], k['folder']) for k in kepts]})")
check(records[-1]["ev"] == "end" and all(k["t"] == records[-1]["t"] for k in kepts),
      "msg.kept records come at the end, before the end record")


def stored_bytes(rec):
    return rec["data"].encode("latin-1")  # bytes strings: one code point per octet


# The DKIM key as the run published it: the TXT answer found in the trace.
txt = {}
for x in records:
    if x.get("ev") == "dns.response" and x.get("qtype") == "TXT":
        for a in x["answers"]:
            name, _ttl, _in, typ, rdata = a.split(" ", 4)
            if typ == "TXT":
                parts = [p for p in rdata.split('"') if p.strip()]
                txt[name.lower()] = "".join(parts).encode()
check(b"s1._domainkey.example.com." in [k.encode() for k in txt],
      "the selector's TXT record is in the trace")


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    name = name.lower()
    if not name.endswith("."):
        name += "."
    return txt.get(name)


# --eml
emldir = os.path.join(tmp, "eml")
r = run("export", kept, "--eml", emldir)
files = sorted(os.listdir(emldir)) if os.path.isdir(emldir) else []
check(r.returncode == 0 and files == ["001-bob@example.org-INBOX-1.eml",
                                  "002-bob@example.org-Newsletters-1.eml"],
      f"--eml writes one file per kept message (got {files})")
want = stored_bytes(stores[kepts[0]["store"]])
raw = open(os.path.join(emldir, files[0]), "rb").read() if files else b""
check(raw == want, "the .eml is the stored bytes exactly")
m = email.message_from_bytes(raw, policy=email.policy.default)
check(not m.defects, f"the .eml parses without defects ({m.defects})")
for h in ("Received", "Authentication-Results", "DKIM-Signature", "X-Spam-Status", "Message-ID"):
    check(m[h] is not None, f".eml has {h}")
check(len(m.get_all("Received")) == 3, "three Received fields (submission, MX, mailbox host)")
check(m["Message-ID"].strip("<>") == kepts[0]["msg"], "Message-ID is the trace's msg")
check(any(p.get_filename() for p in m.walk()), "the attachment is there")
check(dkim.verify(raw, dnsfunc=dnsfunc), "dkimpy verifies the .eml's DKIM signature")
bad = raw.replace(b"Subject: ", b"Subject: Re: ", 1)
check(bad != raw and not dkim.verify(bad, dnsfunc=dnsfunc), "a changed Subject fails DKIM")

# --mbox
mb = os.path.join(tmp, "out.mbox")
r = run("export", kept, "--mbox", mb)
check(r.returncode == 0, "--mbox exit 0")
box = mailbox.mbox(mb, create=False)
msgs = list(box)
check(len(msgs) == len(kepts) == 2, f"mailbox.mbox reads {len(msgs)} message(s), want 2")
if msgs:
    check(msgs[0].get_from() == "alice@example.com Mon Mar  2 09:10:00 2026",
          f"From_ line: envelope sender and simulated date (got {msgs[0].get_from()!r})")
    body = box.get_bytes(box.keys()[0])
    check(body.replace(b"\n", b"\r\n") == want, "the mbox message is the stored one (LF ends)")
    check(dkim.verify(body, dnsfunc=dnsfunc), "dkimpy verifies the message read from the mbox")

# --all: every copy ever stored (Carol's too); --mailbox filters.
r = run("export", kept, "--mbox", mb, "--all")
check(r.returncode == 0 and len(mailbox.mbox(mb, create=False)) == 3,
      "--all exports all three copies (Carol's was deleted by POP3)")
r = run("export", kept, "--mbox", mb, "--all", "--mailbox", "CAROL@example.org")
check(r.returncode == 0 and len(mailbox.mbox(mb, create=False)) == 1,
      "--mailbox with --all: one copy")
r = run("export", kept, "--eml", os.path.join(tmp, "carol"), "--all", "--mailbox",
        "CAROL@example.org")
check(r.returncode == 0 and os.listdir(os.path.join(tmp, "carol")) ==
      ["001-carol@example.org-INBOX-1.eml"], "--mailbox picks Carol's copy (case-insensitive)")
r = run("export", kept, "--mbox", mb, "--mailbox", "carol@example.org")
check(r.returncode == 1 and b"end of the run" in r.stderr,
      "Carol's mailbox is empty at the end: exit 1")
r = run("export", kept, "--mermaid", "--eml", emldir)
check(r.returncode == 2, "--mermaid with --eml: exit 2")

# Same trace, same files.
r = run("export", kept, "--eml", os.path.join(tmp, "eml2"))
check(open(os.path.join(tmp, "eml2", files[0]), "rb").read() == raw if files else False,
      "exporting twice gives the same bytes")

pyutil.finish()
