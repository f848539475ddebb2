#!/usr/bin/env python3
"""Real-peer test of the DNS codec and zone answers against dnspython.

1. dnspython builds queries and responses (every RR type we know, unknown
   types, escapes, EDNS options, extended rcodes); our decoder must print
   exactly what we derive from dnspython's view of the same bytes, and our
   re-encoding must parse in dnspython to the same message.
2. dnspython queries our authoritative answer step (dns_wire_tool respond)
   and checks the responses it parses.

Usage: dns_peer_test.py TOOL ZONEFILE. Exit 77 (meson: skipped) without dnspython.
"""
import struct
import subprocess
import sys

try:
    import dns.edns
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset
except ImportError as exc:
    print(f"SKIP: dnspython is not installed ({exc}); apt-get install python3-dnspython")
    sys.exit(77)

TOOL, ZONES = sys.argv[1], sys.argv[2]
KNOWN = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT",
         28: "AAAA", 33: "SRV", 255: "ANY"}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
          "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"]
OPCODES = {0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"}
CLASSES = {1: "IN", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def type_text(t):
    return KNOWN.get(t, f"TYPE{t}")


def class_text(c):
    return CLASSES.get(c, f"CLASS{c}")


def rcode_text(r):
    if r < len(RCODES):
        return RCODES[r]
    return "BADVERS" if r == 16 else f"RCODE{r}"


def rdata_text(rd):
    if rd.rdtype in KNOWN:
        return rd.to_text()
    data = rd.to_wire()
    return f"\\# {len(data)}" + (f" {data.hex()}" if data else "")


def expected_text(m):
    """Our dns_msg_append_text format, computed from dnspython's parse."""
    out = [f";; opcode: {OPCODES.get(m.opcode(), 'OPCODE?')}, status: "
           f"{rcode_text(m.rcode())}, id: {m.id}"]
    names = [(0x8000, "qr"), (0x0400, "aa"), (0x0200, "tc"), (0x0100, "rd"),
             (0x0080, "ra"), (0x0040, "z"), (0x0020, "ad"), (0x0010, "cd")]
    out.append(";; flags:" + "".join(f" {n}" for bit, n in names if m.flags & bit))
    if m.edns >= 0:
        line = f";; edns: version {m.edns}, udp {m.payload}"
        if m.ednsflags & 0x8000:
            line += ", do"
        raw = b""
        for opt in m.options:
            data = opt.to_wire()
            raw += struct.pack("!HH", int(opt.otype), len(data)) + data
        if raw:
            line += ", options " + raw.hex()
        out.append(line)
    out.append(";; question")
    for rrset in m.question:
        out.append(f"{rrset.name.to_text()} {class_text(rrset.rdclass)} {type_text(rrset.rdtype)}")
    for title, section in (("answer", m.answer), ("authority", m.authority),
                           ("additional", m.additional)):
        out.append(f";; {title}")
        for rrset in section:
            for rd in rrset:
                out.append(f"{rrset.name.to_text()} {rrset.ttl} {class_text(rrset.rdclass)} "
                           f"{type_text(rrset.rdtype)} {rdata_text(rd)}")
    return "\n".join(out)


def run_tool(args, lines):
    proc = subprocess.run([TOOL] + args, input="\n".join(lines) + "\n", capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr)
        sys.exit(1)
    blocks, cur = [], []
    for line in proc.stdout.splitlines():
        if line == "END":
            blocks.append(cur)
            cur = []
        else:
            cur.append(line)
    return blocks


def build_messages():
    msgs = []
    q = dns.message.make_query("example.com.", "MX", use_edns=0, payload=1232, want_dnssec=True,
                               options=[dns.edns.GenericOption(10, b"\x01\x02\x03\x04\x05\x06\x07\x08")])
    q.id = 1
    msgs.append(q)
    q = dns.message.make_query("WeIrD\\.name\\032x.example.", "TXT")
    q.id = 2
    q.flags |= dns.flags.AD | dns.flags.CD
    msgs.append(q)
    r = dns.message.make_response(dns.message.make_query("example.com.", "ANY"))
    r.id = 3
    r.flags |= dns.flags.AA
    rr = [
        ("example.com.", 3600, "A", ["192.0.2.1", "192.0.2.2"]),
        ("example.com.", 3600, "AAAA", ["2001:db8::1", "::ffff:192.0.2.1", "2001:db8:0:1:1:1:1:1"]),
        ("example.com.", 3600, "MX", ["10 mail.example.com.", "20 mx.example.net."]),
        ("example.com.", 3600, "TXT", ['"v=spf1 -all"', '"a" "b c" "q\\"uote\\\\" "\\001\\255"']),
        ("www.example.com.", 60, "CNAME", ["example.com."]),
        ("example.com.", 86400, "NS", ["ns1.example.com.", "ns2.example.com."]),
        ("example.com.", 86400, "SOA",
         ["ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"]),
        ("1.2.0.192.in-addr.arpa.", 300, "PTR", ["example.com."]),
        ("_sip._tcp.example.com.", 300, "SRV", ["0 5 5060 sip.example.com."]),
        ("example.com.", 300, "CAA", ['0 issue "ca.example.net"']),
        ("example.com.", 300, "TYPE65280", ["\\# 3 abcdef"]),
        ("example.com.", 300, "HINFO", ['"cpu" "os"']),
    ]
    for name, ttl, rdtype, datas in rr:
        r.answer.append(dns.rrset.from_text(name, ttl, "IN", rdtype, *datas))
    r.authority.append(dns.rrset.from_text("example.com.", 3600, "IN", "NS", "ns1.example.com."))
    r.additional.append(dns.rrset.from_text("ns1.example.com.", 3600, "IN", "A", "192.0.2.53"))
    msgs.append(r)
    r = dns.message.make_response(dns.message.make_query("example.com.", "A", use_edns=0))
    r.id = 4
    r.set_rcode(dns.rcode.BADVERS)
    msgs.append(r)
    r = dns.message.make_response(dns.message.make_query("nope.example.com.", "A"))
    r.id = 5
    r.set_rcode(dns.rcode.NXDOMAIN)
    r.authority.append(dns.rrset.from_text(
        "example.com.", 300, "IN", "SOA", "ns1.example.com. h.example.com. 1 2 3 4 300"))
    msgs.append(r)
    ch = dns.message.make_query("version.bind.", "TXT", rdclass="CH")
    ch.id = 6
    msgs.append(ch)
    return msgs


def check_decode():
    msgs = build_messages()
    wires = [m.to_wire() for m in msgs]
    # dnspython refuses to write oversized labels; craft two bad packets by hand.
    bad = [bytes.fromhex("123401000001000000000000c00c00010001"),
           bytes.fromhex("123401000001000000000000c0ff00010001")]
    blocks = run_tool(["decode"], [w.hex() for w in wires + bad])
    if len(blocks) != len(wires) + len(bad):
        fail(f"tool answered {len(blocks)} blocks for {len(wires) + len(bad)} messages")
        return
    for i, wire in enumerate(wires):
        parsed = dns.message.from_wire(wire)
        want = expected_text(parsed)
        got = "\n".join(b for b in blocks[i] if not b.startswith("HEX "))
        if got != want:
            fail(f"message {i}: decoder disagrees with dnspython\n--- ours\n{got}\n--- dnspython\n{want}")
            continue
        hexline = [b for b in blocks[i] if b.startswith("HEX ")]
        ours = dns.message.from_wire(bytes.fromhex(hexline[0][4:]))
        if ours.to_text() != parsed.to_text():
            fail(f"message {i}: our re-encoding parses differently in dnspython\n{ours.to_text()}\n"
                 f"--- want\n{parsed.to_text()}")
    for k, name in enumerate(["ptr_loop", "ptr_out_of_bounds"]):
        if blocks[len(wires) + k] != [f"ERR {name}"]:
            fail(f"bad packet {k}: got {blocks[len(wires) + k]} want ERR {name}")
    print(f"decode: {len(wires)} dnspython messages and {len(bad)} bad packets checked")


def ask(cases):
    lines = []
    for proto, qname, qtype, edns in cases:
        if edns is None:
            q = dns.message.make_query(qname, qtype, use_edns=False)
        else:
            q = dns.message.make_query(qname, qtype, use_edns=edns, payload=1232)
        q.id = 7
        lines.append(f"{proto} {q.to_wire().hex()}")
    return run_tool(["respond", ZONES], lines)


def check_respond():
    cases = [
        ("udp", "example.com.", "MX", None, "NOERROR", True,
         ["example.com. 3600 IN MX 10 mail.example.com."],
         ["mail.example.com. 3600 IN A 192.0.2.25", "mail.example.com. 3600 IN AAAA 2001:db8::25"]),
        ("udp", "www.example.com.", "A", 0, "NOERROR", True,
         ["www.example.com. 300 IN CNAME mail.example.com.",
          "mail.example.com. 3600 IN A 192.0.2.25"], []),
        ("udp", "nope.example.com.", "A", None, "NXDOMAIN", True, [], []),
        ("udp", "x.y.wild.example.com.", "TXT", None, "NOERROR", True,
         ['x.y.wild.example.com. 60 IN TXT "wild \\"card\\""'], []),
        ("udp", "host.sub.example.com.", "A", None, "NOERROR", False, [],
         ["ns.sub.example.com. 86400 IN A 192.0.2.100"]),
        ("udp", "_imaps._tcp.example.com.", "SRV", None, "NOERROR", True,
         ["_imaps._tcp.example.com. 300 IN SRV 0 1 993 mail.example.com."],
         ["mail.example.com. 3600 IN A 192.0.2.25", "mail.example.com. 3600 IN AAAA 2001:db8::25"]),
        ("udp", "25.2.0.192.in-addr.arpa.", "PTR", None, "NOERROR", True,
         ["25.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.com."], []),
        ("udp", "example.org.", "A", None, "REFUSED", False, [], []),
        ("udp", "big.example.com.", "TXT", None, "NOERROR", True, [], []),   # TC
        ("tcp", "big.example.com.", "TXT", None, "NOERROR", True, None, []),  # whole
    ]
    blocks = ask([(c[0], c[1], c[2], c[3]) for c in cases])
    for (proto, qname, qtype, edns, rcode, aa, answer, additional), block in zip(cases, blocks):
        r = dns.message.from_wire(bytes.fromhex(block[0][4:]))
        what = f"{proto} {qname} {qtype}"
        if dns.rcode.to_text(r.rcode()) != rcode:
            fail(f"{what}: rcode {dns.rcode.to_text(r.rcode())} want {rcode}")
        if bool(r.flags & dns.flags.AA) != aa:
            fail(f"{what}: AA {bool(r.flags & dns.flags.AA)} want {aa}")
        if (r.edns >= 0) != (edns is not None):
            fail(f"{what}: EDNS presence {r.edns}")
        got_ans = [f"{s.name} {s.ttl} IN {dns.rdatatype.to_text(s.rdtype)} {rd.to_text()}"
                   for s in r.answer for rd in s]
        got_add = [f"{s.name} {s.ttl} IN {dns.rdatatype.to_text(s.rdtype)} {rd.to_text()}"
                   for s in r.additional for rd in s]
        if answer is not None and got_ans != answer:
            fail(f"{what}: answer {got_ans} want {answer}")
        if got_add != additional:
            fail(f"{what}: additional {got_add} want {additional}")
        if qname == "big.example.com.":
            tc = bool(r.flags & dns.flags.TC)
            if tc != (proto == "udp"):
                fail(f"{what}: TC {tc}")
            if proto == "tcp" and len(got_ans) != 3:
                fail(f"{what}: {len(got_ans)} TXT records over TCP, want 3")
        if rcode == "NXDOMAIN":
            soa = [s for s in r.authority if s.rdtype == dns.rdatatype.SOA]
            if not soa or soa[0].ttl != 300:
                fail(f"{what}: SOA in authority missing or TTL wrong: {r.authority}")
        if qname == "host.sub.example.com.":
            ns = [rd.to_text() for s in r.authority for rd in s]
            if ns != ["ns.sub.example.com."]:
                fail(f"{what}: referral authority {ns}")
    print(f"respond: {len(cases)} dnspython queries checked")


check_decode()
check_respond()
if failures:
    print(f"{failures} failure(s)")
    sys.exit(1)
print("all dnspython cross-checks passed")
