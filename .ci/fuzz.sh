#!/usr/bin/env bash
# Runs every fuzz target of the project for a bounded time each, beyond
# its seeds (which `go test` already runs). Targets are discovered, not
# listed: every func Fuzz* of every package's _test.go files.
#
#   FUZZTIME=10s bash .ci/fuzz.sh        # the default: 10s per target
#
# A failure leaves the failing input in <pkg>/testdata/fuzz/<Target>/ and
# the script exits non-zero; add that file to the seeds once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

# fuzz_one runs one target. Go's fuzzing engine sometimes ends a run with
# "context deadline exceeded" and no failing input when -fuzztime runs out:
# a race in the coordinator (go.dev/issue/75804, fixed in Go 1.27, not in
# 1.26), not a finding. Such a run is tried once more and then reported as
# a warning. A failing input always fails.
#
# -fuzzminimizetime 200x: by default the engine spends up to a minute
# minimising every new interesting input, and with a budget of seconds
# FuzzParse and FuzzRenderers spent nearly all of it there (101 and 7
# executions in 5 s; capped, thousands). A failing input is still written,
# minimised less; minimise it further by hand when fixing it.
fuzz_one() {
  local pkg=$1 name=$2 out
  for attempt in 1 2; do
    out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 200x -parallel 2 "$pkg" 2>&1) && { echo "$out" | tail -n 3; return 0; }
    echo "$out" | grep -v 'elapsed:' | tail -n 20
    # Here-strings, not `echo | grep -q`: grep -q stops reading at the
    # first match, and under pipefail echo's SIGPIPE would read as "no".
    if grep -q 'Failing input written' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
      return 1
    fi
    echo "-- $name: the fuzzing engine's deadline, not a failing input (attempt $attempt)"
  done
  echo "WARNING: $pkg $name ended twice on the engine's deadline with no failing input"
  return 0
}

# Targets are read from the source: every "func FuzzX(" of a _test.go
# file outside testdata/. `go test -list` would say the same but build
# every package's tests once more for it, a minute of a cold CI run.
targets=0
failed=()
while read -r dir name; do
  [ -n "$dir" ] || continue
  pkg="./$dir"
  targets=$((targets + 1))
  echo "== fuzz $pkg $name ($fuzztime)"
  # -parallel 2: the CI machine has 2 cores.
  if ! fuzz_one "$pkg" "$name"; then
    failed+=("$pkg $name")
  fi
done < <(find . -name '*_test.go' -not -path '*/testdata/*' -not -path './.git/*' -print0 |
  xargs -0 grep -H -o -E '^func Fuzz[A-Za-z0-9_]*\(' |
  sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u)
if [ "$targets" -eq 0 ]; then
  echo "fuzz.sh: no fuzz target found; the search for 'func Fuzz' in _test.go files is broken"
  exit 1
fi
echo "== fuzz: $targets target(s), ${#failed[@]} failed"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
