#!/usr/bin/env bash
# scale.sh [N...]: permaudit against the synthetic target bench/scaleserver
# at N endpoints x 5 roles, next to wrk's keep-alive ceiling on the same
# target at the same connection count (crawl.concurrency, 8), scoring
# every cell against the target's truth in the same run. Each audit
# writes every output (json, html, sarif, junit, csv, markdown, text). Not part of
# .ci/run. Needs wrk, /usr/bin/time, python3 and chromium (apt-get install
# wrk time python3 chromium).
#
# Without arguments it measures issue 12's whole table in one run: N =
# 2,000, 4,000, 20,000, 40,000 and 200,000 (10,000 to 1,000,000 cells),
# and prints the table, each figure against its target, at the end. The
# memory per cell is (peak RSS at 200,000 cells - peak RSS at 20,000) /
# 180,000, so N = 40,000 and 4,000. permaudit raises the collector's
# percent on a heap under 16 MiB (cmd/permaudit/memory.go), which raises
# the RSS at 20,000 cells; the run therefore also audits N = 4,000 with
# GOGC=100 in the environment, which switches that off, and prints the
# per-cell figure against both.
#
# Each N runs REPS times (default 3), wrk and permaudit interleaved; the
# line printed per N gives medians. The probe phase is measured by the
# target's own counter: permaudit -v logs "probe phase started" and
# "probe phase done" (crawl/probe.go), and the target counts the requests
# it served in that window (bench/scaleserver, /__stats?from=&to=).
# Requests per cell count every request of the audit (sign-ins, checks,
# discovery, probes, canaries) over the N x 5 cells. The report's load
# and filter times (bench/reportload) are taken on the last repetition.
# Prints the machine's load average before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2000 4000 20000 40000 200000)
reps=${REPS:-3}
tmp=$(mktemp -d)
srv=""
trap 'kill $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/permaudit" ./cmd/permaudit
go build -o "$tmp/scaleserver" ./bench/scaleserver
go build -o "$tmp/reportload" ./bench/reportload
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
stat() { python3 -c "import json,sys,urllib.request;print(json.load(urllib.request.urlopen(sys.argv[1]))[sys.argv[2]])" "$@"; }
# audit OUT [NAME=VALUE...]: one repetition against the target at $url
# (wrk's ceiling, then permaudit with NAME=VALUE in its environment),
# appended to OUT as a line of JSON.
audit() {
  local out=$1 ceiling before after code window from to probe_reqs; shift
  ceiling=$(wrk -t2 -c8 -d5s -H "Authorization: Bearer bench-reader-token-0001" "$url/e/0" | awk '/Requests\/sec/ {print $2}')
  before=$(stat "$url/__stats" requests)
  set +e
  env "$@" /usr/bin/time -v "$tmp/permaudit" audit -v -c "$tmp/cfg.yaml" --max-duration 30m \
    --out json="$tmp/run.json" --out html="$tmp/report.html" --out sarif="$tmp/run.sarif" --out junit="$tmp/junit.xml" \
    --out csv="$tmp/cells.csv" --out markdown="$tmp/report.md" --out text="$tmp/report.txt" > /dev/null 2> "$tmp/stderr"
  code=$?
  set -e
  after=$(stat "$url/__stats" requests)
  window=$(python3 - "$tmp/stderr" <<'PY'
import re, sys, datetime, math
t = {}
for line in open(sys.argv[1], errors="replace"):
    for key in ("probe phase started", "probe phase done"):
        if f'msg="{key}"' in line and key not in t:
            ts = re.search(r"time=(\S+)", line).group(1)
            t[key] = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000
print(math.floor(t["probe phase started"]), math.ceil(t["probe phase done"]))
PY
)
  from=${window% *}; to=${window#* }
  probe_reqs=$(stat "$url/__stats?from=$from&to=$to" between)
  python3 - "$tmp/run.json" "$tmp/truth.json" "$tmp/stderr" "$@" >> "$out" <<PY
import json, sys, urllib.parse
run, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
cells = wrong = 0
seen = set()
for c in run["observations"]:
    p = urllib.parse.urlsplit(c["url"]).path
    want = truth.get(c["role"], {}).get(p)
    if want is None:
        continue
    cells += 1
    seen.add((c["role"], p))
    if c["status"] != want:
        wrong += 1
missing = sum(len(m) for m in truth.values()) - len(seen)
tv = {}
for line in open(sys.argv[3], errors="replace"):
    k, _, v = line.strip().partition(": ")
    tv[k] = v
wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(tv["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"))))
probe_s = ($to - $from) / 1000
print(json.dumps({"exit": $code, "wall": wall, "requests": $after - $before, "probe_requests": $probe_reqs,
    "probe_s": probe_s, "probe_rps": $probe_reqs / probe_s if probe_s > 0 else 0, "wrk": float("$ceiling"),
    "rss_kb": int(tv["Maximum resident set size (kbytes)"]), "cells": cells, "wrong": wrong, "missing": missing,
    "env": " ".join(sys.argv[4:])}))
PY
}
for n in "${sizes[@]}"; do
  "$tmp/scaleserver" -n "$n" -config "$tmp/cfg.yaml" -truth "$tmp/truth.json" > "$tmp/url" &
  srv=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
  url=$(head -n1 "$tmp/url")
  : > "$tmp/reps.jsonl"
  for rep in $(seq "$reps"); do
    audit "$tmp/reps.jsonl"
  done
  if [ "$n" = 4000 ]; then
    # The 20,000 cells again without the raised percent (see the top).
    audit "$tmp/gogc100.jsonl" GOGC=100
  fi
  load=$("$tmp/reportload" "$tmp/report.html" 2>/dev/null || echo "load_ms=? matrix_ms=? filter_ms=?")
  python3 - "$tmp/reps.jsonl" <<PY
