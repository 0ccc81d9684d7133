#!/usr/bin/env bash
# scale.sh [N...]: permaudit against the synthetic target bench/scaleserver
# at N endpoints x 5 roles (default N: 2000 20000; issue 12 also asks for
# 200000), next to wrk's keep-alive ceiling on the same target at the
# same connection count (crawl.concurrency, 8), scoring every cell
# against the target's truth in the same run. Not part of .ci/run. Needs
# wrk, /usr/bin/time, python3 and chromium (apt-get install wrk time
# python3 chromium).
#
# Each N runs REPS times (default 3), wrk and permaudit interleaved; the
# line printed per N gives medians. The probe phase is measured by the
# target's own counter: permaudit -v logs "probe phase started" and
# "probe phase done" (crawl/probe.go), and the target counts the requests
# it served in that window (bench/scaleserver, /__stats?from=&to=).
# Requests per cell count every request of the audit (sign-ins, checks,
# discovery, probes, canaries) over the N x 5 cells. The report's load
# time is taken on the last repetition. Prints the machine's load average
# before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2000 20000)
reps=${REPS:-3}
tmp=$(mktemp -d)
srv=""
trap 'kill $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/permaudit" ./cmd/permaudit
go build -o "$tmp/scaleserver" ./bench/scaleserver
go build -o "$tmp/reportload" ./bench/reportload
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
stat() { python3 -c "import json,sys,urllib.request;print(json.load(urllib.request.urlopen(sys.argv[1]))[sys.argv[2]])" "$@"; }
for n in "${sizes[@]}"; do
  "$tmp/scaleserver" -n "$n" -config "$tmp/cfg.yaml" -truth "$tmp/truth.json" > "$tmp/url" &
  srv=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
  url=$(head -n1 "$tmp/url")
  : > "$tmp/reps.jsonl"
  for rep in $(seq "$reps"); do
    ceiling=$(wrk -t2 -c8 -d5s -H "Authorization: Bearer bench-reader-token-0001" "$url/e/0" | awk '/Requests\/sec/ {print $2}')
    before=$(stat "$url/__stats" requests)
    set +e
    /usr/bin/time -v "$tmp/permaudit" audit -v -c "$tmp/cfg.yaml" --max-duration 30m \
      --out json="$tmp/run.json" --out html="$tmp/report.html" > /dev/null 2> "$tmp/stderr"
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
    python3 - "$tmp/run.json" "$tmp/truth.json" "$tmp/stderr" >> "$tmp/reps.jsonl" <<PY
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
    "rss_kb": int(tv["Maximum resident set size (kbytes)"]), "cells": cells, "wrong": wrong, "missing": missing}))
PY
  done
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
for i, r in enumerate(reps, 1):
    print(f"  rep {i}: wall={r['wall']:.1f}s requests={r['requests']} probe={r['probe_requests']} in {r['probe_s']:.2f}s "
          f"({r['probe_rps']:.0f} req/s) wrk={r['wrk']:.0f} rss_kb={r['rss_kb']} wrong={r['wrong']} missing={r['missing']}")
PY
  kill $srv; wait $srv 2>/dev/null || true; srv=""
  rm -f "$tmp/url"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
