#!/usr/bin/env bash
# train_checks.sh MODE GRAFT MPIEXEC WORKDIR [CKPT_COMPARE]: multi-rank
# `graft train` on tests/dist/train_tiny.toml (fortune corpus, f64), run by
# ctest (train_tests.cmake).
#   equiv:    tp=2, dp=2 (np 2) and tp=2 x dp=2 (np 4) give the losses and
#             validation numbers of one rank with the same global batch
#             (20 steps, 1e-5 relative).
#   dropout:  as equiv with model.dropout = 0.1: dp=2 (np 2), dp=4 (np 4) and
#             tp=2 x dp=2 (np 4) against one rank (1e-5 relative): each rank
#             draws its rows' masks of the global batch, tp ranks the same.
#   preempt:  SIGTERM to a running one-rank `graft train --resume` (into an
#             empty run.dir: it must start afresh) and SIGUSR1 to mpirun -np 2
#             --dp 2: exit status 75 after writing the step's checkpoint, the
#             ranks stopped at one step; then --resume to the end gives an
#             uninterrupted run's metrics bit for bit.
#   sbatch:   slurm/*.sbatch run by bash with stub srun / scontrol: the
#             template adds --resume, forwards its SIGUSR1 (Slurm's --signal)
#             to the step, requeues on status 75, and the requeued run
#             finishes like an uninterrupted one.
#   srun:     srun -n 2 --mpi=pmix gives mpirun -np 2's metrics exactly; exit
#             77 (skipped) when no Slurm is up here.
#   gpu:      `graft train` on the GPU (f32) gives the CPU run's metrics
#             (1e-4 relative) and, with 2+ GPUs, mpirun -np 2 --dp 2 over NCCL
#             gives the one-GPU run's; exit 77 (skipped) without a GPU.
#   resume:   10 steps at 2x2 with a checkpoint, then 5 more at 1x1 and,
#             separately, at 2x2: the parameters must agree (1e-5); then 5
#             more at 4x1 (tp 4) against 2x2 again.
set -uo pipefail
mode="$1" graft="$2" mpiexec="$3" work="$4" compare="${5:-}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
config="$here/train_tiny.toml"
mpirun=("$mpiexec" --oversubscribe)
rm -rf "$work" && mkdir -p "$work"

train() {  # train DIR LAUNCH... -- ARGS...: one run into DIR; output in DIR.out
  local dir="$1"; shift
  local launch=()
  while [ "$1" != "--" ]; do launch+=("$1"); shift; done
  shift
  mkdir -p "$dir"
  if ! timeout -s KILL 120 "${launch[@]}" "$graft" train --config "$config" \
      --set run.dir="$dir" "$@" >"$dir.out" 2>&1; then
    cat "$dir.out"; echo "FAIL: training into $dir failed"; exit 1
  fi
}

# stop_midway DIR SIGNAL PID_FILE_OR_EMPTY LAUNCH...: runs LAUNCH in the
# background (output in DIR.out), sends SIGNAL to it once DIR/metrics.jsonl
# has step 5, and sets $stopped_status to its exit status.
stop_midway() {
  local dir="$1" signal="$2"; shift 2
  mkdir -p "$dir"
  "$@" >"$dir.out" 2>&1 &
  local pid=$! waited=0
  until grep -q '"step": 5,' "$dir/metrics.jsonl" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -gt 1200 ]; then
      cat "$dir.out"; echo "FAIL: $* ended (or never reached step 5) before the signal"; exit 1
    fi
    sleep 0.05; waited=$((waited + 1))
  done
  kill -"$signal" "$pid"
  stopped_status=0
  wait "$pid" || stopped_status=$?
}

