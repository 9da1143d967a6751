#!/usr/bin/env bash
# Wall time and peak memory of a real `immigrate run` process — the validate pass
# that writes the plan, then the import from it — of 1,000,000 one-to-one
# messages (plus users, groups, members and group messages) into an unthrottled
# sandbox (issue 4: peak RSS ≤ 250 MB). The sandbox runs as its own process: it
# keeps every imported message in memory, which is not the tool's footprint.
#
#   scripts/bench-rss.sh [DIRECT_MESSAGES]      (default 1000000)
#
# Prints the run's summary, its wall time and importmsg calls/s, and the peak RSS
# measured by /usr/bin/time -v. Needs Go, /usr/bin/time and about 2 GB of RAM.
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-1000000}"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
  if [[ -n "$sandbox_pid" ]]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/immigrate" ./cmd/immigrate
bin="$work/immigrate"

echo "generating $n one-to-one messages ..."
"$bin" generate --out "$work/data" --seed 1 --users 20000 --groups 200 --members-max 50 \
  --group-messages 20000 --direct-messages "$n" --bad-share 0 >/dev/null

key="bench-rss-key"
"$bin" sandbox --addr 127.0.0.1:0 --secret-key "$key" --rate-limits off 2>"$work/sandbox.log" &
sandbox_pid=$!
endpoint=""
for _ in $(seq 1 100); do
  endpoint="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/sandbox.log" | head -n 1 || true)"
  [[ -n "$endpoint" ]] && break
  sleep 0.1
done
[[ -n "$endpoint" ]] || { echo "sandbox did not start:"; cat "$work/sandbox.log"; exit 1; }

# The generated mapping, pointed at the sandbox, with rates no sandbox reaches.
awk -v ep="$endpoint" -v key="$key" '
  /^target:/ { print "target:\n  endpoint: " ep "\n  sdkappid: 1400000000\n  secret_key: " key "\n  admin: administrator\n  edition: pro"; skip = 1; next }
  skip && /^$/ { skip = 0 }
  !skip { print }
  END {
    print "load:\n  rates:"
    n = split("account_import multiaccount_import import_group import_group_member import_group_msg group_msg_get_simple set_unread_msg_num importmsg", apis, " ")
    for (i = 1; i <= n; i++) print "    " apis[i] ": 1000000"
  }' "$work/data/csv.yaml" >"$work/data/rss.yaml"

echo "immigrate run into $endpoint ..."
set +e
/usr/bin/time -v "$bin" run -c "$work/data/rss.yaml" --out "$work/out" >"$work/run.out" 2>"$work/run.err"
code=$?
set -e
cat "$work/run.out"
if [[ $code -ne 0 && $code -ne 3 ]]; then
  echo "immigrate run failed with exit code $code:"; cat "$work/run.err"; exit 1
fi
grep -E 'Elapsed \(wall clock\)|Maximum resident set size' "$work/run.err"
if [[ -d "$work/out/plan" ]]; then
  bytes="$(du -sb "$work/out/plan" | cut -f1)"
  echo "plan spool: $bytes bytes, $(awk -v b="$bytes" -v n="$n" 'BEGIN { printf "%.0f", b / n }') bytes per one-to-one message (all phases)"
  dm="$(stat -c %s "$work/out/plan/direct_messages.rec")"
  echo "plan spool of the one-to-one messages: $dm bytes, $(awk -v b="$dm" -v n="$n" 'BEGIN { printf "%.0f", b / n }') bytes per message"
fi
awk '/"achieved_calls_per_second"/ { f = 1 } f && /"openim\/importmsg"/ { sub(/.*: */, ""); printf "importmsg calls/s (first to last call): %.0f\n", $0; exit }' "$work/out/run-report.json"