import json, statistics, sys
reps = [json.loads(l) for l in open(sys.argv[1])]
med = lambda k: statistics.median(r[k] for r in reps)
cells = $n * 5
ratio = statistics.median(r["probe_rps"] / r["wrk"] for r in reps)
print(f"N=$n reps={len(reps)} exit={','.join(str(r['exit']) for r in reps)} wall={med('wall'):.1f}s "
      f"target_requests={med('requests'):.0f} requests_per_cell={med('requests') / cells:.3f} "
      f"probe_phase={med('probe_s'):.2f}s probe_requests={med('probe_requests'):.0f} probe_req_per_s={med('probe_rps'):.0f} "
      f"wrk_ceiling_req_per_s={med('wrk'):.0f} probe_vs_wrk={100 * ratio:.1f}% "
      f"audit_req_per_s={statistics.median(r['requests'] / r['wall'] for r in reps):.0f} "
      f"maxrss_kb={med('rss_kb'):.0f} bytes_per_cell={med('rss_kb') * 1024 / cells:.0f} "
      f"wrong={max(r['wrong'] for r in reps)} missing={max(r['missing'] for r in reps)} cells={reps[-1]['cells']} $load")
load = dict(kv.split("=", 1) for kv in "$load".split())
num = lambda v: float(v) if v.replace(".", "", 1).isdigit() else None
with open("$tmp/summary.jsonl", "a") as f:
    f.write(json.dumps({"n": $n, "cells": cells, "wall": med("wall"), "ratio": ratio, "requests_per_cell": med("requests") / cells,
        "rss_kb": med("rss_kb"), "exit": [r["exit"] for r in reps], "wrong": max(r["wrong"] for r in reps),
        "missing": max(r["missing"] for r in reps), "load_ms": num(load.get("load_ms", "?")),
        "filter_ms": num(load.get("filter_ms", "?")), "text_filter_ms": num(load.get("text_filter_ms", "?"))}) + "\n")
for i, r in enumerate(reps, 1):
    print(f"  rep {i}: wall={r['wall']:.1f}s requests={r['requests']} probe={r['probe_requests']} in {r['probe_s']:.2f}s "
          f"({r['probe_rps']:.0f} req/s) wrk={r['wrk']:.0f} rss_kb={r['rss_kb']} wrong={r['wrong']} missing={r['missing']}")
PY

  if [ "$n" = 4000 ]; then
    python3 - "$tmp/gogc100.jsonl" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(f"  with GOGC=100: wall={r['wall']:.1f}s rss_kb={r['rss_kb']} wrong={r['wrong']} missing={r['missing']}")
PY
  fi
  kill $srv; wait $srv 2>/dev/null || true; srv=""
  rm -f "$tmp/url"
done
# Issue 12's table, from what this run measured.
python3 - "$tmp/summary.jsonl" "$tmp/gogc100.jsonl" <<'PY'
import json, os, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by[r["n"]] = r
gogc100 = [json.loads(l) for l in open(sys.argv[2])] if os.path.exists(sys.argv[2]) else []
rows = []
def row(what, target, value, met):
    rows.append((what, target, value, "met" if met else "NOT MET"))
if 20000 in by:
    r = by[20000]
    row("N=20,000 x 5, end to end", "< 15 s", f"{r['wall']:.1f} s", r["wall"] < 15)
for n in (2000, 20000):
    if n in by:
        row(f"probe vs wrk, N={n:,}", ">= 40%", f"{100 * by[n]['ratio']:.1f}%", by[n]["ratio"] >= 0.4)
if 4000 in by and 40000 in by:
    per = (by[40000]["rss_kb"] - by[4000]["rss_kb"]) * 1024 / 180000
    row("bytes per cell, (RSS@200k - RSS@20k) / 180k", "<= 500 B",
        f"{per:.0f} B ({by[4000]['rss_kb']:,.0f} / {by[40000]['rss_kb']:,.0f} KB)", per <= 500)
    for g in gogc100:
        per = (by[40000]["rss_kb"] - g["rss_kb"]) * 1024 / 180000
        row("  the same, RSS@20k with GOGC=100", "<= 500 B", f"{per:.0f} B ({g['rss_kb']:,} KB at 20k)", per <= 500)
if 200000 in by:
    r = by[200000]
    ok = r["rss_kb"] < 2 * 1024 * 1024 and all(e in (0, 1) for e in r["exit"])
    row("1,000,000 cells (N=200,000)", "finishes, < 2 GiB",
        f"{r['rss_kb'] / 1024:,.0f} MiB, {r['wall']:.1f} s, exit {','.join(map(str, r['exit']))}", ok)
if 20000 in by and by[20000]["load_ms"] is not None:
    r = by[20000]
    row("HTML report 20,000 x 5: load", "< 2 s", f"{r['load_ms']:.0f} ms", r["load_ms"] < 2000)
    row("  verdict filter", "< 200 ms", f"{r['filter_ms']:.0f} ms", r["filter_ms"] < 200)
    if r["text_filter_ms"] is not None:
        row("  path filter, typing to rows shown", "< 200 ms", f"{r['text_filter_ms']:.0f} ms", r["text_filter_ms"] < 200)
if by:
    worst = max(by.values(), key=lambda r: r["requests_per_cell"])
    row("requests per cell (worst N)", "<= 1.1", f"{worst['requests_per_cell']:.3f} (N={worst['n']:,})", worst["requests_per_cell"] <= 1.1)
    bad = sum(r["wrong"] + r["missing"] for r in list(by.values()) + gogc100)
    row("cells wrong or missing, every run", "0", str(bad), bad == 0)
w = [max(len(r[i]) for r in rows) for i in range(3)]
print()
for r in rows:
    print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
