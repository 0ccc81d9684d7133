#!/usr/bin/env bash
# same-demo.sh REV: are the demo's run JSON and every output the same as
# at git revision REV, once the timing fields are zeroed? For refactors
# that must keep behaviour (issue 11). It audits the demo with the tree
# at REV and with the working tree, zeroes what differs between any two
# runs (latencies, durations, times, run id, traffic counters, session
# counters, the port), renders each zeroed run with its own tree's
# binary in every format, and compares byte for byte. Needs python3.
set -euo pipefail
rev=${1:?usage: bench/same-demo.sh REV}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add -q --detach "$work/old" "$rev"

zero() { # zero IN OUT
  python3 - "$1" "$2" <<'PY'
import json, re, sys
zero = {'latency_ns': 0, 'duration_ns': 0, 'started': '2026-01-01T00:00:00Z', 'finished': '2026-01-01T00:00:00Z',
        'run_id': '0000000000000000', 'checks': 0, 'paused_ns': 0, 'renewals': 0, 'refreshes': 0, 'sign_ins': 0}
def walk(v):
    if isinstance(v, dict):
        return {k: (zero[k] if k in zero else {kk: 0 for kk in x} if k == 'traffic' and isinstance(x, dict) else walk(x)) for k, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    if isinstance(v, str):
        return re.sub(r'127\.0\.0\.1:\d+', '127.0.0.1:65000', v)
    return v
json.dump(walk(json.load(open(sys.argv[1]))), open(sys.argv[2], 'w'), indent=2, sort_keys=True)
PY
}

status=0
for side in old new; do
  tree=$root; [ "$side" = old ] && tree=$work/old
  (cd "$tree" && go build -o "$work/pa-$side" ./cmd/permaudit)
  mkdir -p "$work/$side"
  "$work/pa-$side" demo --dir "$work/$side" --out json="$work/$side/run.json" >/dev/null 2>&1 || true
  zero "$work/$side/run.json" "$work/$side/zero.json"
  for f in json html junit sarif markdown csv text; do
    "$work/pa-$side" report "$work/$side/zero.json" --out "$f=$work/$side/out.$f" >/dev/null 2>&1 || true
  done
done
for f in zero.json out.json out.html out.junit out.sarif out.markdown out.csv out.text; do
  if cmp -s "$work/old/$f" "$work/new/$f"; then echo "same      $f"; else echo "DIFFERENT $f"; status=1; fi
done
exit $status
