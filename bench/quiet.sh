#!/usr/bin/env bash
# quiet.sh [max_wait_s] -- command...: waits until the machine has been idle
# (under 10% CPU busy over a 2 s sample) or max_wait_s (default 300) passes,
# then runs the command. Benchmarks on a 2-core box shared with compilers are
# meaningless while something else runs; this only lowers the odds, so still
# use --benchmark_repetitions and compare medians.
set -euo pipefail
max_wait=300
if [[ ${1:-} =~ ^[0-9]+$ ]]; then max_wait=$1; shift; fi
[[ ${1:-} == -- ]] && shift

busy_percent() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 2
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}

start=$SECONDS
while :; do
  busy=$(busy_percent)
  if (( busy < 10 )); then break; fi
  if (( SECONDS - start >= max_wait )); then
    echo "quiet.sh: still ${busy}% busy after ${max_wait}s; running anyway" >&2
    break
  fi
done
echo "quiet.sh: $(date -Is) cpu busy ${busy}%, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec "$@"
