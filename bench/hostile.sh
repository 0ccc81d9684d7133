#!/usr/bin/env bash
# Peak memory (max RSS) of a full permaudit audit of the hostile server
# (crawl/hostiletest: 64 MiB bodies, 1 GiB gzip bombs, link farms, slow
# drips, resets, redirect loops...), the server in a separate process.
# Needs /usr/bin/time (Debian package "time"). Usage: bash bench/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
srv_pid=""
trap 'kill "$srv_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/permaudit" ./cmd/permaudit
go build -o "$tmp/hostileserver" ./bench/hostileserver
"$tmp/hostileserver" > "$tmp/url" &
srv_pid=$!
for _ in $(seq 50); do [ -s "$tmp/url" ] && break; sleep 0.1; done
url=$(cat "$tmp/url")
cat > "$tmp/hostile.yaml" <<YAML
target: $url
crawl: {max_depth: 4, max_requests: 60, concurrency: 4, timeout: 2s, max_body: 1048576, max_duration: 5m}
roles:
  user: {login: {bearer: "bench-token-123456"}}
matrix:
  rules:
    - {match: "GET /**", allow: ["*"]}
YAML
set +e
/usr/bin/time -v "$tmp/permaudit" audit -c "$tmp/hostile.yaml" --out json="$tmp/run.json" --out text="$tmp/run.txt" > /dev/null 2> "$tmp/stderr"
code=$?
set -e
echo "exit code: $code (1 expected: the hostile routes are error findings)"
grep -E "^permaudit: [0-9]+ roles" "$tmp/stderr" || true
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$tmp/stderr"