# expect_stopped DIR STATUS: DIR stopped with exit status 75 at a step past
# 5, logged why, and holds that step's checkpoint (the interval is too long
# to have written one); prints the step.
expect_stopped() {
  local dir="$1" status="$2" step ckpt
  if [ "$status" -ne 75 ]; then
    cat "$dir.out"; echo "FAIL: exit status $status after the signal, expected 75"; exit 1
  fi
  step=$(sed -n 's/.*stopped by SIG[A-Z0-9]* after step \([0-9]*\) of .*/\1/p' "$dir/train.log" | tail -1)
  ckpt=$(printf '%s/checkpoints/ckpt-%06d.h5' "$dir" "${step:-0}")
  if [ -z "$step" ] || [ "$step" -lt 5 ] || [ ! -f "$ckpt" ]; then
    cat "$dir.out"; ls "$dir/checkpoints"; echo "FAIL: no stop line or no checkpoint of its step"; exit 1
  fi
  echo "$step"
}

# compare_metrics A B TOL: every record's loss, grad_norm and val_* of two
# metrics.jsonl files must agree within TOL relative (0: exactly).
compare_metrics() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
tol = float(sys.argv[3])
if len(a) != len(b):
    sys.exit(f"FAIL: {len(a)} vs {len(b)} records")
worst, n = 0.0, 0
for x, y in zip(a, b):
    if x["step"] != y["step"]:
        sys.exit(f"FAIL: step {x['step']} vs {y['step']}")
    for k in ("loss", "grad_norm", "val_loss", "val_accuracy", "val_bits_per_byte", "tokens"):
        if k not in x and k not in y:
            continue
        if (k in x) != (k in y):
            sys.exit(f"FAIL: step {x['step']}: {k} in one run only")
        d = abs(x[k] - y[k]) / max(abs(y[k]), 1e-12)
        worst = max(worst, d); n += 1
        if d > tol:
            sys.exit(f"FAIL: step {x['step']}: {k} {x[k]!r} vs {y[k]!r} (relative {d:.2e})")
print(f"  {n} values over {len(a)} records agree, max relative difference {worst:.2e}")
PY
}

