#!/usr/bin/env python3
"""`mailsim stats` on a scenario small enough to work out by hand
(tests/stats_by_hand.json): every number below is derived from the link
latencies and the retry schedule, not read from a run.

H = 20 ms: each host is one 10 ms link from the router, so any host reaches
any other in 2 x 10 ms. No jitter, no bandwidth limit, no TLS; the engines
answer at once, so every step takes a whole number of H.

One SMTP transaction from a connect at time C (each line is one H later):
  C+2H the client sees SYN-ACK; C+3H the server accepts (the client's ACK);
  C+4H the greeting reaches the client; C+5H EHLO reaches the server;
  C+6H the EHLO reply; [AUTH: +1H AUTH, +1H 235 — submission only];
  then MAIL, RCPT, DATA pipelined: +1H at the server, +1H replies at the
  client, +1H the body at the server: the server accepts (msg.*) there.
  Submission: 11H = 220 ms; MTA to MTA: 9H = 180 ms.
A DNS lookup through the resolver (stub -> res -> ns -> res -> stub): 4H.

m1, composed at 1 s:
  submitted 1 + 11H = 1.220 s (msg.submit, msg.queue at the relay)
  MX lookup 4H, A lookup 4H: connect to the MX at 1.380 s; greylisted at the
  RCPT (at the MX at C+7H), the 450 reaches the relay at C+8H = 1.540 s:
  msg.defer. exim retries at 1.540 + 900 = 901.540 s (names cached, TTL
  3600 s): the body reaches the MX at 901.540 + 9H = 901.720 s; the MX then
  checks SPF (TXT a.test, 4H) and DMARC (TXT _dmarc.a.test, 4H): msg.relay
  into the MX at 901.880 s; the 250 reaches the relay at 901.900 s
  (msg.expire there). The MX connects to the mailbox host at once: 9H,
  msg.deliver at 902.060 s; its 250 reaches the MX at 902.080 s.
  delay 902.060 - 1.220 = 900.840 s.
m2, composed at 1000 s (triplet known: no greylisting; every name cached
  at the stubs): submitted 1000.220; relayed 9H later 1000.400 (the 250 back
  at 1000.420); delivered 9H later 1000.580. delay 18H = 0.360 s.
The run ends at its duration, 1200 s.

Usage: stats_by_hand_test.py MAILSIM SRCDIR
"""
import csv
import io
import os

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM)
MS = 1_000_000
H = 20 * MS

tmp = pyutil.tmpdir("mailsim-byhand-")
trace = os.path.join(tmp, "t.jsonl")
scn = os.path.join(SRC, "tests", "stats_by_hand.json")
r = run("run", scn, "-q", "--trace", trace)
check(r.returncode == 0, f"the scenario runs ({r.stderr.strip()})")
r = run("stats", "--csv", trace)
check(r.returncode == 0, "mailsim stats --csv")
rows = list(csv.reader(io.StringIO(r.stdout)))[1:]


def values(section, key=None, node=None, peer=None):
    return [x[7] for x in rows if x[0] == section and (key is None or x[1] == key)
            and (node is None or x[2] == node) and (peer is None or x[3] == peer)]


def summary(key):
    v = values("summary", key)
    return v[0] if v else None


S = 1000 * MS
m1_submit = 1 * S + 11 * H
m1_defer = m1_submit + 4 * H + 4 * H + 8 * H
m1_retry = m1_defer + 900 * S
m1_relay = m1_retry + 9 * H + 4 * H + 4 * H
m1_expire = m1_relay + H
m1_deliver = m1_relay + 9 * H
m2_submit = 1000 * S + 11 * H
m2_relay = m2_submit + 9 * H
m2_deliver = m2_relay + 9 * H
end = 1200 * S

check((m1_submit, m1_defer, m1_relay, m1_deliver) ==
      (1220 * MS, 1540 * MS, 901880 * MS, 902060 * MS), "the derivation's own arithmetic")

