#!/usr/bin/env python3
"""Real peers against the IMAP and POP3 engines: Python's imaplib and
poplib (and curl when installed) talk to peer_mailbox over localhost.
Usage: peer_mailbox.py PATH_TO_peer_mailbox"""
import imaplib
import poplib
import shutil
import subprocess
import sys
import time

failures = []


def check(what, got, want):
    if got != want:
        failures.append(f"{what}: got {got!r} want {want!r}")


def imap_tests(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    check("capabilities", "IMAP4REV1" in m.capabilities and "IDLE" in m.capabilities, True)
    typ, _ = m.login("bob", "secret")
    check("login", typ, "OK")
    typ, boxes = m.list()
    check("list", [b.split(b' "/" ')[1] for b in boxes],
          [b'"INBOX"', b'"Drafts"', b'"Junk"', b'"Sent"', b'"Trash"'])
    typ, data = m.select("INBOX")
    check("select", (typ, data), ("OK", [b"2"]))
    typ, data = m.search(None, "ALL")
    check("search all", data, [b"1 2"])
    typ, data = m.fetch("1", "(FLAGS BODY.PEEK[])")
    check("fetch body", data[0][1].startswith(b"From: Alice"), True)
    check("fetch body end", data[0][1].endswith(b".lunch?\r\n"), True)
    typ, data = m.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
    check("uid fetch", data, [b"1 (UID 1 RFC822.SIZE 132)", b"2 (UID 2 RFC822.SIZE 63)"])
    typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    check("header fields", data[0][1], b"Subject: report\r\n\r\n")
    typ, data = m.store("1", "+FLAGS", "(\\Seen)")
    check("store", data, [b"1 (FLAGS (\\Seen \\Recent))"])
    typ, data = m.uid("SEARCH", "UNSEEN")
    check("uid search unseen", data, [b"2"])
    typ, data = m.append("Drafts", "(\\Draft)", imaplib.Time2Internaldate(time.gmtime(1.7e9)),
                         b"Subject: draft\r\n\r\nbody\r\n")
    check("append", typ, "OK")
    check("appenduid", data[0].startswith(b"[APPENDUID "), True)
    check("create", m.create("Work/2026")[0], "OK")
    check("rename", m.rename("Work", "Play")[0], "OK")
    typ, data = m.status("Drafts", "(MESSAGES UNSEEN)")
    check("status", data, [b'"Drafts" (MESSAGES 1 UNSEEN 1)'])
    typ, data = m.copy("1", "Trash")
    check("copy", typ, "OK")
    typ, data = m.uid("MOVE", "2", "Junk")
    check("move", typ, "OK")
    typ, data = m.search(None, "ALL")
    check("after move", data, [b"1"])
    m.store("1", "+FLAGS", "(\\Deleted)")
    typ, data = m.expunge()
    check("expunge", data, [b"2", b"1"])  # the MOVE's EXPUNGE is collected too
    check("delete", m.delete("Play/2026")[0], "OK")
    typ, data = m.namespace()
    check("namespace", data, [b'(("" "/")) NIL NIL'])
    # a second session sees the first one's EXPUNGE
    m2 = imaplib.IMAP4("127.0.0.1", port)
    m2.login("bob", "secret")
    m2.select("Trash")
    m.select("Trash")
    m.store("1", "+FLAGS", "(\\Deleted)")
    m.expunge()
    typ, data = m2.noop()
    check("second session expunge", m2.untagged_responses.get("EXPUNGE"), [b"1"])
    m2.logout()
    check("close", m.close()[0], "OK")
    check("logout", m.logout()[0], "BYE")


def pop3_tests(port):
    p = poplib.POP3("127.0.0.1", port)
    check("greeting", p.getwelcome().startswith(b"+OK"), True)
    caps = p.capa()
    check("capa", "UIDL" in caps and "TOP" in caps, True)
    p.user("bob")
    p.pass_("secret")
    count, size = p.stat()
    check("stat", count, 1)  # one message left in INBOX after the IMAP tests
    resp, lines, octets = p.retr(1)
    check("retr", lines, [b"Subject: for pop", b"", b".dotted", b"last"])  # un-stuffed
    resp, listing, _ = p.uidl()
    check("uidl", len(listing), 1)
    # a concurrent session is locked out
    q = poplib.POP3("127.0.0.1", port)
    q.user("bob")
    try:
        q.pass_("secret")
        failures.append("second POP3 login: got +OK want -ERR [IN-USE]")
    except poplib.error_proto as e:
        check("in-use", b"[IN-USE]" in e.args[0], True)
    q.quit()
    p.dele(1)
    p.quit()
    p = poplib.POP3("127.0.0.1", port)
    p.user("bob")
    p.pass_("secret")
    check("after quit", p.stat()[0], 0)
    p.quit()


def curl_tests(iport, pport):
    if not shutil.which("curl"):
        return
    r = subprocess.run(["curl", "-s", "--max-time", "10", f"imap://127.0.0.1:{iport}/",
                        "-u", "bob:secret"], capture_output=True)
    check("curl imap list", b'"INBOX"' in r.stdout, True)
    r = subprocess.run(["curl", "-s", "--max-time", "10", f"pop3://127.0.0.1:{pport}/",
                        "-u", "bob:secret"], capture_output=True)
    check("curl pop3 list", r.returncode, 0)


def main():
    srv = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        iport, pport = map(int, srv.stdout.readline().split())
        imap_tests(iport)
        # put one message back in INBOX for POP3
        m = imaplib.IMAP4("127.0.0.1", iport)
        m.login("bob", "secret")
        m.append("INBOX", None, None, b"Subject: for pop\r\n\r\n.dotted\r\nlast\r\n")
        m.logout()
        pop3_tests(pport)
        curl_tests(iport, pport)
    except Exception as e:  # a protocol error is a failure, with its text
        failures.append(f"exception: {e!r}")
    finally:
        srv.stdin.close()
        srv.wait(timeout=10)
    for f in failures:
        print(f)
    print(f"{'FAIL' if failures else 'OK'}: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
