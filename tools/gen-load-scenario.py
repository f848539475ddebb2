#!/usr/bin/env python3
"""tools/gen-load-scenario.py — writes the load scenario (deterministically).

    tools/gen-load-scenario.py [--users 1000] [--domains 100] [--messages 10000]
                               [--over 3600] [--seed 1] [--name load] [--no-tls]
                               [--tls-services submission,relay,...]
                               [--unreachable] [--out FILE]

The world: DOMAINS mail domains d00.test, d01.test, ... Each has its
provider's MTA mx.dNN.test (submission on 587 with STARTTLS+AUTH, MX on 25,
postfix retry profile), a mailbox host mail.dNN.test (IMAP and POP3) and a
client host users.dNN.test where its USERS/DOMAINS people read and write mail
(u0@dNN.test, ...; 70 % fetch over IMAP, 30 % over POP3, every 10 minutes).
DNS: a root server, the test. TLD server, one hosting server with the
domains' zones, and one recursive resolver per ten domains. Every host hangs
off one core router with a per-domain latency.

Traffic: MESSAGES messages over OVER seconds of simulated time (uniform),
each from a random user to a random user of another domain, 15 % with a Cc
to a third user. Randomness is splitmix64 from SEED, so the same arguments
always give the same file byte for byte. The file is compact (one message
per line) to stay small.
"""
import argparse
import json
import sys

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        """Uniform in [0, n) by rejection (no modulo bias)."""
        limit = MASK - (MASK + 1) % n
        while True:
            v = self.next()
            if v <= limit:
                return v % n


