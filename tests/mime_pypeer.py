#!/usr/bin/env python3
"""Real-peer check for mime_compose: Python's email package (stdlib,
policy.default) parses every DIR/*.eml and compares it with DIR/*.expect
(written by test_mime_pypeer from the compose configuration, not from our
own parser). Lines of an .expect file, tab separated:
  subject TEXT | date UNIX | msgid ID | addr FIELD NAME SPEC | noheader FIELD
  part CONTENT-TYPE FILENAME|- SHA256-OF-DECODED-BYTES
Exit 0 when everything matches, 1 otherwise (each mismatch printed)."""
import email
import email.policy
import hashlib
import pathlib
import sys


def nows(s):
    return "".join(s.split())


def main(d):
    bad = 0
    n = 0
    for exp in sorted(pathlib.Path(d).glob("*.expect")):
        n += 1
        raw = exp.with_suffix(".eml").read_bytes()
        m = email.message_from_bytes(raw, policy=email.policy.default)
        got_addrs = {}
        parts = []
        defects = []
        for p in m.walk():
            defects += [f"{p.get_content_type()}: {x!r}" for x in p.defects]
            if p.is_multipart():
                continue
            payload = p.get_payload(decode=True) or b""
            parts.append((p.get_content_type(), p.get_filename() or "-",
                          hashlib.sha256(payload).hexdigest()))
        want_parts = []

        def fail(msg):
            nonlocal bad
            bad += 1
            print(f"{exp.name}: {msg}")

        for line in exp.read_text(encoding="utf-8").splitlines():
            f = line.split("\t")
            if f[0] == "subject":
                if str(m["Subject"]) != f[1]:
                    fail(f"subject: got {str(m['Subject'])!r} want {f[1]!r}")
            elif f[0] == "date":
                got = int(m["Date"].datetime.timestamp())
                if got != int(f[1]):
                    fail(f"date: got {got} want {f[1]}")
            elif f[0] == "msgid":
                if str(m["Message-ID"]) != f[1]:
                    fail(f"message-id: got {m['Message-ID']!r} want {f[1]!r}")
            elif f[0] == "addr":
                # Python collapses whitespace runs in display names and keeps
                # the folding whitespace between adjacent encoded words of a
                # phrase (RFC 2047 6.2 says to drop it), so names are
                # compared with whitespace removed.
                if f[1] not in got_addrs:
                    h = m[f[1]]
                    got_addrs[f[1]] = [] if h is None else [
                        (nows(a.display_name), a.addr_spec) for a in h.addresses]
                want = (nows(f[2]), f[3])
                if want not in got_addrs[f[1]]:
                    fail(f"{f[1]}: {want!r} not in {got_addrs[f[1]]!r}")
            elif f[0] == "noheader":
                if m[f[1]] is not None:
                    fail(f"{f[1]} present: {m[f[1]]!r}")
            elif f[0] == "part":
                want_parts.append((f[1], f[2], f[3]))
        if parts != want_parts:
            fail(f"parts: got {parts!r} want {want_parts!r}")
        if defects:
            fail(f"defects: {defects!r}")
    if n == 0:
        print("no .expect files found")
        return 1
    print(f"{n} messages checked by Python {sys.version.split()[0]} email, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
