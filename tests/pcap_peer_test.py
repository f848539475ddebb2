#!/usr/bin/env python3
"""Real peer: tshark reads what `mailsim pcap` writes.

    pcap_peer_test.py MAILSIM SRCDIR

Runs the journey at packet detail, exports OUT.pcap and its key log, then:
  - tshark dissects SMTP, DNS, IMAP, POP3 and TLS in it, and decrypts TLS
    with the key log (SMTP, IMAP and POP3 inside TLS, the message as IMF);
  - no frame is malformed or carries an expert item at warning or error
    level, with and without the key log (SMTP AUTH decoding on, as a
    Wireshark user would set it; off, Wireshark warns that it is off);
  - for every SMTP connection, tshark's follow (tcp up to STARTTLS, tls
    after it) gives the dialogue byte for byte: the server's bytes equal the
    trace's smtp.reply lines each with CRLF; the client's bytes equal the
    trace's smtp.cmd lines each with CRLF, where the trace masks an AUTH
    secret ("****" stands for one base64 word) and does not record the
    message after a DATA answered by 354 (checked to be there, up to its
    CRLF.CRLF);
  - the command's exit status: 2 with a message for bad usage, a bad
    trace, a trace at protocol detail.
Skips (exit 77) without tshark.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


def tshark(*args):
    p = run(["tshark", *args])
    if p.returncode != 0:
        raise SystemExit("tshark %s: %s" % (" ".join(args), p.stderr.decode()))
    return p.stdout.decode()


def count(pcap, flt, *opts):
    out = tshark("-r", pcap, *opts, "-Y", flt)
    return len([l for l in out.splitlines() if l.strip()])


def follow(pcap, kind, stream, *opts):
    """{'node0': 'addr:port', 'a': bytes of Node 0, 'b': bytes of Node 1}."""
    out = tshark("-r", pcap, *opts, "-q", "-z", "follow,%s,raw,%d" % (kind, stream))
    res = {"node0": None, "a": b"", "b": b""}
    for line in out.splitlines():
        if line.startswith("Node 0: "):
            res["node0"] = line[8:]
        elif re.fullmatch(r"\t?[0-9a-f]+", line):
            key = "b" if line.startswith("\t") else "a"
            res[key] += bytes.fromhex(line.strip())
    return res


def reply_groups(lines):
    """SMTP replies grouped: a reply ends at a line whose 4th octet is a space."""
    groups, cur = [], []
    for l in lines:
        cur.append(l)
        if len(l) < 4 or l[3:4] != b" ":
            continue
        groups.append(cur)
        cur = []
    if cur:
        groups.append(cur)
    return groups


def check_client(name, got, cmds, replies):
    groups = reply_groups(replies)
    groups.pop(0)  # the greeting
    pos = 0
    for c in cmds:
        end = got.find(b"\r\n", pos)
        if end < 0:
            check(False, "%s: client stream ends before %r" % (name, c))
            return
        line = got[pos:end]
        pos = end + 2
        if b"****" in c:
            pat = re.escape(c).replace(re.escape(b"****"), rb"[A-Za-z0-9+/=]+")
            check(re.fullmatch(pat, line) is not None,
                  "%s: got %r want %r (masked)" % (name, line, c))
        else:
            check(line == c, "%s: got %r want %r" % (name, line, c))
        g = groups.pop(0) if groups else []
        if c.upper() == b"DATA" and g and g[-1].startswith(b"354"):
            end = got.find(b"\r\n.\r\n", pos - 2)
            check(end >= 0, "%s: the message after DATA has no CRLF.CRLF" % name)
            check(end > pos, "%s: no message after DATA" % name)
            pos = end + 5
            if groups:
                groups.pop(0)  # the reply to the message
    check(pos == len(got), "%s: %d client octets beyond the trace's lines" % (name, len(got) - pos))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: pcap_peer_test.py MAILSIM SRCDIR")
    mailsim, src = sys.argv[1], sys.argv[2]
    if not shutil.which("tshark"):
        print("tshark not installed: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="pcap_peer_")
    trace = os.path.join(tmp, "journey.jsonl")
    pcap = os.path.join(tmp, "journey.pcap")
    keys = os.path.join(tmp, "keys.txt")
    p = run([mailsim, "run", os.path.join(src, "scenarios", "journey.json"), "--detail",
             "packets", "--trace", trace, "-q"])
    check(p.returncode == 0, "run: exit %d %s" % (p.returncode, p.stderr.decode()))
    p = run([mailsim, "pcap", trace, pcap, "--keylog", keys])
    check(p.returncode == 0, "pcap: exit %d %s" % (p.returncode, p.stderr.decode()))
    print(p.stdout.decode().strip())

    # The command's errors.
    msgs = os.path.join(tmp, "msgs.jsonl")
    run([mailsim, "run", os.path.join(src, "scenarios", "dns.json"), "--detail", "messages",
         "--trace", msgs, "-q"])
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write("not a trace\n")
    for args, want in [([], b"expected a TRACE"), ([trace], b"expected a TRACE"),
                       ([bad, pcap + ".x"], b"bad.jsonl"),
                       ([msgs, pcap + ".x"], b"recorded at messages detail"),
                       ([os.path.join(tmp, "missing"), pcap + ".x"], b"missing"),
                       ([trace, pcap, "--bogus"], b"Unknown option")]:
        p = run([mailsim, "pcap", *args])
        check(p.returncode == 2 and want in p.stderr,
              "pcap %s: got exit %d %r, want 2 and %r" % (args, p.returncode, p.stderr, want))
    check(not os.path.exists(pcap + ".x"), "a failed export left a file behind")
    p = run([mailsim, "pcap", "--help"])
    check(p.returncode == 0 and b"--keylog" in p.stdout, "pcap --help")
    p = run([mailsim, "--help"])
    check(b"mailsim pcap TRACE OUT.pcap" in p.stdout, "mailsim --help lists pcap")

    # Dissection, without and with the key log.
    dec = ["-o", "tls.keylog_file:" + keys, "-o", "smtp.decryption:TRUE"]
    for proto_name in ["smtp", "dns", "imap", "pop", "tls"]:
        n = count(pcap, proto_name)
        check(n > 0, "no %s frame" % proto_name)
        print("%-5s frames: %d" % (proto_name, n))
    bad_flt = "_ws.malformed || _ws.expert.severity >= warning"
    n = count(pcap, bad_flt)
    check(n == 0, "%d malformed or expert>=warning frames" % n)
    n = count(pcap, bad_flt, *dec)
    check(n == 0, "%d malformed or expert>=warning frames with the key log" % n)
    for flt in ["imf", "smtp.req.command == \"MAIL\"", "imap.request", "pop.request"]:
        check(count(pcap, "tls && " + flt, *dec) > 0, "nothing decrypted as %s" % flt)

    # Follow each SMTP dialogue.
    recs = [json.loads(l) for l in open(trace, encoding="utf-8")][1:]
    peer = {}
    tls_conns = set()
    for r in recs:
        if r["ev"] in ("tcp.accept", "tcp.established") and "peer" in r:
            peer[r["conn"]] = r["peer"]
        if r["ev"] == "tls.established":
            tls_conns.add(r["conn"])
    out = tshark("-r", pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
                 "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport")
    stream_of = {}
    for l in out.splitlines():
        s, a, port = l.split("\t")
        stream_of.setdefault("%s:%s" % (a, port), int(s))
    checked = 0
    for r in recs:
        if r["ev"] != "tcp.connect" or not r["dst"].endswith((":25", ":587")):
            continue
        cli = r["conn"]
        srv = peer.get(cli)
        if srv is None or r["src"] not in stream_of:
            continue  # never accepted
        replies = [x["line"].encode("latin-1") for x in recs
                   if x["ev"] == "smtp.reply" and x["conn"] == cli]
        cmds = [x["line"].encode("latin-1") for x in recs
                if x["ev"] == "smtp.cmd" and x["conn"] == srv]
        if not replies:
            continue
        st = stream_of[r["src"]]
        f = follow(pcap, "tcp", st)
        c_bytes, s_bytes = (f["a"], f["b"]) if f["node0"] == r["src"] else (f["b"], f["a"])
        if cli in tls_conns:
            c_bytes, s_bytes = c_bytes[:c_bytes.find(b"\x16")], s_bytes[:s_bytes.find(b"\x16")]
            t = follow(pcap, "tls", st, *dec)
            tc, ts = (t["a"], t["b"]) if t["node0"] == r["src"] else (t["b"], t["a"])
            c_bytes, s_bytes = c_bytes + tc, s_bytes + ts
        name = "stream %d (%s -> %s)" % (st, r["src"], r["dst"])
        want = b"".join(l + b"\r\n" for l in replies)
        check(s_bytes == want, "%s: server bytes differ from the trace's replies:\n got %r\nwant %r"
              % (name, s_bytes[:300], want[:300]))
        check_client(name, c_bytes, cmds, replies)
        checked += 1
    check(checked >= 3, "only %d SMTP dialogues followed" % checked)
    print("SMTP dialogues followed byte for byte: %d" % checked)
    shutil.rmtree(tmp)
    if FAILS:
        print("%d failures" % len(FAILS))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
