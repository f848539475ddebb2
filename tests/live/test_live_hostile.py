#!/usr/bin/env python3
"""Live mode against hostile and broken clients (issue 9): random bytes,
overlong lines, half-open connections, 200 concurrent connections, a
client that never reads. Each case checks what the simulated server
answered and that another session, alongside, still works; the server
never crashes, and the journal replays into the same trace.

Usage: test_live_hostile.py MAILSIM SRCDIR
"""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
from livelib import check  # noqa: E402

MAILSIM, SRC, tmp, srv = livelib.start_live_world("mailsim-hostile-")
MX = srv.port("mx.example.org", 25)
SUB = srv.port("smtp.example.com", 587)
IMAP = srv.port("mail.example.org", 143)
POP = srv.port("mail.example.org", 110)


def connect(port, timeout=30):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_until(s, pred, limit=1 << 20):
    """Reads until pred(bytes so far) or EOF/timeout; returns the bytes."""
    got = b""
    try:
        while not pred(got) and len(got) < limit:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except (socket.timeout, ConnectionError):
        pass
    return got


def healthy(what):
    """Another session alongside: a full SMTP exchange on the MX works."""
    try:
        s = connect(MX)
        g = read_until(s, lambda b: b"\r\n" in b)
        s.sendall(b"EHLO other.test\r\n")
        e = read_until(s, lambda b: b"250 " in b)
        s.sendall(b"NOOP\r\n")
        n = read_until(s, lambda b: b"\r\n" in b)
        s.sendall(b"QUIT\r\n")
        q = read_until(s, lambda b: b"221" in b)
        s.close()
        ok = g.startswith(b"220 ") and b"250 " in e and n.startswith(b"250") and b"221" in q
    except OSError as e:
        ok, g = False, repr(e).encode()
    check(ok and srv.alive(), f"{what}: another session alongside works, server alive", g[:80])


class Bystander:
    """A session opened before a hostile case and used after it: it must
    have gone on undisturbed."""

    def __init__(self):
        self.s = connect(MX)
        self.greet = read_until(self.s, lambda b: b"\r\n" in b)
        self.s.sendall(b"EHLO bystander.test\r\n")
        self.ehlo = read_until(self.s, lambda b: b"250 " in b)

    def ping(self):
        """Keeps the session from the server's idle timeout (5 simulated
        minutes go by in 3 s at --speed 100) during a long case."""
        self.s.sendall(b"NOOP\r\n")
        self.pinged = getattr(self, "pinged", b"") + read_until(self.s, lambda b: b"\r\n" in b)

    def still_fine(self, what):
        try:
            self.s.sendall(b"NOOP\r\n")
            n = read_until(self.s, lambda b: b"\r\n" in b)
            self.s.sendall(b"QUIT\r\n")
            q = read_until(self.s, lambda b: b"221" in b)
        except OSError as e:
            n, q = repr(e).encode(), b""
        self.s.close()
        pings = getattr(self, "pinged", b"").split(b"\r\n")[:-1]
        check(self.greet.startswith(b"220") and b"250 " in self.ehlo and n.startswith(b"250")
              and b"221" in q and all(p.startswith(b"250") for p in pings), f"{what}: a session open during it went on undisturbed", n + q)


# 1. Random bytes to SMTP, IMAP and POP3.
rng = random.Random(9)
for port, name, greet in ((MX, "SMTP", b"220"), (IMAP, "IMAP", b"* OK"), (POP, "POP3", b"+OK")):
    by = Bystander()
    s = connect(port)
    g = read_until(s, lambda b: b"\r\n" in b)
    junk = bytes(rng.randrange(256) for _ in range(20000))
    try:
        s.sendall(junk)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    ans = read_until(s, lambda b: False)
    s.close()
    if name == "SMTP":
        good = b"500 " in ans or b"421 " in ans
    elif name == "IMAP":
        good = b"BAD" in ans or b"BYE" in ans
    else:
        good = b"-ERR" in ans
    check(g.startswith(greet) and good, f"random bytes to {name}: error replies", ans[:120])
    by.still_fine(f"random bytes to {name}")
    healthy(f"random bytes to {name}")