d1, d2 = m1_deliver - m1_submit, m2_deliver - m2_submit
want = {
    "end_ns": end, "messages": 2, "recipients": 2, "delivered": 2, "bounced": 0,
    "deferrals": 1, "grey_defers": 1, "bounce_rate_pct": "0.00",
    "delay_n": 2, "delay_min_ns": d2, "delay_p50_ns": d2,  # nearest rank: ceil(0.5*2) = 1st
    "delay_p95_ns": d1, "delay_max_ns": d1, "delay_mean_ns": (d1 + d2) // 2,
    # greylisting: first greylisted defer -> the relay that carried the rcpt
    "grey_n": 1, "grey_max_ns": m1_relay - m1_defer,
    # hits: the relay's 2nd try (MX, A) and m2 (MX, A): 4; the MX's m2 (TXT, TXT): 2
    # queries sent: relay 2 (m1's MX, A), res 4 (MX, A, TXT, TXT), mx 2 (m1's TXT, TXT)
    "dns_hits": 6, "dns_queries": 8, "dns_hit_rate_pct": "42.86",  # 6 / 14
}
for k, v in want.items():
    got = summary(k)
    check(got == str(v), f"summary {k}: got {got} want {v}")
check((d1, d2) == (900840 * MS, 360 * MS), "delays 900.840 s and 0.360 s")

hops = {(x[1], x[2], x[3], x[4].split(".")[0]): int(x[7]) for x in rows if x[0] == "hop"}
want_hops = {
    ("submit", "alice", "relay", "m1"): 11 * H, ("submit", "alice", "relay", "m2"): 11 * H,
    ("relay", "relay", "mx", "m1"): m1_relay - m1_submit, ("relay", "relay", "mx", "m2"): 9 * H,
    ("relay", "mx", "mb", "m1"): 9 * H, ("relay", "mx", "mb", "m2"): 9 * H,
    ("deliver", "mb", "mb", "m1"): 0, ("deliver", "mb", "mb", "m2"): 0,
}
check(hops == want_hops, f"per-hop delays: got {hops}")
check(values("retry_hist", "0") == ["1"] and values("retry_hist", "1") == ["1"],
      "retries: m2 none, m1 one")
queue = [(x[2], int(x[6]), int(x[7])) for x in rows if x[0] == "queue"]
check(queue == [("relay", m1_submit, 1), ("relay", m1_expire, 0), ("relay", m2_submit, 1),
                ("relay", m2_relay + H, 0), ("mx", m1_relay, 1), ("mx", m1_deliver + H, 0),
                ("mx", m2_relay, 1), ("mx", m2_deliver + H, 0)],
      f"queue length over time per MTA: got {queue}")
# time-weighted mean over [0, end], 3 decimals rounded toward zero (STATS.md)
relay_busy = (m1_expire - m1_submit) + H * 10
check(values("queue_summary", "mean", "relay") == [f"{relay_busy * 1000 // end / 1000:.3f}"]
      == ["0.750"], "relay queue mean 900.880 s / 1200 s = 0.750")
check(values("queue_summary", "peak", "relay") == ["1"], "relay queue peak 1")
check(values("dns", "hit_rate_pct", "relay") == ["66.67"] and
      values("dns", "hit_rate_pct", "mx") == ["50.00"] and
      values("dns", "hit_rate_pct", "res") == ["0.00"], "DNS hit rate per node")
check(values("greylist_policy") == [str((m1_retry + 7 * H) - (m1_defer - H))],
      "policy.greylist waited: first seen at the RCPT, passed at the retry's RCPT")

# The end record's own numbers (what `mailsim sweep` reports) agree.
r = run("sweep", scn, "--csv", "-")
sw = list(csv.DictReader(io.StringIO(r.stdout)))
check(r.returncode == 0 and len(sw) == 1 and int(sw[0]["delay_p50_ns"]) == d2 and
      int(sw[0]["delay_max_ns"]) == d1 and sw[0]["retries"] == "1" and
      sw[0]["delivered"] == "2", "mailsim sweep reports the same delays and retries")

plot = os.path.join(tmp, "p.png")
r = run("stats", trace, "--plot", plot, text=False)
check(r.returncode == 0 and open(plot, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "--plot writes a PNG")

pyutil.finish()
