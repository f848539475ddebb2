#!/usr/bin/env python3
"""Real peer for greylisting: Postgrey (Debian package postgrey, 1.37) and our
greylist_tool answer the same sequence of policy requests, with Postgrey's
own test hook (the policy_test_time attribute) giving it our simulated
clock. Each answer must agree: deferred, passed after waiting (Postgrey's
PREPEND X-Greylist with the same number of seconds), or passed (DUNNO:
known triplet or auto-whitelisted client).

The requests come from a seeded generator (random.Random(SEED)) over
clients in a few /24 and /64 networks, VERP/BATV/extension senders, and
retries timed around the 300 s delay and the 2-day retry window; the whole
sequence spans less than the 35-day max age (Postgrey forgets old entries
only in its nightly maintenance, which a test cannot trigger). Exits 77
(skipped) when postgrey is not installed or cannot start.

usage: greylist_peer_test.py GREYLIST_TOOL [COUNT]
"""
import grp
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SEED = 300
EPOCH = 1767225600  # simulated time 0 = 2026-01-01T00:00:00Z

CLIENTS = ["192.0.2.1", "192.0.2.77", "192.0.3.5", "198.51.100.20",
           "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"]
SENDERS = ["a@x.example", "bounce-123@lists.example", "bounce-456@lists.example",
           "list+b=y@lists.example", "list+c@lists.example", "Alice@X.example",
           "alice@x.example", "prvs=0123456789=joe@x.example", "joe@x.example", "<>"]
RECIPIENTS = ["b@y.example", "c@y.example", "B@Y.example", "d+tag@y.example"]
STEPS = [0, 0, 1, 1, 30, 120, 250, 299, 300, 301, 600, 3599, 3600, 4000]
BIG_STEPS = [86400, 2 * 86400 + 1]


def requests(count):
    rng = random.Random(SEED)
    t = 0
    seen = []
    out = []
    while len(out) < count and t < 32 * 86400:
        if seen and rng.random() < 0.6:
            first, c, s, r = rng.choice(seen[-20:])
            if rng.random() < 0.95:
                delta = rng.choice([299, 300, 301, 100, 450, 3600])
            else:
                delta = rng.choice([2 * 86400, 2 * 86400 + 1])
            t = max(t, first + delta)
        else:
            c, s, r = rng.choice(CLIENTS), rng.choice(SENDERS), rng.choice(RECIPIENTS)
            t += rng.choice(BIG_STEPS if rng.random() < 0.03 else STEPS)
            seen.append((t, c, s, r))
        out.append((t, c, s, r))
    return out


def ours(tool, reqs):
    text = "".join("%d %s %s %s\n" % q for q in reqs)
    out = subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout
    res = []
    for line in out.splitlines():
        kind, waited = line.split()
        if kind.startswith("defer"):
            res.append("defer")
        elif kind == "pass-delayed":
            res.append("delayed %s" % waited)
        else:
            res.append("pass")
    return res


def ask(sock_file, n, t, c, s, r):
    sender = "" if s == "<>" else s
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\n"
           "client_name=mx.sender.example\nsender=%s\nrecipient=%s\ninstance=%d.%s\n"
           "policy_test_time=%d\n\n" % (c, sender, r, n, r, EPOCH + t))
    sock_file.write(req)
    sock_file.flush()
    answer = sock_file.readline().strip()
    sock_file.readline()
    if not answer.startswith("action="):
        raise RuntimeError("postgrey said %r" % answer)
    a = answer[len("action="):]
    if a.startswith("DEFER_IF_PERMIT"):
        return "defer"
    if a.startswith("PREPEND X-Greylist: delayed "):
        return "delayed " + a.split()[3]
    if a == "DUNNO":
        return "pass"
    raise RuntimeError("unexpected postgrey action %r" % a)


def main():
    tool = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    postgrey = shutil.which("postgrey") or ("/usr/sbin/postgrey"
                                            if os.path.exists("/usr/sbin/postgrey") else None)
    if not postgrey:
        print("postgrey not installed: skipped")
        return 77
    work = tempfile.mkdtemp(prefix="greylist_peer_")
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    empty = os.path.join(work, "empty")
    open(empty, "w").close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([postgrey, "--inet=127.0.0.1:%d" % port, "--dbdir=" + work,
                             "--user=" + user, "--group=" + group,
                             "--pidfile=" + os.path.join(work, "pid"),
                             "--whitelist-clients=" + empty,
                             "--whitelist-recipients=" + empty, "--hostname=mx.test"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "w"))
    conn = None
    try:
        for _ in range(100):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        if conn is None:
            print("postgrey did not start: skipped")
            print(open(os.path.join(work, "log")).read()[-2000:])
            return 77
        f = conn.makefile("rw", newline="\n")
        reqs = requests(count)
        a = ours(tool, reqs)
        fails = 0
        kinds = {}
        for i, q in enumerate(reqs):
            b = ask(f, i, *q)  # one message instance per request
            kinds[b.split()[0]] = kinds.get(b.split()[0], 0) + 1
            if a[i] != b:
                fails += 1
                if fails <= 10:
                    print("MISMATCH request %d %r: ours %s, postgrey %s" % (i, q, a[i], b))
        print("answers by kind: %s" % sorted(kinds.items()))
        print("%d passed, %d failed" % (len(reqs) - fails, fails))
        return 1 if fails else 0
    finally:
        if conn:
            conn.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # Net::Server may linger after SIGTERM
            proc.kill()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
