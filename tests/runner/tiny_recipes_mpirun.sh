#!/usr/bin/env bash
# Every tiny recipe, end to end, under `mpirun -np 2` with data parallelism:
# each run must succeed, every stage's metrics must say it ran on 2 ranks,
# and every stage's last validation loss must be finite.
# Usage: tiny_recipes_mpirun.sh GRAFT MPIEXEC SOURCE_DIR WORK_DIR
set -euo pipefail
graft=$1 mpiexec=$2 src=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$src/recipes/tiny-data" "$graft" "$work/stores" > "$work/data.log" 2>&1 ||
  { echo "building tiny stores failed: $work/data.log"; exit 1; }
failed=0
for recipe in "$src"/recipes/tiny/*.toml; do
  name=$(basename "$recipe" .toml)
  if ! "$mpiexec" --oversubscribe -np 2 "$graft" recipe run "$recipe" --dp 2 \
      --set recipe.stores="$work/stores" --run-dir "$work/$name" > "$work/$name.log" 2>&1; then
    echo "FAIL $name: exit status $? (log: $work/$name.log)"
    failed=1
    continue
  fi
  for metrics in "$work/$name"/*/metrics.jsonl; do
    stage=$(basename "$(dirname "$metrics")")
    if ! grep -q '"ranks": 2' "$metrics"; then
      echo "FAIL $name/$stage: no record says it ran on 2 ranks"
      failed=1
    fi
    last=$(grep -o '"val_loss": [^,}]*' "$metrics" | tail -1 | cut -d' ' -f2)
    case "$last" in
      "" | null | nan | inf | -inf) echo "FAIL $name/$stage: last val_loss '$last'"; failed=1 ;;
    esac
  done
  echo "ok $name"
done
exit $failed
