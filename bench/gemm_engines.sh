#!/usr/bin/env bash
# gemm_engines.sh [BUILD]: graft's f32 GEMM against OpenBLAS on the step's
# shapes (bench_sgemm_openblas), side by side in each run, at 1 and 2
# threads, for three pairings:
#   as-is     graft's automatic tile (AVX-512 where the CPU has it) vs the
#             kernel OpenBLAS picks here (or the environment pins)
#   avx2      graft's AVX2 tile vs OpenBLAS's Haswell (AVX2) kernels: what a
#             CPU pinned to OPENBLAS_CORETYPE=Haswell ran before
#   avx512    graft's AVX-512 tile vs OpenBLAS's Cooperlake (AVX-512) kernels
#             (only where the CPU has AVX-512F)
# The environment variables are set for the benchmark command alone; tests
# and CI never change them. Prints the "all shapes" line of each run.
set -euo pipefail
build="${1:-build}"
bench="$build/bench/bench_sgemm_openblas"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pairings=(as-is avx2)
grep -q avx512f /proc/cpuinfo && pairings+=(avx512)
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
for threads in 1 2; do
  for pairing in "${pairings[@]}"; do
    envs=(OMP_NUM_THREADS="$threads")
    case "$pairing" in
      avx2) envs+=(GRAFT_GEMM_TILE=avx2 OPENBLAS_CORETYPE=Haswell) ;;
      avx512) envs+=(OPENBLAS_CORETYPE=Cooperlake) ;;
    esac
    line="$("$here/quiet.sh" 120 -- env "${envs[@]}" "$bench" --benchmark_min_time=0.2 \
      --benchmark_repetitions=3 2>/dev/null | grep -E '^all shapes')"
    printf '%d thread(s) %-7s %s\n' "$threads" "$pairing" "$line"
  done
done
