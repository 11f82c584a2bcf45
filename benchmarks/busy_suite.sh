#!/usr/bin/env bash
# The whole test suite, N times (default 3), beside two CPU hogs (`sh -c 'while :; do :; done'`),
# as issue 24 asks: each run's result and wall time, then the hogs stopped, whatever happens.
#
#     bash benchmarks/busy_suite.sh [N] [HOGS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
hogs=${2:-2}

pids=()
stop_hogs() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_hogs EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$hogs"); do
  sh -c 'while :; do :; done' &
  pids+=($!)
done
echo "$hogs CPU hogs: ${pids[*]} on $(nproc) cores"

failed=0
for run in $(seq "$runs"); do
  start=$(date +%s)
  make test > "suite-run-$run.log" 2>&1
  status=$?
  took=$(( $(date +%s) - start ))
  summary=$(grep -E '^=+ .*(passed|failed|error).* =+$' "suite-run-$run.log" | tail -1)
  printf 'run %d: exit %d in %d min %02d s: %s\n' "$run" "$status" $((took / 60)) $((took % 60)) "$summary"
  [ "$status" -eq 0 ] || failed=$((failed + 1))
done
echo "$((runs - failed))/$runs passed beside $hogs CPU hogs"
[ "$failed" -eq 0 ]
