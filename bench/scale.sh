#!/usr/bin/env bash
# scale.sh [N...]: permaudit against the synthetic target bench/scaleserver
# at N endpoints x 5 roles (default N: 2000 20000; issue 12 also asks for
# 200000), next to wrk's keep-alive ceiling on the same target, scoring
# every cell against the target's truth in the same run. Not part of
# .ci/run. Needs wrk, /usr/bin/time, python3 and chromium (apt-get
# install wrk time python3 chromium). Prints one line per N and the
# machine's load average.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2000 20000)
tmp=$(mktemp -d)
srv=""
trap 'kill $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/permaudit" ./cmd/permaudit
go build -o "$tmp/scaleserver" ./bench/scaleserver
go build -o "$tmp/reportload" ./bench/reportload
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
for n in "${sizes[@]}"; do
  "$tmp/scaleserver" -n "$n" -config "$tmp/cfg.yaml" -truth "$tmp/truth.json" > "$tmp/url" &
  srv=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
  url=$(head -n1 "$tmp/url")
  ceiling=$(wrk -t2 -c8 -d5s -H "Authorization: Bearer bench-reader-token-0001" "$url/e/0" | awk '/Requests\/sec/ {print $2}')
  before=$(python3 -c "import json,urllib.request;print(json.load(urllib.request.urlopen('$url/__stats'))['requests'])")
  set +e
  /usr/bin/time -v "$tmp/permaudit" audit -c "$tmp/cfg.yaml" --max-duration 30m \
    --out json="$tmp/run.json" --out html="$tmp/report.html" > /dev/null 2> "$tmp/stderr"
  code=$?
  set -e
  after=$(python3 -c "import json,urllib.request;print(json.load(urllib.request.urlopen('$url/__stats'))['requests'])")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/stderr")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/stderr")
  score=$(python3 - "$tmp/run.json" "$tmp/truth.json" <<'PY'
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
print(f"cells={cells} wrong={wrong} missing={missing}")
PY
)
  load=$("$tmp/reportload" "$tmp/report.html" 2>/dev/null || echo "load_ms=? matrix_ms=? filter_ms=?")
  cells=$((n * 5))
  reqs=$((after - before))
  python3 - <<PY
wall = "$wall".split(":")
secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall)))
print(f"N=$n exit=$code wall={secs:.1f}s target_requests=$reqs requests_per_cell={$reqs / $cells:.2f} "
      f"audit_req_per_s={$reqs / secs:.0f} wrk_ceiling_req_per_s=$ceiling maxrss_kb=$rss "
      f"bytes_per_cell={$rss * 1024 / $cells:.0f} $score $load")
PY
  kill $srv; wait $srv 2>/dev/null || true; srv=""
  rm -f "$tmp/url"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
