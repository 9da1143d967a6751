#!/usr/bin/env bash
# Peak memory and wall time of a real `immigrate run` process — the validate pass
# that writes the plan, then the import from it — at several sizes, into an
# unthrottled sandbox (issue 12: peak RSS ≤ 120 MB at 10 M one-to-one messages,
# and within 10 % between 1 M and 10 M). Each size is a separate dataset of N
# one-to-one messages in N/40 conversations among 20,000 users, plus 200 groups,
# their members and 20,000 group messages. The sandbox runs as its own process:
# it keeps every imported message in memory, which is not the tool's footprint
# (its own peak, VmHWM, is printed apart).
#
#   scripts/bench-rss.sh [N ...]      (default: 1000000 3000000 10000000)
#
# For each size it prints the run's summary, then one line: validate and load
# wall times, importmsg calls/s, the plan spool's size, and the peak RSS that
# /usr/bin/time -v measured; a table of every size at the end. With
# MEMPROFILE=PREFIX it also passes --memprofile PREFIX-N to the run (heap
# profiles and heap sizes on stderr, see cmd/immigrate/memprofile.go).
# Needs Go, /usr/bin/time, about 350 bytes of disk per message for the plan
# (3.5 GB at 10 M) and as much again for the generated CSV; 10 M takes about
# half an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1000000 3000000 10000000)
base="$(mktemp -d)"
sandbox_pid=""
stop_sandbox() {
  if [[ -n "$sandbox_pid" ]]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
  sandbox_pid=""
}
trap 'stop_sandbox; rm -rf "$base"' EXIT

go build -o "$base/immigrate" ./cmd/immigrate
bin="$base/immigrate"
table=()

for n in "${sizes[@]}"; do
  work="$base/$n"
  mkdir -p "$work"
  echo "== $n one-to-one messages: generating ..."
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

  # The generated mapping, pointed at the sandbox, with rates no sandbox reaches
  # and CONCURRENCY calls in flight at most (default 64): at rates of 10^6/s the
  # engine's Little's-law sizing would keep load.concurrency (default 1,024) in
  # flight, and memory grows with the calls in flight, not with the data.
  awk -v ep="$endpoint" -v key="$key" -v conc="${CONCURRENCY:-64}" '
    /^target:/ { print "target:\n  endpoint: " ep "\n  sdkappid: 1400000000\n  secret_key: " key "\n  admin: administrator\n  edition: pro"; skip = 1; next }
    skip && /^$/ { skip = 0 }
    !skip { print }
    END {
      print "load:\n  rates:"
      n = split("account_import multiaccount_import import_group import_group_member import_group_msg group_msg_get_simple set_unread_msg_num importmsg", apis, " ")
      for (i = 1; i <= n; i++) print "    " apis[i] ": 1000000"
      print "  concurrency: " conc
    }' "$work/data/csv.yaml" >"$work/data/rss.yaml"

  prof=()
  [[ -n "${MEMPROFILE:-}" ]] && prof=(--memprofile "$MEMPROFILE-$n")
  echo "== $n: immigrate run into $endpoint ..."
  set +e
  /usr/bin/time -v "$bin" run -c "$work/data/rss.yaml" --out "$work/out" "${prof[@]}" >"$work/run.out" 2>"$work/run.err"
  code=$?
  set -e
  sandbox_kb="$(awk '/^VmHWM:/ { print $2 }' "/proc/$sandbox_pid/status" 2>/dev/null || echo 0)"
  stop_sandbox
  cat "$work/run.out"
  if [[ $code -ne 0 && $code -ne 3 ]]; then
    echo "immigrate run failed with exit code $code:"; cat "$work/run.err"; exit 1
  fi
  grep '^memprofile' "$work/run.err" || true
  rss_kb="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/run.err")"
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$work/run.err")"
  # The run report's phase spans: validate ends when the first phase starts.
  load_s="$(awk '/"achieved_calls_per_second"/ { f = 1 } f && /"openim\/importmsg"/ { sub(/.*: */, ""); sub(/,$/, ""); print; exit }' "$work/out/run-report.json")"
  spool="$(du -sb "$work/out/plan" | cut -f1)"
  elapsed="$(grep -o 'elapsed [^ ]*' "$work/run.out" | head -n 1 | cut -d' ' -f2)"
  line="$(printf '%9d msgs  peak RSS %6.1f MB  wall %s (load %s)  importmsg %6.0f calls/s  spool %5.2f GB (%.0f B/msg)  sandbox peak %.1f GB' \
    "$n" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')" "$wall" "$elapsed" "$load_s" \
    "$(awk -v b="$spool" 'BEGIN { print b / 1e9 }')" "$(awk -v b="$spool" -v n="$n" 'BEGIN { print b / n }')" \
    "$(awk -v k="$sandbox_kb" 'BEGIN { print k / 1048576 }')")"
  echo "$line"
  table+=("$line")
  rm -rf "$work"
done

echo
echo "== summary (peak RSS of the immigrate run process, measured by /usr/bin/time -v)"
printf '%s\n' "${table[@]}"
