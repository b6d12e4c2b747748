#!/usr/bin/env bash
# determinism_checks.sh GRAFT WORKDIR: the same f32 stage (tiny_f32.toml) must
# give the same metrics and checkpoint bits
#   - on 1 and 2 OpenMP threads,
#   - with OpenBLAS pinned to its Haswell kernels (OPENBLAS_CORETYPE=Haswell,
#     OPENBLAS_L2_SIZE=512, as the environment pins it on some AMD CPUs) and
#     with the environment as given (elsewhere: the CPU's own kernels),
#   - with training.row_shards=2 on 1 and 2 threads (a different curve from
#     1 shard, the same for any thread count),
# and a run killed after its step-8 checkpoint and resumed must end with the
# uninterrupted run's bits. Only adds the safe pin; never unsets what the
# environment set. Run by ctest (tests/determinism/determinism_tests.cmake).
set -uo pipefail
graft="$1" work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$here/tiny_f32.toml"
rm -rf "$work" && mkdir -p "$work"

train() {  # train DIR THREADS PIN ARGS...
  local dir="$1" threads="$2" pin="$3"; shift 3
  local envs=(OMP_NUM_THREADS="$threads")
  [ "$pin" = pinned ] && envs+=(OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512)
  if ! timeout -s KILL 300 env "${envs[@]}" "$graft" train --config "$config" \
      --set run.dir="$dir" --set checkpoint.interval=4 "$@" >"$dir.out" 2>&1; then
    cat "$dir.out"; echo "FAIL: training into $dir failed"; exit 1
  fi
}

# same_bits A B: identical metrics (every value but timings) and identical
# final parameters and optimizer state.
same_bits() {
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY' || exit 1
import json, sys
timing = ("time", "elapsed", "seconds", "per_s", "mfu", "ranks", "wall")
def load(p):
    out = []
    for line in open(p):
        r = json.loads(line)
        out.append({k: v for k, v in r.items() if not any(t in k for t in timing)})
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if len(a) != len(b):
    sys.exit(f"FAIL: {len(a)} vs {len(b)} records in {sys.argv[1]} and {sys.argv[2]}")
for x, y in zip(a, b):
    if x != y:
        diff = {k: (x.get(k), y.get(k)) for k in set(x) | set(y) if x.get(k) != y.get(k)}
        sys.exit(f"FAIL: step {x.get('step')}: {diff}")
print(f"  {len(a)} records equal")
PY
  local last_a last_b
  last_a="$(ls "$1"/checkpoints/*.h5 | sort | tail -1)"
  last_b="$(ls "$2"/checkpoints/*.h5 | sort | tail -1)"
  [ -n "$last_a" ] && [ -n "$last_b" ] || { echo "FAIL: no checkpoint in $1 or $2"; exit 1; }
  # /run/config names the run folder; everything else must be equal.
  h5diff -q --exclude-path /run/config "$last_a" "$last_b" ||
    { echo "FAIL: $last_a and $last_b differ"; exit 1; }
  echo "  final checkpoints equal"
}

echo "reference: 1 thread, environment as given"
train "$work/t1" 1 given
for variant in "2 given" "1 pinned" "2 pinned"; do
  set -- $variant
  echo "$1 thread(s), OpenBLAS $2"
  train "$work/t$1-$2" "$1" "$2"
  same_bits "$work/t$1-$2" "$work/t1"
done

echo "row shards 2: 1 thread against 2 threads pinned"
train "$work/rows-t1" 1 given --set training.row_shards=2
train "$work/rows-t2" 2 pinned --set training.row_shards=2
same_bits "$work/rows-t2" "$work/rows-t1"

# The comparison can fail: 2 row shards sum the gradient in another order, so
# their curve is not the 1-shard curve.
if (same_bits "$work/rows-t1" "$work/t1") >/dev/null 2>&1; then
  echo "FAIL: a 2-shard run compared equal to a 1-shard run: the check cannot fail"; exit 1
fi

echo "PASS"