case "$mode" in
  equiv)
    export OMP_NUM_THREADS=1
    train "$work/one" env -- --tp 1
    for layout in "2 2 1" "2 1 2" "4 2 2"; do
      set -- $layout
      echo "np $1: tp $2 x dp $3 vs one rank"
      train "$work/np$1-tp$2" "${mpirun[@]}" -np "$1" -- --tp "$2" --dp "$3"
      compare_metrics "$work/np$1-tp$2/metrics.jsonl" "$work/one/metrics.jsonl" 1e-5 || exit 1
      grep -q "ranks" "$work/np$1-tp$2/metrics.jsonl" || { echo "FAIL: no per-rank timings"; exit 1; }
    done
    echo "PASS"
    ;;
  dropout)
    export OMP_NUM_THREADS=1
    drop=(--set model.dropout=0.1 --set training.steps=12)
    train "$work/one" env -- --tp 1 "${drop[@]}"
    for layout in "2 1 2" "4 1 4" "4 2 2"; do
      set -- $layout
      echo "dropout 0.1, np $1: tp $2 x dp $3 vs one rank"
      train "$work/np$1-tp$2" "${mpirun[@]}" -np "$1" -- --tp "$2" --dp "$3" "${drop[@]}"
      compare_metrics "$work/np$1-tp$2/metrics.jsonl" "$work/one/metrics.jsonl" 1e-5 || exit 1
    done
    # The masks are real: without dropout the curve is another one.
    train "$work/none" env -- --tp 1 --set training.steps=12
    if compare_metrics "$work/none/metrics.jsonl" "$work/one/metrics.jsonl" 1e-5 >/dev/null 2>&1; then
      echo "FAIL: dropout 0.1 did not change the loss curve"; exit 1
    fi
    echo "PASS"
    ;;
  preempt)
    export OMP_NUM_THREADS=1
    long=(--set training.steps=150 --set training.log_interval=1 --set checkpoint.interval=1000
          --set model.dropout=0.1)
    train "$work/ref" env -- "${long[@]}"
    # One rank, SIGTERM, started with --resume in an empty folder.
    stop_midway "$work/one" TERM "$graft" train --config "$config" --set run.dir="$work/one" \
      "${long[@]}" --resume
    step=$(expect_stopped "$work/one" "$stopped_status") || { echo "$step"; exit 1; }
    if grep -q "resuming from" "$work/one.out"; then echo "FAIL: --resume of an empty run.dir did not start afresh"; exit 1; fi
    grep -q '"step": 0,' "$work/one/metrics.jsonl" || { echo "FAIL: no step-0 evaluation"; exit 1; }
    echo "one rank: SIGTERM stopped it after step $step with status 75"
    train "$work/one" env -- "${long[@]}" --resume
    grep -q "resuming from .*ckpt-0*$step.h5" "$work/one.out" || { cat "$work/one.out"; echo "FAIL: not resumed from step $step"; exit 1; }
    compare_metrics "$work/one/metrics.jsonl" "$work/ref/metrics.jsonl" 0 || exit 1
    # Two ranks (dp 2) under mpirun, which forwards SIGUSR1 to both.
    train "$work/ref-dp2" "${mpirun[@]}" -np 2 -- --dp 2 "${long[@]}"
    stop_midway "$work/dp2" USR1 "${mpirun[@]}" -np 2 "$graft" train --config "$config" \
      --set run.dir="$work/dp2" --dp 2 "${long[@]}" --resume
    step=$(expect_stopped "$work/dp2" "$stopped_status") || { echo "$step"; exit 1; }
    echo "mpirun -np 2: SIGUSR1 stopped both ranks after step $step with status 75"
    train "$work/dp2" "${mpirun[@]}" -np 2 -- --dp 2 "${long[@]}" --resume
    compare_metrics "$work/dp2/metrics.jsonl" "$work/ref-dp2/metrics.jsonl" 0 || exit 1
    echo "PASS"
    ;;
  sbatch)
    export OMP_NUM_THREADS=1
    long=(--set training.steps=150 --set training.log_interval=1 --set checkpoint.interval=1000)
    train "$work/ref" env -- "${long[@]}"
    # Stubs: srun drops its options and becomes the command (so the signal
    # the template forwards reaches graft); scontrol records what it is asked.
    mkdir -p "$work/bin"
    printf '#!/usr/bin/env bash\nwhile [ "${1#--}" != "$1" ]; do shift; done\nexec "$@"\n' >"$work/bin/srun"
    printf '#!/usr/bin/env bash\necho "$*" >>"%s/scontrol.log"\n' "$work" >"$work/bin/scontrol"
    chmod +x "$work/bin/srun" "$work/bin/scontrol"
    slurm_dir="$(cd "$here/../../slurm" && pwd)"
    for template in single-node multi-node; do
      dir="$work/$template"
      rm -f "$work/scontrol.log"
      cmd="$graft train --config $config --set run.dir=$dir ${long[*]}"
      stop_midway "$dir" USR1 env PATH="$work/bin:$PATH" SLURM_JOB_ID=4242 GRAFT_CMD="$cmd" \
        bash "$slurm_dir/$template.sbatch"
      step=$(expect_stopped "$dir" "$stopped_status") || { echo "$step"; exit 1; }
      grep -q -- "--resume" "$dir.out" || { cat "$dir.out"; echo "FAIL: $template did not add --resume"; exit 1; }
      grep -qx "requeue 4242" "$work/scontrol.log" 2>/dev/null ||
        { cat "$dir.out"; echo "FAIL: $template did not requeue the job"; exit 1; }
      echo "$template.sbatch: forwarded SIGUSR1, graft stopped after step $step, job requeued"
      # The requeued job: the same script, the same command.
      rm -f "$work/scontrol.log"
      if ! env PATH="$work/bin:$PATH" SLURM_JOB_ID=4242 GRAFT_CMD="$cmd" \
          bash "$slurm_dir/$template.sbatch" >"$dir.requeued.out" 2>&1; then
        cat "$dir.requeued.out"; echo "FAIL: the requeued $template job failed"; exit 1
      fi
      [ ! -e "$work/scontrol.log" ] || { echo "FAIL: a finished job was requeued"; exit 1; }
      compare_metrics "$dir/metrics.jsonl" "$work/ref/metrics.jsonl" 0 || exit 1
    done
    echo "PASS"
    ;;
  srun)
    if ! command -v srun >/dev/null || ! timeout 15 sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "SKIP: no usable Slurm here (run scripts/lib/start-slurm as root to start one)"
      exit 77
    fi
    train "$work/mpirun" "${mpirun[@]}" -np 2 -- --tp 2 --set training.steps=8
    train "$work/srun" srun --mpi=pmix --kill-on-bad-exit=1 --time=2 -n 2 -- --tp 2 \
      --set training.steps=8
    compare_metrics "$work/srun/metrics.jsonl" "$work/mpirun/metrics.jsonl" 0 || exit 1
    echo "PASS: srun and mpirun agree"
    ;;
  resume)
    # 10 steps at 2x2, checkpoint at the end; two copies resumed to step 15.
    train "$work/base" "${mpirun[@]}" -np 4 -- --tp 2 --dp 2 --set training.steps=10
    ls "$work/base/checkpoints"/ckpt-*10.h5 >/dev/null || { echo "FAIL: no step-10 checkpoint"; exit 1; }
    cp -r "$work/base" "$work/to-1x1" && cp -r "$work/base" "$work/to-2x2"
    train "$work/to-1x1" env -- --tp 1 --set training.steps=15 --resume
    train "$work/to-2x2" "${mpirun[@]}" -np 4 -- --tp 2 --dp 2 --set training.steps=15 --resume
    a="$(ls "$work/to-1x1/checkpoints"/ckpt-*15.h5)" b="$(ls "$work/to-2x2/checkpoints"/ckpt-*15.h5)"
    "$compare" "$a" "$b" 1e-5 || exit 1
    # ... and on: 1x1 -> 4x1 (tp 4) against 2x2 -> 2x2, to step 20.
    train "$work/to-2x2" "${mpirun[@]}" -np 4 -- --tp 2 --dp 2 --resume
    train "$work/to-1x1" "${mpirun[@]}" -np 4 -- --tp 4 --resume
    a="$(ls "$work/to-1x1/checkpoints"/ckpt-*20.h5)" b="$(ls "$work/to-2x2/checkpoints"/ckpt-*20.h5)"
    "$compare" "$a" "$b" 1e-5 || exit 1
    echo "PASS: 2x2 -> 1x1 -> 4x1 and 2x2 -> 2x2 -> 2x2 resumes agree"
    ;;
  gpu)
    gpus=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU')
    if [ "$gpus" -lt 1 ]; then
      echo "SKIP: no GPU here (nvidia-smi lists none)"
      exit 77
    fi
    f32=(--set 'model.dtype="f32"')
    train "$work/cpu" env -- "${f32[@]}"
    train "$work/gpu" env -- "${f32[@]}" --set 'model.device="cuda"'
    echo "one GPU vs the CPU"
    compare_metrics "$work/gpu/metrics.jsonl" "$work/cpu/metrics.jsonl" 1e-4 || exit 1
    if [ "$gpus" -ge 2 ]; then
      echo "2 GPUs (dp 2, NCCL) vs one GPU"
      train "$work/gpu-dp2" "${mpirun[@]}" -np 2 -- "${f32[@]}" --set 'model.device="cuda"' \
        --dp 2
      compare_metrics "$work/gpu-dp2/metrics.jsonl" "$work/gpu/metrics.jsonl" 1e-4 || exit 1
    fi
    echo "PASS"
    ;;
  *) echo "usage: $0 equiv|dropout|preempt|sbatch|srun|resume|gpu GRAFT MPIEXEC WORKDIR [CKPT_COMPARE]" >&2; exit 2 ;;
esac