def build(a):
    rng = SplitMix64(a.seed)
    nd, per = a.domains, a.users // a.domains
    width = max(2, len(str(nd - 1)))
    dom = ["d%0*d.test" % (width, i) for i in range(nd)]
    nres = (nd + 9) // 10
    hosts = [
        {"name": "internet", "role": "router", "addrs": ["10.255.0.1"]},
        {"name": "a.root-servers.net", "role": "dns", "addrs": ["10.0.0.4"], "zones": ["."]},
        {"name": "a.nic.test", "role": "dns", "addrs": ["10.0.0.30"], "zones": ["test."]},
        {"name": "ns.hosting.test", "role": "dns", "addrs": ["10.0.0.53"],
         "zones": [d + "." for d in dom]},
    ]
    for r in range(nres):
        hosts.append({"name": "resolver%d.test" % r, "role": "resolver",
                      "addrs": ["10.0.1.%d" % (r + 1)]})
    links = [{"a": h["name"], "b": "internet", "latency": "5ms", "bandwidth": "10Gbit"}
             for h in hosts[1:]]
    zones = [
        {"origin": ".", "records": [
            ". 86400 IN SOA a.root-servers.net. hostmaster.root. 1 1800 900 604800 86400",
            ". 518400 IN NS a.root-servers.net.",
            "a.root-servers.net. 518400 IN A 10.0.0.4",
            "test. 172800 IN NS a.nic.test.",
            "a.nic.test. 172800 IN A 10.0.0.30"]},
        {"origin": "test.", "records": [
            "test. 900 IN SOA a.nic.test. hostmaster.nic.test. 1 1800 900 604800 86400",
            "test. 172800 IN NS a.nic.test.",
            "a.nic.test. 172800 IN A 10.0.0.30",
            "ns.hosting.test. 172800 IN A 10.0.0.53"]
            + ["%s. 86400 IN NS ns.hosting.test." % d for d in dom]},
    ]
    if a.unreachable:
        hosts.append({"name": "blackhole.test", "role": "server", "addrs": ["10.0.2.1"]})
        links.append({"a": "blackhole.test", "b": "internet", "latency": "5ms",
                      "bandwidth": "10Gbit"})
    users = []
    for i, d in enumerate(dom):
        res = "resolver%d.test" % (i // 10)
        net = "10.%d.%d" % (1 + i // 250, i % 250)
        lat = "%dms" % (2 + (i * 7) % 20)
        hosts += [
            {"name": "mx." + d, "role": "mta", "addrs": [net + ".25"], "resolver": res,
             "mta": {"domains": [d], "submission": True, "mx": True, "mailbox_host": "mail." + d}},
            {"name": "mail." + d, "role": "mailbox", "addrs": [net + ".110"],
             "mailbox": {"domains": [d], "imap": True, "pop3": True, "quota": "1GiB"}},
            {"name": "users." + d, "role": "mua", "addrs": [net + ".10"], "resolver": res},
        ]
        for n in ("mx.", "mail.", "users."):
            links.append({"a": n + d, "b": "internet", "latency": lat, "bandwidth": "1Gbit"})
        zones.append({"origin": d + ".", "records": [
            "@ 3600 IN SOA ns.hosting.test. hostmaster.%s. 1 7200 900 1209600 300" % d,
            "@ 3600 IN NS ns.hosting.test.",
            "@ 3600 IN MX 10 mx.%s." % d,
            "mx.%s. 3600 IN A %s" % (d, "10.0.2.1" if a.unreachable else net + ".25"),
            "mail.%s. 3600 IN A %s.110" % (d, net),
            "users.%s. 3600 IN A %s.10" % (d, net)]})
        for u in range(per):
            users.append({"address": "u%d@%s" % (u, d), "password": "pw%d" % u,
                          "client": "users." + d, "submit": "mx." + d, "mailbox": "mail." + d,
                          "fetch": "pop3" if u % 10 >= 7 else "imap", "every": "10m"})
    messages = []
    over_ms = a.over * 1000
    for k in range(a.messages):
        s = rng.below(len(users))
        sd = s // per
        r = ((sd + 1 + rng.below(nd - 1)) % nd) * per + rng.below(per)
        m = {"id": "m%d" % (k + 1), "from": users[s]["address"], "to": [users[r]["address"]]}
        if rng.below(100) < 15:
            c = rng.below(len(users))
            if c // per != sd and c != r:
                m["cc"] = [users[c]["address"]]
        m["subject"] = "Load %d" % (k + 1)
        m["text"] = "Message %d of the load scenario.\n" % (k + 1)
        m["at"] = "%dms" % rng.below(over_ms)
        messages.append(m)
    messages.sort(key=lambda m: (int(m["at"][:-2]), int(m["id"][1:])))
    return {
        "name": a.name,
        "description": ("Load: %d users in %d domains send %d messages over %d s of simulated time; "
                        "generated by tools/gen-load-scenario.py --users %d --domains %d "
                        "--messages %d --over %d --seed %d"
                        % (len(users), nd, a.messages, a.over, a.users, nd, a.messages, a.over, a.seed)),
        "seed": a.seed,
        **({"tls": False} if a.no_tls else {}),
        **({"tls": {k: k in a.tls_services for k in TLS_SERVICES}} if a.tls_services else {}),
        "duration": "%ds" % (a.over + 900),
        "hosts": hosts, "links": links, "zones": zones, "users": users, "messages": messages,
    }


def write(doc, f):
    """Compact JSON, one host/link/zone/user/message per line (diffable, small)."""
    f.write("{\n")
    keys = list(doc)
    for i, k in enumerate(keys):
        v = doc[k]
        sep = "," if i + 1 < len(keys) else ""
        if isinstance(v, list):
            f.write('"%s":[\n' % k)
            for j, e in enumerate(v):
                f.write(json.dumps(e, separators=(",", ":")) + ("," if j + 1 < len(v) else "") + "\n")
            f.write("]%s\n" % sep)
        else:
            f.write('"%s":%s%s\n' % (k, json.dumps(v), sep))
    f.write("}\n")


TLS_SERVICES = ("submission", "relay", "lmtp", "imap", "pop3")


def services(text):
    """--tls-services: a comma-separated subset of TLS_SERVICES."""
    got = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in got if t not in TLS_SERVICES]
    if bad:
        raise argparse.ArgumentTypeError("unknown service %r (expected some of %s)"
                                         % (bad[0], ", ".join(TLS_SERVICES)))
    return set(got)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", type=int, default=1000)
    p.add_argument("--domains", type=int, default=100)
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--over", type=int, default=3600, help="seconds of simulated time")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--name", default="load")
    p.add_argument("--no-tls", action="store_true",
                   help='write "tls": false (plain-text mail services, for the benchmark)')
    p.add_argument("--tls-services", type=services, metavar="LIST",
                   help='TLS on these services only, comma-separated among %s: writes "tls": '
                        '{...}. Issue 6\'s benchmark world: submission,relay (retrieval in clear) '
                        'or submission,relay,imap,pop3' % ",".join(TLS_SERVICES))
    p.add_argument("--unreachable", action="store_true",
                   help="every domain's MX record points at a host where nothing listens on "
                        "port 25: all mail stays queued at the senders (queue memory benchmark)")
    p.add_argument("--out", default="-")
    a = p.parse_args()
    if a.no_tls and a.tls_services:
        p.error("--no-tls and --tls-services exclude each other")
    if a.domains < 2 or a.users < a.domains or a.users % a.domains:
        p.error("need at least 2 domains and a whole number of users per domain")
    doc = build(a)
    if a.out == "-":
        write(doc, sys.stdout)
    else:
        with open(a.out, "w") as f:
            write(doc, f)


if __name__ == "__main__":
    main()
