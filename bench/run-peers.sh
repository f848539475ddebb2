#!/bin/bash
# run-peers.sh — our kernel_hold against the peer hold-model benchmarks, side
# by side in one run (see bench/README.md).
#
# Rebuilds the peers from ../shared/peers (next to the checkout) into a temp
# dir, builds kernel_hold, then for each P runs every row RUNS times,
# interleaved (row A, row B, ..., then again), after one untimed warm-up
# each, and prints medians and ratios. Finally counts instructions per event
# with callgrind (repeatable on a noisy machine).
#
# Columns: M ev/s = median of the program's own loop rate (wall clock, as the
# peers print it), min..max over the runs, ratios of those medians; cpu M
# ev/s = N / (user + sys CPU s) of the whole process (setup included), which
# other jobs on the machine disturb much less than the wall clock.
#
#   RUNS=5          timed runs per row
#   N=10000000      events per run;  PS="1000 100000"  values of P
#   NS3_ALL=1       also ns-3 Map (default), Heap and Calendar schedulers
#   CALLGRIND=0     skip the callgrind part
#   BUILD=build     meson build dir of this checkout (set up if missing)
#   PEERS=dir       peer sources (default: ../shared/peers from the checkout)
# Needs: gcc g++ libns3-dev, time (/usr/bin/time), valgrind (optional), /usr/bin/python3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
RUNS=${RUNS:-5} N=${N:-10000000} PS=${PS:-"1000 100000"} NS3_ALL=${NS3_ALL:-0}
CALLGRIND=${CALLGRIND:-1} BUILD=${BUILD:-build}

if [ ! -f "$PEERS/hold_c.c" ] || [ ! -f "$PEERS/rng.h" ]; then
  echo "run-peers.sh: no peer sources in $PEERS (../shared/peers): skipping the peer comparison."
  echo "Our figure alone: $ROOT/$BUILD/bench/kernel_hold P N"
  exit 0
fi

TMP=$(mktemp -d /tmp/mailsim-peers.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

echo "== build (peers: gcc/g++ -O2 into $TMP; ours: meson $BUILD)"
cp "$PEERS"/hold_c.c "$PEERS"/rng.h "$TMP"/
gcc -O2 -o "$TMP/hold_c" "$TMP/hold_c.c" -lm
HAVE_NS3=0
if [ -f "$PEERS/hold_ns3.cc" ] && g++ -O2 -std=c++17 -I/usr/include -I"$TMP" \
    -o "$TMP/hold_ns3" "$PEERS/hold_ns3.cc" -lns3-core 2>"$TMP/ns3.err"; then
  HAVE_NS3=1
else
  echo "(ns-3 peer not built: install libns3-dev; $(head -c 300 "$TMP/ns3.err" 2>/dev/null))"
fi
[ -d "$ROOT/$BUILD" ] || meson setup "$ROOT/$BUILD" "$ROOT" >/dev/null
ninja -C "$ROOT/$BUILD" -j2 bench/kernel_hold >/dev/null
OURS="$ROOT/$BUILD/bench/kernel_hold"

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(uname -r); gcc $(gcc -dumpfullversion)"
echo "buildtype: $(meson introspect --buildoptions "$ROOT/$BUILD" 2>/dev/null |
  /usr/bin/python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["buildtype"])' 2>/dev/null || echo '?')"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== hold model, N=$N, $RUNS interleaved runs per row (+1 warm-up), loop events/s"
OURS=$OURS TMP=$TMP RUNS=$RUNS N=$N PS=$PS NS3_ALL=$NS3_ALL HAVE_NS3=$HAVE_NS3 /usr/bin/python3 - <<'PY'
import os, re, statistics, subprocess, sys
E = os.environ
RUNS, N, TMP, OURS = int(E["RUNS"]), E["N"], E["TMP"], E["OURS"]
rows = [("mailsim sim_sched (ours)", lambda P: [OURS, P, N]),
        ("c-binary-heap", lambda P: [TMP + "/hold_c", "bin", P, N]),
        ("c-4ary-heap", lambda P: [TMP + "/hold_c", "quad", P, N])]
if E["HAVE_NS3"] == "1":
    rows.append(("ns-3 PriorityQueue", lambda P: [TMP + "/hold_ns3", "pq", P, N]))
    if E["NS3_ALL"] == "1":
        for s, nm in [("map", "ns-3 Map (default)"), ("heap", "ns-3 Heap"), ("calendar", "ns-3 Calendar")]:
            rows.append((nm, lambda P, s=s: [TMP + "/hold_ns3", s, P, N]))

def once(argv):
    # /usr/bin/time for wall and peak RSS: a child forked from Python would
    # report Python's own RSS (Linux keeps the max RSS across exec).
    tf = os.path.join(TMP, "time.out")
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tf] + argv, capture_output=True, text=True)
    if r.returncode != 0 or "events_per_s=" not in r.stdout:
        raise RuntimeError("%s failed (rc %d): %s" % (" ".join(argv), r.returncode, (r.stderr or r.stdout)[-300:]))
    kv = dict(re.findall(r"(\w+)=(\S+)", r.stdout.splitlines()[-1]))
    wall, rss_kib, user, sys_ = open(tf).read().split()[-4:]
    cpu = max(float(user) + float(sys_), 0.01)
    return float(kv["events_per_s"]), float(wall), int(rss_kib) / 1024, int(kv["N"]) / cpu

fmt = "| %-26s | %7s | %9s | %13s | %8s | %8s | %9s | %11s | %8s |"
print(fmt % ("implementation", "P", "M ev/s", "min..max", "vs ns-3", "vs c-bin", "vs c-4ary",
             "cpu M ev/s", "peak MiB"))
print("|" + "|".join(["-" * 28] + ["-" * (w + 1) + ":" for w in (7, 9)] + ["-" * 15] +
                     ["-" * (w + 1) + ":" for w in (8, 8, 9, 11, 8)]) + "|")
for P in E["PS"].split():
    res = {name: [] for name, _ in rows}
    for name, argv in rows:
        once(argv(P))  # warm-up
    for _ in range(RUNS):
        for name, argv in rows:
            res[name].append(once(argv(P)))
    med = {name: statistics.median(r[0] for r in rs) for name, rs in res.items()}
    ns3 = med.get("ns-3 PriorityQueue")
    for name, rs in res.items():
        ev = [r[0] for r in rs]
        print(fmt % (name, format(int(P), ","), "%.2f" % (med[name] / 1e6),
                     "%.2f..%.2f" % (min(ev) / 1e6, max(ev) / 1e6),
                     "%.2fx" % (med[name] / ns3) if ns3 else "-",
                     "%.2fx" % (med[name] / med["c-binary-heap"]),
                     "%.2fx" % (med[name] / med["c-4ary-heap"]),
                     "%.2f" % (statistics.median(r[3] for r in rs) / 1e6),
                     "%.1f" % statistics.median(r[2] for r in rs)))
    sys.stdout.flush()
PY
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
  echo "== callgrind: instructions per event at P=1000 = (Ir(N=600k) - Ir(N=200k)) / 400k"
  ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,; }
  for row in "ours:$OURS" "c-binary-heap:$TMP/hold_c bin" "c-4ary-heap:$TMP/hold_c quad"; do
    name=${row%%:*} cmd=${row#*:}
    # shellcheck disable=SC2086
    a=$(ir $cmd 1000 200000) b=$(ir $cmd 1000 600000)
    echo "$name: $(( (b - a) / 400000 )) instructions/event"
  done
fi
