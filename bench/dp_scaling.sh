#!/usr/bin/env bash
# dp_scaling.sh [build_dir] [rounds] [steps] [bucket_mib]: data-parallel scaling of
# bench_dp on this machine, 1 rank vs 2 ranks (mpiexec --oversubscribe), each
# rank with OMP_NUM_THREADS=1 and the same per-rank batch, alternating rounds
# so both see the same background load. Prints every JSON line, then per
# configuration the median tokens/s of each, the efficiency
# tokens/s(2) / (2 x tokens/s(1)) and the share of all-reduce time hidden
# behind backward (GradientReducer::last_stats()). bucket_mib defaults to 4,
# not DDP's 25: the gpt model's 21 MB of gradients would be one bucket,
# which can only start when backward has finished.
set -euo pipefail
build=${1:-build-perf}
rounds=${2:-3}
steps=${3:-8}
bucket_mib=${4:-4}
bin=$build/bench/bench_dp
[[ -x $bin ]] || { echo "dp_scaling.sh: $bin not built (make -C $build bench_dp)" >&2; exit 2; }
# Open MPI refuses root without these; harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "dp_scaling.sh: $(date -Is), load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds x $steps steps" >&2
for ((r = 1; r <= rounds; r++)); do
  "$bin" --steps="$steps" --bucket_mib="$bucket_mib" | tee -a "$out"
  mpiexec --oversubscribe -np 2 -x OMP_NUM_THREADS "$bin" --steps="$steps" --bucket_mib="$bucket_mib" | tee -a "$out"
  echo "round $r done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| config | tokens/s 1 rank | tokens/s 2 ranks | efficiency | all-reduce per step | exposed | hidden share |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for c in sorted({r["config"] for r in rows}):
    one = [r["tokens_per_s"] for r in rows if r["config"] == c and r["ranks"] == 1]
    two = [r for r in rows if r["config"] == c and r["ranks"] == 2]
    t1 = statistics.median(one)
    t2 = statistics.median(r["tokens_per_s"] for r in two)
    comm = statistics.median(r["median_comm_s"] for r in two)
    exposed = statistics.median(r["median_exposed_s"] for r in two)
    hidden = statistics.median(r["hidden_share"] for r in two)
    print(f"| {c} | {t1:.0f} | {t2:.0f} | **{t2 / (2 * t1):.1%}** | {1e3 * comm:.1f} ms "
          f"| {1e3 * exposed:.1f} ms | {hidden:.1%} |")
PY
