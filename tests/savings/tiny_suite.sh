#!/usr/bin/env bash
# `graft suite run main --scale tiny --seeds 2` end to end, twice: with stage
# sharing (the default: a stage another run already finished with the same
# identity is linked, not trained) in 2 worker processes of one thread each
# (--jobs 2), and with --no-sharing in one process on every core. Checks:
#   - both succeed and write table.md / table.csv and the plots, and the
#     workers' output reaches the parent's;
#   - sharing links the MLM encoder that sequential, baseline-mlm-finetune and
#     warm-start begin with from baseline-mlm, says so in summary.json, and
#     trains nothing it links;
#   - the stage trained again under --no-sharing is bit-identical to the
#     linked one (final checkpoint, metrics), which is what makes sharing
#     exact;
#   - the two tables agree in every column but wall time (neither sharing nor
#     the worker processes change a number; at the tiny sizes OpenBLAS runs
#     one thread either way, so the thread count cannot either, see
#     cli/suite_workers.h);
#   - SIGTERM to the --jobs 2 parent early in the shared run is sent on to
#     both workers, which checkpoint and stop: exit status 75 and no table;
#     the same command then finishes the suite, and the checks above hold
#     for the resumed run (train/preemption.h).
# Usage: tiny_suite.sh GRAFT SOURCE_DIR WORK_DIR
set -euo pipefail
graft=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$src/recipes/tiny-data" "$graft" "$work/stores" > "$work/data.log" 2>&1 ||
  { echo "building tiny stores failed: $work/data.log"; exit 1; }
fail() { echo "FAIL: $*"; exit 1; }

cd "$src"  # suites/main.toml and recipes/tiny/ are found from the source root
# The shared run is stopped once, early, and resumed by the same command.
"$graft" suite run main --scale tiny --seeds 2 --run-dir "$work/sharing" \
  --set recipe.stores="$work/stores" --jobs 2 > "$work/sharing-stopped.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q "^\[seed [01]\] \[suite 2/10\]" "$work/sharing-stopped.log" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
[ "$status" = 75 ] || fail "SIGTERM to suite run --jobs 2: exit status $status, not 75 (log: $work/sharing-stopped.log)"
for seed in 0 1; do
  grep -q "^\[seed $seed\] .* stopped by SIGTERM after step" "$work/sharing-stopped.log" ||
    fail "worker $seed did not stop on the forwarded SIGTERM ($work/sharing-stopped.log)"
done
[ ! -e "$work/sharing/table.md" ] || fail "a stopped suite wrote a table"

for mode in sharing no-sharing; do
  extra=(--jobs 2)
  [ "$mode" = no-sharing ] && extra=(--no-sharing)
  "$graft" suite run main --scale tiny --seeds 2 --run-dir "$work/$mode" \
    --set recipe.stores="$work/stores" "${extra[@]}" > "$work/$mode.log" 2>&1 ||
    fail "suite run ($mode) exit status $? (log: $work/$mode.log)"
  for f in table.md table.csv sequential.png; do
    [ -s "$work/$mode/$f" ] || fail "$mode: no $f"
  done
done

grep -q "^\[seed 1\] \[suite 10/10\] warm-start seed 1 done" "$work/sharing.log" ||
  fail "the parent does not show the seed-1 worker's output"
# A stage is linked once: before the stop or after it.
linked=$(cat "$work/sharing-stopped.log" "$work/sharing.log" | grep -c "linked, not trained again" || true)
[ "$linked" = 6 ] || fail "expected 6 linked stages (3 per seed) with sharing, the log says $linked"
if grep -q "linked, not trained again" "$work/no-sharing.log"; then
  fail "--no-sharing linked a stage"
fi
for run in {sequential,baseline-mlm-finetune}/seed-{0,1}/mlm warm-start/seed-{0,1}/bert; do
  dir="$work/sharing/$run"
  seed=$(basename "$(dirname "$dir")")
  from=$(cat "$dir/shared-from") || fail "$run: no shared-from file"
  [ "$from" = "$work/sharing/baseline-mlm/$seed/mlm" ] || fail "$run shared from '$from'"
  grep -q "\"shared_from\": \"$from\"" "$(dirname "$dir")/summary.json" ||
    fail "$run: summary.json does not name the folder it was linked from"
  # The same bits as the stage trained again without sharing: every dataset
  # and attribute but the stored config, whose run.dir names another folder.
  a=$(ls "$dir"/checkpoints/*.h5 | tail -1)
  b="$work/no-sharing/$run/checkpoints/$(basename "$a")"
  h5diff -q --exclude-path /run/config "$a" "$b" ||
    fail "$run: linked checkpoint differs from the one trained again ($b)"
  untimed() { sed -E 's/"(tokens_per_s|mfu)": [^,}]*,? ?//g' "$1"; }
  cmp -s <(untimed "$dir/metrics.jsonl") <(untimed "$work/no-sharing/$run/metrics.jsonl") ||
    fail "$run: metrics (timings aside) differ from the stage trained again"
done

# h5diff does tell checkpoints apart (a check that cannot fail proves
# nothing): two different models must give exit status 1, "differences
# found", not 0 and not 2 (a missing or unreadable file).
mlm=$(ls "$work"/sharing/baseline-mlm/seed-0/mlm/checkpoints/*.h5 | tail -1)
sc=$(ls "$work"/sharing/baseline-sc/seed-0/sc/checkpoints/*.h5 | tail -1)
status=0
h5diff -q --exclude-path /run/config "$mlm" "$sc" > /dev/null 2>&1 || status=$?
[ "$status" = 1 ] || fail "h5diff of two different models ($mlm, $sc) gave exit status $status, not 1"

# Every column but wall time agrees.
wall_columns=$(head -1 "$work/sharing/table.csv" | tr ',' '\n' | grep -n -i wall | cut -d: -f1 |
  paste -sd, -)
[ -n "$wall_columns" ] || fail "table.csv has no wall-time column"
keep() { cut -d, --complement -f"$wall_columns" "$1"; }
diff <(keep "$work/sharing/table.csv") <(keep "$work/no-sharing/table.csv") > "$work/table.diff" ||
  fail "tables differ beyond wall time: $work/table.diff"
echo "tiny suite: 6 stages linked, bit-identical to training them again; 2 one-thread" \
  "workers and one process on every core give the same table"

