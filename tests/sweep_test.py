#!/usr/bin/env python3
"""`mailsim sweep` as a user meets it: the same arguments give the same CSV
byte for byte (also with another -j), a run's row equals the end record of
`mailsim run` with that seed, the grid's order and size, errors naming the
--set.

Usage: sweep_test.py MAILSIM SRCDIR
"""
import csv
import io
import json
import os

import pyutil
from pyutil import check

MAILSIM, SRC = pyutil.args()
run = pyutil.runner(MAILSIM)

tmp = pyutil.tmpdir("mailsim-sweep-")
journey = os.path.join(SRC, "scenarios", "journey.json")
grid = ["--set", "hosts[mx.example.org].mta.greylist_delay=1m,15m",
        "--set", "hosts[smtp.example.com].mta.retry=postfix,exim", "--seeds", "1-2"]

outs = []
for i, jobs in enumerate(["2", "2", "1"]):
    path = os.path.join(tmp, f"s{i}.csv")
    r = run("sweep", journey, *grid, "-j", jobs, "--csv", path)
    check(r.returncode == 0, f"sweep -j {jobs}: exit 0 ({r.stderr.strip()})")
    outs.append((open(path, "rb").read() if os.path.exists(path) else b"", r.stdout))
check(outs[0] == outs[1], "the same arguments twice: identical CSV and table")
check(outs[0] == outs[2], "-j 1 and -j 2: identical CSV and table")

rows = list(csv.DictReader(io.StringIO(outs[0][0].decode())))
check(len(rows) == 8, f"2 x 2 points x 2 seeds = 8 rows (got {len(rows)})")
check(outs[0][0].count(b"\r\n") == 9, "RFC 4180 CRLF line ends")
order = [(r["point"], r["hosts[mx.example.org].mta.greylist_delay"],
          r["hosts[smtp.example.com].mta.retry"], r["seed"]) for r in rows]
want = [(str(p + 1), g, t, s) for p, (g, t) in
        enumerate([(g, t) for g in ("1m", "15m") for t in ("postfix", "exim")]) for s in "12"]
check(order == want, f"grid order: first --set slowest, seeds innermost (got {order})")
table = outs[0][1]
check(table.count("\npoint ") == 4 and "±95% CI" in table, "a summary block per grid point")

# A row equals the end record of the same run done by `mailsim run`.
trace = os.path.join(tmp, "t.jsonl")
r = run("run", journey, "--seed", "2", "-q", "--trace", trace)
end = json.loads(open(trace).read().splitlines()[-1])
r = run("sweep", journey, "--seeds", "2", "--csv", "-")
base = list(csv.DictReader(io.StringIO(r.stdout)))
check(r.returncode == 0 and len(base) == 1, "no --set: one point, the scenario as written")
if base:
    b, m = base[0], end["mail"]
    same = (int(b["events"]) == end["events"] and b["ok"] == str(end["ok"]).lower() and
            int(b["end_ns"]) == end["t"] and
            all(int(b[k]) == m[k] for k in ("composed", "submitted", "delivered", "bounced",
                                           "failed", "queued", "deferred", "retries",
                                           "delay_samples", "delay_p50_ns", "delay_p95_ns",
                                           "delay_max_ns")) and
            int(b["dns_lookups"]) == end["dns"]["lookups"] + end["dns"]["resolver_lookups"])
    check(same, "the sweep's row equals the end record of mailsim run --seed 2")
    check("the scenario as written" in r.stderr, "with --csv -, the table goes to stderr")

# Greylisting longer than the retry interval costs more retries and delay.
d = {(r_["hosts[mx.example.org].mta.greylist_delay"], r_["hosts[smtp.example.com].mta.retry"]):
     int(r_["delay_p50_ns"]) for r_ in rows if r_["seed"] == "1"}
check(d[("15m", "postfix")] > 900e9 > d[("1m", "postfix")],
      f"15m greylisting delays past 15 min, 1m does not ({d})")

# A metric only some runs have: no delivery to the user (the DSN is not a
# submitted message), so no delay sample: averaged over 0 runs, shown as '-'.
r = run("sweep", os.path.join(SRC, "scenarios", "retry-bounce.json"), "--seeds", "1-2")
line = [l for l in r.stdout.splitlines() if l.strip().startswith("delay p50")]
check(r.returncode == 0 and line and line[0].split()[3:] == ["0", "-", "-", "-", "-"],
      f"delays of runs without a delivery are left out ({line})")

# Errors.
pyutil.check_errors(run, [
    (["sweep", journey, "--set", "hosts[mx.example.org].mta.greylist_delay=1m,banana"],
     ["--set hosts[mx.example.org].mta.greylist_delay=banana", "$.hosts["],
     "a bad value: the loader's error naming the --set, exit 2"),
    (["sweep", journey, "--set", "hosts[nosuch].mta.retry=exim"], "hosts[nosuch]",
     "an unknown host: exit 2"),
    (["sweep", journey, "--set", "duration"], "PATH=VALUE", "no '=': exit 2"),
    (["sweep", journey, "--seeds", "9-3"], "--seeds", "bad --seeds: exit 2"),
    (["sweep", journey, "-j", "-1"], [], "negative -j: exit 2"),
])
r = run("sweep", "--help")
check(r.returncode == 0 and "hosts[mx.example.org]" in r.stdout and "Student" in r.stdout,
      "sweep --help explains the paths and the interval")
r = run("--help")
check("mailsim sweep" in r.stdout, "mailsim --help lists sweep")

pyutil.finish()
