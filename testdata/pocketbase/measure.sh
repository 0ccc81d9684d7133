#!/usr/bin/env bash
# measure.sh: what PocketBase really answers, role by role, with curl.
#
# Builds the fixture, starts it on 127.0.0.1 with a temporary data
# directory, creates the superuser and seeds it, signs every role in, then
# prints one line per (endpoint, role): status, whether a
# WWW-Authenticate header came, and the start of the body. The figures in
# README.md come from this script. Needs go, curl and jq.
#
#   bash testdata/pocketbase/measure.sh            # strict rules
#   PB_LOOSEN=list bash testdata/pocketbase/measure.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
port=${PORT:-18091}
base="http://127.0.0.1:$port"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -C "$here" -o "$tmp/pb" .
"$tmp/pb" superuser upsert root@example.test root-pass-0001 --dir "$tmp/data" >/dev/null
"$tmp/pb" serve --http "127.0.0.1:$port" --dir "$tmp/data" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -fs "$base/api/health" >/dev/null && break; sleep 0.1; done
"$tmp/pb" seed --url "$base" >"$tmp/fixture.json"

login() { # collection email password -> token
  curl -fs -X POST "$base/api/collections/$1/auth-with-password" \
    -H 'Content-Type: application/json' \
    -d "{\"identity\":\"$2\",\"password\":\"$3\"}" | jq -r .token
}
declare -A token
token[anonymous]=
token[alice]=$(login users alice@example.test alice-pass-0001)
token[bob]=$(login users bob@example.test bob-pass-00001)
token[staff]=$(login users staff@example.test staff-pass-0001)
token[superuser]=$(login _superusers root@example.test root-pass-0001)
token[invalid]="eyJhbGciOiJIUzI1NiJ9.eyJpZCI6Im5vYm9keSJ9.invalid"
roles=(anonymous alice bob staff superuser invalid)

probe() { # role path
  local auth=()
  [ -n "${token[$1]}" ] && auth=(-H "Authorization: ${token[$1]}")
  local out status www body
  out=$(curl -s -D "$tmp/h" -o "$tmp/b" -w '%{http_code}' "${auth[@]}" "$base$2")
  status=$out
  www=$(grep -qi '^www-authenticate:' "$tmp/h" && echo yes || echo no)
  body=$(head -c 110 "$tmp/b" | tr -d '\n')
  printf '%-10s %3s www-auth=%-3s %s\n' "$1" "$status" "$www" "$body"
}

paths=(
  /api/health
  /_/
  /api/collections
  /api/collections/notes
  /api/settings
  /api/logs
  /api/backups
  /api/collections/posts/records
  /api/collections/posts/records/post00000000001
  /api/collections/announcements/records
  /api/collections/announcements/records/annc00000000001
  /api/collections/notes/records
  /api/collections/notes/records/notealice000001
  /api/collections/notes/records/notebob00000001
  /api/collections/notes/records/nosuchrecord001
  /api/collections/staff_docs/records
  /api/collections/staff_docs/records/staffdoc0000001
  /api/collections/vault/records
  /api/collections/vault/records/vault0000000001
  /api/collections/vault/records/nosuchrecord001
  /api/collections/users/records
  /api/collections/users/records/usrbob000000001
  /api/collections/_superusers/records
  /api/collections/_authOrigins/records
  /api/collections/_mfas/records
  /api/collections/nosuchcollection/records
)
for p in "${paths[@]}"; do
  echo "== GET $p"
  for r in "${roles[@]}"; do probe "$r" "$p"; done
done

echo "== POST /api/collections/users/auth-refresh (liveness)"
for r in alice invalid; do
  printf '%-10s %s\n' "$r" "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: ${token[$r]}" "$base/api/collections/users/auth-refresh")"
done
printf '%-10s %s\n' anonymous "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/collections/users/auth-refresh")"
printf '%-10s %s\n' superuser "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: ${token[superuser]}" "$base/api/collections/_superusers/auth-refresh")"
echo "== GET /_ (redirect)"
curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' "$base/_"
