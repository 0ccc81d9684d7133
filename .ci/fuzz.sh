#!/usr/bin/env bash
# Runs every fuzz target of the project for a bounded time each, beyond
# its seeds (which `go test` already runs). Targets are discovered, not
# listed: every func Fuzz* of every package (`go test -list '^Fuzz'`).
#
#   FUZZTIME=10s bash .ci/fuzz.sh        # the default: 10s per target
#
# A failure leaves the failing input in <pkg>/testdata/fuzz/<Target>/ and
# the script exits non-zero; add that file to the seeds once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

targets=0
failed=()
for pkg in $(go list ./...); do
  names=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true)
  for name in $names; do
    targets=$((targets + 1))
    echo "== fuzz $pkg $name ($fuzztime)"
    # -parallel 2: the CI machine has 2 cores.
    if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel 2 "$pkg"; then
      failed+=("$pkg $name")
    fi
  done
done
echo "== fuzz: $targets target(s), ${#failed[@]} failed"
if [ "${#failed[@]}" -gt 0 ]; then
  printf '  %s\n' "${failed[@]}"
  exit 1
fi
