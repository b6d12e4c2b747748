#!/usr/bin/env bash
# srun_checks.sh match|hang PROGRAM MPIEXEC: launches the multi-rank test
# program on the local Slurm (scripts/lib/start-slurm) with srun --mpi=pmix.
#   match: 2 ranks under srun and under mpirun must print the same checksum.
#   hang:  a rank that hangs must end the srun step non-zero within the timeout.
# Exits 77 (ctest: skipped) when Slurm is not running on this machine.
set -uo pipefail
mode="$1" program="$2" mpiexec="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v srun >/dev/null || ! timeout 15 sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
  echo "SKIP: no usable Slurm here (run scripts/lib/start-slurm as root to start one)"
  exit 77
fi
srun=(srun --mpi=pmix --kill-on-bad-exit=1 --time=2 -n 2)

case "$mode" in
  match)
    via_mpirun="$(timeout -s KILL 60 "$mpiexec" --oversubscribe -np 2 "$program")" || {
      echo "FAIL: mpirun run failed"; exit 1; }
    via_srun="$(timeout -s KILL 60 "${srun[@]}" "$program")" || {
      echo "FAIL: srun run failed"; exit 1; }
    echo "mpirun: $via_mpirun"
    echo "srun:   $via_srun"
    grep -q "under srun" <<<"$via_srun" || { echo "FAIL: srun ranks did not see Slurm"; exit 1; }
    sum_mpirun="$(grep '^checksum ' <<<"$via_mpirun")"
    sum_srun="$(grep '^checksum ' <<<"$via_srun")"
    if [ -z "$sum_srun" ] || [ "$sum_srun" != "$sum_mpirun" ]; then
      echo "FAIL: checksums differ"; exit 1
    fi
    echo "PASS: srun and mpirun agree ($sum_srun)"
    ;;
  hang)
    exec "$here/expect_failure.sh" 15 "did not complete within 2 s" \
      "${srun[@]}" "$program" --timeout 2 --fail hang
    ;;
  *) echo "usage: $0 match|hang PROGRAM MPIEXEC" >&2; exit 2 ;;
esac