# 2. Overlong lines.
by = Bystander()
s = connect(MX)
read_until(s, lambda b: b"\r\n" in b)
s.sendall(b"EHLO " + b"a" * 5000 + b"\r\n")
ans = read_until(s, lambda b: b"\r\n" in b)
s.sendall(b"NOOP\r\n")
after = read_until(s, lambda b: b"\r\n" in b)
s.close()
check(ans.startswith(b"500 5.5.2") and b"too long" in ans and after.startswith(b"250"),
      "SMTP: a 5000-octet line gets 500 5.5.2 line too long; the session goes on", ans + after)
s = connect(POP)
read_until(s, lambda b: b"\r\n" in b)
s.sendall(b"USER " + b"x" * 5000 + b"\r\n")
ans = read_until(s, lambda b: b"\r\n" in b)
s.close()
check(ans.startswith(b"-ERR") and b"too long" in ans, "POP3: an overlong line gets -ERR line too long",
      ans)
s = connect(IMAP)
read_until(s, lambda b: b"\r\n" in b)
s.sendall(b"a1 NOOP " + b"x" * 100000 + b"\r\na2 NOOP\r\n")
ans = read_until(s, lambda b: b"a2 " in b)
s.close()
check((b"BAD" in ans or b"BYE" in ans), "IMAP: an overlong line gets BAD/BYE", ans[:200])
by.still_fine("overlong lines")
healthy("overlong lines")

# 3. Half-open connections: connected, greeting read, then silence; and one
# that sent half a command. The server times them out (simulated minutes).
quiet = connect(MX, timeout=120)
half = connect(MX, timeout=120)
read_until(quiet, lambda b: b"\r\n" in b)
read_until(half, lambda b: b"\r\n" in b)
half.sendall(b"MAIL FROM:<x@exam")
healthy("half-open connections waiting")
t1 = read_until(quiet, lambda b: b"421" in b)
t2 = read_until(half, lambda b: b"421" in b)
check(b"421 4.4.2" in t1 and b"421 4.4.2" in t2,
      "half-open SMTP connections are timed out with 421 4.4.2", t1 + t2)
quiet.close()
half.close()
healthy("after the timeouts")

# 4. 200 concurrent connections: the MX allows 100 sessions (Postfix's
# process limit); the rest get 421 4.7.0.
by = Bystander()
socks = []
for _ in range(200):
    socks.append(connect(MX, timeout=60))
greets = []
for i, s in enumerate(socks):
    greets.append(read_until(s, lambda b: b"\r\n" in b))
    if i % 50 == 0:
        by.ping()
n220 = sum(1 for g in greets if g.startswith(b"220"))
n421 = sum(1 for g in greets if g.startswith(b"421 4.7.0"))
check(n220 >= 1 and n421 >= 1 and n220 + n421 == 200 and n220 <= 99,
      f"200 concurrent connections: {n220} greeted, {n421} refused with 421 4.7.0 "
      "(the MX allows 100 sessions; the bystander holds one)")
by.still_fine("200 concurrent connections")
for s in socks:
    s.close()
time.sleep(0.5)
healthy("after 200 concurrent connections")

# 5. A client that never reads: it sends 150,000 NOOPs with a tiny receive
# buffer and reads nothing; its unread replies pass live mode's bound and it
# is dropped (journaled as an abort), the others unaffected.
by = Bystander()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(60)
s.connect(("127.0.0.1", SUB))
try:
    for _ in range(150):
        s.sendall(b"NOOP\r\n" * 1000)
except OSError:
    pass


def journaled_abort():
    by.ping()
    with open(srv.journal) as f:
        return '"in":"abort"' in f.read()


check(livelib.wait_until(journaled_abort, timeout=120, step=0.5),
      "a client that never reads is dropped (its abort is journaled)")
s.settimeout(30)
closed = False
try:
    while True:  # what the kernel buffered, then EOF or a reset (not a timeout)
        if not s.recv(1 << 20):
            closed = True
            break
except ConnectionError:
    closed = True
except OSError:
    pass
s.close()
check(closed, "the dropped client's socket is closed by the server")
by.still_fine("a client that never reads")
healthy("after dropping the non-reader")

rc = srv.stop()
check(rc == 0, "SIGTERM stops mailsim serve cleanly (exit 0)", srv.log_text()[-300:])
recs = livelib.records(srv.trace)[1:]
check(any(r.get("ev") == "live.close" and r.get("reason") == "aborted" for r in recs),
      "the trace shows the dropped client's connection aborted at the gateway")
livelib.replay_identical(MAILSIM, srv, "hostile session")
livelib.finish()
