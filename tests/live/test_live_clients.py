#!/usr/bin/env python3
"""Live mode with real clients (issue 9): curl, swaks and smtplib submit
with STARTTLS and AUTH to the simulated submission server; the messages
cross the simulated world (DKIM, MX lookup, greylisting, retry, delivery);
imaplib, curl and poplib read them from the simulated mailbox host; dig asks
the simulated DNS over UDP and TCP; the journal replays into the same trace.

Usage: test_live_clients.py MAILSIM SRCDIR
"""
import email
import imaplib
import os
import poplib
import re
import smtplib
import socket
import ssl
import subprocess
import sys
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
from livelib import check  # noqa: E402

livelib.need_tools("curl", "swaks", "dig")
MAILSIM, SRC, tmp, srv = livelib.start_live_world("mailsim-live-")
SUB = srv.port("smtp.example.com", 587)
IMAP = srv.port("mail.example.org", 143)
POP = srv.port("mail.example.org", 110)
DNS = srv.port("resolver.example.com", 53)
AUTH_NS = srv.port("ns1.example.org", 53)
CTX = ssl.create_default_context(cafile=srv.ca)  # verifies the simulated certificates


def run(*args, timeout=60):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout)


class LoopSMTP(smtplib.SMTP):
    """Talks to the simulated host NAME (TLS checks that name) over our port."""
    def __init__(self, name, port):
        self._lp = port
        super().__init__(name, 587, timeout=30)

    def _get_socket(self, host, port, timeout):
        return socket.create_connection(("127.0.0.1", self._lp), timeout)


