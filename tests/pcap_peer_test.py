#!/usr/bin/env python3
"""Real peer: tshark reads what `mailsim pcap` writes.

    pcap_peer_test.py MAILSIM SRCDIR

Runs the journey, and the journey without TLS ("tls": false), each at packet
and at protocol detail, exports OUT.pcap (and at packet detail its key
log), then:
  - tshark dissects SMTP, DNS, IMAP, POP3 and TLS in it, and decrypts TLS
    with the key log (SMTP, IMAP and POP3 inside TLS, the message as IMF);
  - every IPv4, TCP and UDP checksum verifies (tshark's checks on);
  - no frame is malformed or carries an expert item at warning or error
    level, with and without the key log (SMTP AUTH decoding on, as a
    Wireshark user would set it; off, Wireshark warns that it is off);
  - for every SMTP connection, tshark's follow (tcp up to STARTTLS, tls
    after it) gives the dialogue byte for byte: the server's bytes equal the
    trace's smtp.reply lines each with CRLF; the client's bytes equal the
    trace's smtp.cmd lines each with CRLF, where at packet detail the trace
    masks an AUTH secret ("****" stands for one base64 word) and does not
    record the message after a DATA answered by 354 (checked to be there,
    up to its CRLF.CRLF); at protocol detail (rebuilt from those lines; TLS
    data is not shown there) the plaintext journey's streams equal the
    lines exactly;
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


def smtp_dialogues(trace, pcap, dec, exact):
    """Follows each SMTP connection of TRACE in PCAP; returns how many."""
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
        name = "%s stream %d (%s -> %s)" % (os.path.basename(pcap), st, r["src"], r["dst"])
        f = follow(pcap, "tcp", st)
        c_bytes, s_bytes = (f["a"], f["b"]) if f["node0"] == r["src"] else (f["b"], f["a"])
        if exact:
            check(c_bytes == b"".join(l + b"\r\n" for l in cmds),
                  "%s: client bytes differ from the trace's commands" % name)
            check(s_bytes == b"".join(l + b"\r\n" for l in replies),
                  "%s: server bytes differ from the trace's replies" % name)
            checked += 1
            continue
        if cli in tls_conns:
            c_bytes, s_bytes = c_bytes[:c_bytes.find(b"\x16")], s_bytes[:s_bytes.find(b"\x16")]
            t = follow(pcap, "tls", st, *dec)
            tc, ts = (t["a"], t["b"]) if t["node0"] == r["src"] else (t["b"], t["a"])
            c_bytes, s_bytes = c_bytes + tc, s_bytes + ts
        want = b"".join(l + b"\r\n" for l in replies)
        check(s_bytes == want, "%s: server bytes differ from the trace's replies:\n got %r\nwant %r"
              % (name, s_bytes[:300], want[:300]))
        check_client(name, c_bytes, cmds, replies)
        checked += 1
    return checked


def variant(mailsim, tmp, scenario, name, detail, tls):
    """Runs SCENARIO at DETAIL, exports and checks the pcap with tshark."""
    trace = os.path.join(tmp, name + ".jsonl")
    pcap = os.path.join(tmp, name + ".pcap")
    keys = os.path.join(tmp, name + ".keys")
    p = run([mailsim, "run", scenario, "--detail", detail, "--trace", trace, "-q"])
    check(p.returncode == 0, "%s: run: exit %d %s" % (name, p.returncode, p.stderr.decode()))
    p = run([mailsim, "pcap", trace, pcap, "--keylog", keys])
    check(p.returncode == 0, "%s: pcap: exit %d %s" % (name, p.returncode, p.stderr.decode()))
    print(name + ": " + p.stdout.decode().strip().replace("\n", "\n  "))
    dec = ["-o", "tls.keylog_file:" + keys, "-o", "smtp.decryption:TRUE"]
    protos = ["smtp", "dns", "imap", "pop"] + (["tls"] if tls and detail == "packets" else [])
    for proto_name in protos:
        n = count(pcap, proto_name)
        check(n > 0, "%s: no %s frame" % (name, proto_name))
        print("  %-5s frames: %d" % (proto_name, n))
    bad_flt = "_ws.malformed || _ws.expert.severity >= warning"
    ck = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
          "-o", "udp.check_checksum:TRUE"]
    n = count(pcap, "ip.checksum.status == 0 || tcp.checksum.status == 0 || "
              "udp.checksum.status == 0", *ck)
    check(n == 0, "%s: %d frames with a bad checksum" % (name, n))
    n = count(pcap, "ip.checksum.status == 1 && (tcp.checksum.status == 1 || "
              "udp.checksum.status == 1)", *ck)
    check(n == count(pcap, "ip"), "%s: only %d frames with verified checksums" % (name, n))
    n = count(pcap, bad_flt, "-o", "smtp.decryption:TRUE", *ck)
    check(n == 0, "%s: %d malformed or expert>=warning frames" % (name, n))
    if tls:
        n = count(pcap, bad_flt)
        check(n == 0, "%s: %d malformed or expert>=warning frames (SMTP prefs as shipped)" % (name, n))
    if tls and detail == "packets":
        n = count(pcap, bad_flt, *dec)
        check(n == 0, "%s: %d malformed or expert>=warning frames with the key log" % (name, n))
        for flt in ["imf", "smtp.req.command == \"MAIL\"", "imap.request", "pop.request"]:
            check(count(pcap, "tls && " + flt, *dec) > 0, "%s: nothing decrypted as %s" % (name, flt))
    if detail == "protocol" and tls:
        return  # the SMTP dialogues stop at STARTTLS there
    n = smtp_dialogues(trace, pcap, dec, detail == "protocol")
    check(n >= 3, "%s: only %d SMTP dialogues followed" % (name, n))
    print("  SMTP dialogues followed byte for byte: %d" % n)


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: pcap_peer_test.py MAILSIM SRCDIR")
    mailsim, src = sys.argv[1], sys.argv[2]
    if not shutil.which("tshark"):
        print("tshark not installed: skipped")
        return 77
    tmp = tempfile.mkdtemp(prefix="pcap_peer_")
    journey = os.path.join(src, "scenarios", "journey.json")
    plain = os.path.join(tmp, "journey-plain.json")
    with open(journey, encoding="utf-8") as f:
        scn = json.load(f)
    scn["tls"] = False
    with open(plain, "w", encoding="utf-8") as f:
        json.dump(scn, f)
    variant(mailsim, tmp, journey, "journey-packets", "packets", True)
    variant(mailsim, tmp, plain, "plain-packets", "packets", False)
    variant(mailsim, tmp, journey, "journey-protocol", "protocol", True)
    variant(mailsim, tmp, plain, "plain-protocol", "protocol", False)

    # The command's errors.
    trace = os.path.join(tmp, "journey-packets.jsonl")
    pcap = os.path.join(tmp, "journey-packets.pcap")
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
    shutil.rmtree(tmp)
    if FAILS:
        print("%d failures" % len(FAILS))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