class LoopIMAP(imaplib.IMAP4):
    def __init__(self):
        super().__init__("mail.example.org", 143, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", IMAP), timeout)


class LoopPOP3(poplib.POP3):
    def __init__(self):
        super().__init__("mail.example.org", 110, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection(("127.0.0.1", POP), timeout)


# --- submission -------------------------------------------------------------
msg = os.path.join(tmp, "curl.eml")
with open(msg, "w", newline="") as f:
    f.write("From: alice@example.com\r\nTo: dave@example.org\r\nSubject: live-curl\r\n"
            "Message-ID: <live-curl@example.com>\r\n\r\nSent by curl through the live gateway.\r\n")
r = run("curl", "-sS", "--ssl-reqd", "--cacert", srv.ca, "--connect-to",
        f"smtp.example.com:587:127.0.0.1:{SUB}", "smtp://smtp.example.com:587",
        "--login-options", "AUTH=PLAIN", "-u", "alice@example.com:wonderland",
        "--mail-from", "alice@example.com", "--mail-rcpt", "dave@example.org", "-T", msg, "-v")
check(r.returncode == 0 and "STARTTLS" in r.stderr and "AUTH PLAIN" in r.stderr
      and "250 2.0.0" in r.stderr, "curl: STARTTLS (verified), AUTH PLAIN, message queued",
      r.stderr[-400:])

swaks = ["swaks", "--server", "127.0.0.1", "--port", str(SUB), "--tls", "--from",
         "alice@example.com", "--auth-user", "alice@example.com", "--auth-password", "wonderland",
         "--ehlo", "swaks.test", "--timeout", "30"]
r = run(*swaks, "--auth", "PLAIN", "--pipeline", "--to", "dave@example.org", "--header",
        "Subject: live-swaks-pipeline", "--header", "Message-ID: <live-swaks-pipe@example.com>")
check(r.returncode == 0 and "PIPELINING" in r.stdout and "250 2.0.0" in r.stdout,
      "swaks --pipeline: pipelined MAIL/RCPT/DATA accepted", r.stdout[-400:])
r = run(*swaks, "--auth", "LOGIN", "--to", "erin@example.org", "--header",
        "Subject: live-swaks-login", "--header", "Message-ID: <live-swaks-login@example.com>")
check(r.returncode == 0 and "AUTH LOGIN" in r.stdout and "235 2.7.0" in r.stdout
      and "250 2.0.0" in r.stdout, "swaks AUTH LOGIN: authenticated, message queued", r.stdout[-400:])

m = EmailMessage()
m["From"], m["To"], m["Subject"] = "alice@example.com", "dave@example.org", "live-smtplib"
m["Message-ID"] = "<live-smtplib@example.com>"
m.set_content("Sent by Python's smtplib.\n")
m.add_attachment(b"\x89PNG fake image bytes" * 20, maintype="image", subtype="png",
                 filename="dot.png")
m2 = EmailMessage()
m2["From"], m2["To"], m2["Subject"] = "alice@example.com", "erin@example.org", "live-smtplib-pop"
m2["Message-ID"] = "<live-smtplib-pop@example.com>"
m2.set_content("For POP3.\n")
try:
    with LoopSMTP("smtp.example.com", SUB) as s:
        s.ehlo("python.test")
        s.starttls(context=CTX)
        s.ehlo("python.test")
        s.login("alice@example.com", "wonderland")
        refused = s.send_message(m)
        refused2 = s.send_message(m2)
        check(refused == {} and refused2 == {}, "smtplib: starttls() + login(), two messages accepted")
except (OSError, smtplib.SMTPException) as e:
    check(False, "smtplib: starttls() + login(), two messages accepted", repr(e))

# A wrong password is refused by the simulated server's user directory.
try:
    with LoopSMTP("smtp.example.com", SUB) as s:
        s.starttls(context=CTX)
        s.login("alice@example.com", "wrong")
    check(False, "smtplib: a wrong password gets 535")
except smtplib.SMTPAuthenticationError as e:
    check(e.smtp_code == 535, "smtplib: a wrong password gets 535", str(e))

# --- DNS --------------------------------------------------------------------
for extra, how in (([], "UDP"), (["+tcp"], "TCP")):
    mx = run("dig", "@127.0.0.1", "-p", str(DNS), "example.org", "MX", "+short", "+time=5",
             "+tries=2", *extra)
    a = run("dig", "@127.0.0.1", "-p", str(DNS), "mx.example.org", "A", "+short", "+time=5",
            "+tries=2", *extra)
    txt = run("dig", "@127.0.0.1", "-p", str(DNS), "example.com", "TXT", "+short", "+time=5",
              "+tries=2", *extra)
    check(mx.stdout.strip() == "10 mx.example.org.", f"dig over {how}: MX from the resolver",
          mx.stdout + mx.stderr)
    check(a.stdout.strip() == "203.0.113.25", f"dig over {how}: A", a.stdout + a.stderr)
    check('"v=spf1 ip4:192.0.2.0/24 -all"' in txt.stdout, f"dig over {how}: TXT (SPF)",
          txt.stdout + txt.stderr)
r = run("dig", "@127.0.0.1", "-p", str(AUTH_NS), "example.org", "MX", "+norec", "+time=5")
check("status: NOERROR" in r.stdout and " aa" in r.stdout.split("flags:")[1].split(";")[0],
      "dig to the authoritative ns1.example.org: an authoritative answer", r.stdout[-300:])

# --- delivery: wait (greylisting retries in simulated minutes) ---------------


def dave_count():
    try:
        with LoopIMAP() as im:
            im.starttls(ssl_context=CTX)
            im.login("dave@example.org", "digger")
            typ, data = im.select("INBOX", readonly=True)
            return int(data[0]) if typ == "OK" else 0
    except (OSError, imaplib.IMAP4.error):
        return 0


n = livelib.wait_until(lambda: dave_count() >= 3, timeout=120, step=1.0)
check(n, "the three messages for dave reached the simulated mailbox (after greylisting)")

# --- IMAP (imaplib) ---------------------------------------------------------
try:
    with LoopIMAP() as im:
        typ, _ = im.starttls(ssl_context=CTX)
        check(typ == "OK", "imaplib: STARTTLS with the world's CA")
        typ, _ = im.login("dave@example.org", "digger")
        check(typ == "OK", "imaplib: LOGIN")
        typ, boxes = im.list()
        check(typ == "OK" and any(b"INBOX" in b for b in boxes), "imaplib: LIST shows INBOX",
              repr(boxes))
        typ, data = im.select("INBOX")
        check(typ == "OK" and int(data[0]) == 3, "imaplib: SELECT INBOX, 3 messages", repr(data))
        typ, data = im.search(None, "UNSEEN")
        unseen = data[0].split()
        check(typ == "OK" and len(unseen) == 3, "imaplib: SEARCH UNSEEN finds all 3", repr(data))
        subjects = {}
        for num in unseen:
            typ, d = im.fetch(num, "(BODY[])")
            msg_obj = email.message_from_bytes(d[0][1])
            subjects[msg_obj["Subject"]] = (num, msg_obj)
        check(set(subjects) == {"live-curl", "live-swaks-pipeline", "live-smtplib"},
              "imaplib: FETCH BODY[] gives the three messages", repr(set(subjects)))
        got = subjects.get("live-smtplib", (None, None))[1]
        if got is not None:
            check("Received" in got and "dkim=pass" in str(got.get("Authentication-Results", "")),
                  "the delivered message carries Received and Authentication-Results dkim=pass",
                  str(got.get("Authentication-Results")))
        num = subjects.get("live-smtplib", (b"1", None))[0]
        typ, d = im.fetch(num, "(BODYSTRUCTURE)")
        bs = b" ".join(x if isinstance(x, bytes) else b" ".join(x) for x in d).lower()
        check(typ == "OK" and b"mixed" in bs and b"png" in bs and b"dot.png" in bs,
              "imaplib: FETCH BODYSTRUCTURE shows multipart/mixed with the image", bs[:200])
        typ, data = im.search(None, "UNSEEN")
        check(typ == "OK" and data[0].split() == [], "imaplib: FETCH BODY[] set \\Seen",
              repr(data))
        typ, d = im.store(unseen[0], "+FLAGS", "(\\Seen \\Flagged)")
        check(typ == "OK" and b"\\Flagged" in d[0] and b"\\Seen" in d[0],
              "imaplib: STORE +FLAGS answers the new flags", repr(d))
        num_curl = subjects.get("live-curl", (b"1", None))[0]
        typ, d = im.store(num_curl, "+FLAGS", "(\\Deleted)")
        typ, d = im.expunge()
        check(typ == "OK" and d[0] is not None and d[0] == num_curl,
              "imaplib: EXPUNGE removes the \\Deleted message", repr(d))
        typ, _ = im.logout()
        check(typ == "BYE", "imaplib: LOGOUT")
except (OSError, imaplib.IMAP4.error) as e:
    check(False, "imaplib session", repr(e))
check(dave_count() == 2, "after EXPUNGE a new session sees 2 messages")
try:
    with LoopIMAP() as im:
        im.starttls(ssl_context=CTX)
        typ, _ = im.authenticate("PLAIN", lambda _: b"\0dave@example.org\0digger")
        typ2, data = im.select("INBOX", readonly=True)
        check(typ == "OK" and typ2 == "OK" and int(data[0]) == 2,
              "imaplib: AUTHENTICATE PLAIN, then EXAMINE sees the 2 messages", repr(data))
except (OSError, imaplib.IMAP4.error) as e:
    check(False, "imaplib: AUTHENTICATE PLAIN", repr(e))

# curl fetches one by UID (UIDs 1..3 in arrival order; the curl message was expunged).
uids = []
for uid in (1, 2, 3):
    r = run("curl", "-sS", "--ssl-reqd", "--cacert", srv.ca, "--connect-to",
            f"mail.example.org:143:127.0.0.1:{IMAP}", f"imap://mail.example.org/INBOX;UID={uid}",
            "-u", "dave@example.org:digger")
    if r.returncode == 0 and "Subject:" in r.stdout:
        uids.append((uid, re.search(r"Subject: (\S+)", r.stdout).group(1)))
check(len(uids) == 2 and "live-curl" not in [s for _, s in uids],
      "curl imap://…/INBOX;UID=N fetches the two remaining messages", repr(uids))

# --- POP3 -------------------------------------------------------------------
def pop_session():
    p = LoopPOP3()
    p.stls(context=CTX)
    p.user("erin@example.org")
    p.pass_("explorer")
    return p


def pop_stat():
    try:
        p = pop_session()
        st = p.stat()
        p.quit()
        return st
    except (OSError, poplib.error_proto):
        return (0, 0)


check(livelib.wait_until(lambda: pop_stat()[0] >= 2, timeout=120, step=1.0),
      "the two messages for erin reached the mailbox")
try:
    p = pop_session()
    count, size = p.stat()
    uidl1 = p.uidl()[1]
    body = b"\r\n".join(p.retr(1)[1])
    check(count == 2 and b"Subject: live-" in body, "poplib: STLS, USER/PASS, STAT 2, RETR 1",
          repr((count, body[:80])))
    p.dele(1)
    check(p.stat()[0] == 1, "poplib: DELE 1 hides it in this session")
    p.close()  # no QUIT: the deletion must not take effect (RFC 1939 §6)
    p = pop_session()
    uidl2 = p.uidl()[1]
    check(p.stat()[0] == 2 and uidl1 == uidl2,
          "poplib: without QUIT nothing was deleted; UIDL identical in two sessions",
          repr((uidl1, uidl2)))
    p.quit()
except (OSError, poplib.error_proto) as e:
    check(False, "poplib sessions", repr(e))

r = run("curl", "-sS", "--ssl-reqd", "--cacert", srv.ca, "--connect-to",
        f"mail.example.org:110:127.0.0.1:{POP}", "pop3://mail.example.org/1",
        "-u", "erin@example.org:explorer")
check(r.returncode == 0 and "Subject: live-" in r.stdout, "curl pop3://…/1 retrieves message 1",
      r.stderr)
r = run("curl", "-sS", "--ssl-reqd", "--cacert", srv.ca, "--connect-to",
        f"mail.example.org:110:127.0.0.1:{POP}", "pop3://mail.example.org/", "-X", "UIDL",
        "-u", "erin@example.org:explorer")
check(r.returncode == 0 and all(u.decode().split()[1] in r.stdout for u in uidl1),
      "curl pop3 UIDL: the same unique ids as poplib", r.stdout)
try:
    p = pop_session()
    p.dele(1)
    p.quit()  # now it takes effect
    check(pop_stat()[0] == 1, "poplib: DELE then QUIT deletes")
except (OSError, poplib.error_proto) as e:
    check(False, "poplib: DELE then QUIT", repr(e))

# --- stop, trace, replay ----------------------------------------------------
rc = srv.stop()
check(rc == 0, "SIGTERM stops mailsim serve cleanly (exit 0)", srv.log_text()[-300:])
recs = livelib.records(srv.trace)
hdr = recs[0]
recs = recs[1:]
check(hdr.get("roles", {}).get("live-smtp.example.com") == "gateway"
      and hdr.get("live", {}).get("live-smtp.example.com") == "smtp.example.com",
      "trace header: the gateway node has role gateway and is listed under live")
check(recs[-1]["ev"] == "end", "the trace ends with its end record")
live_ids = {r["msg"] for r in recs if r["ev"] == "msg.submit" and r["from"] == "live-smtp.example.com"}
check(len(live_ids) == 5, "5 messages submitted through the gateway", repr(live_ids))
for mid in sorted(live_ids):
    evs = [r for r in recs if r.get("msg") == mid]
    kinds = [r["ev"] for r in evs]
    grey = any(r["ev"] == "msg.defer" and "Greylisted" in r.get("reason", "") for r in evs)
    relayed = any(r["ev"] == "msg.relay" and r.get("to") == "mx.example.org" for r in evs)
    stored = any(r["ev"] == "msg.deliver" and r.get("node") == "mail.example.org" for r in evs)
    check(grey and relayed and stored,
          f"{mid}: submit -> greylisted -> relayed to the MX -> delivered to the mailbox",
          repr(kinds))
check(any(r["ev"] == "live.open" for r in recs) and any(r["ev"] == "live.dgram" for r in recs),
      "the trace shows live.open and live.dgram records")
livelib.replay_identical(MAILSIM, srv, "client session")
livelib.finish()
