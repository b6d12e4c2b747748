#!/usr/bin/env bash
# cli_checks.sh MODE GRAFT SOURCE_DIR WORKDIR [MPIEXEC]: `graft train` faults
# found by breaking runs on purpose, each on tests/dist/train_tiny.toml
# (fortunes, f64), run by ctest (tests/train/cli_tests.cmake).
#   disk-full:  a checkpoint save that runs out of room (a file size limit,
#               `ulimit -f`, so writes fail with EFBIG as on a full disk) ends
#               with the error and exit 1, not a segfault at exit (139); the
#               checkpoints saved before are intact and the run resumes.
#   timeout:    --timeout or distributed.timeout negative or NaN: exit 2 with
#               a message and no run folder; 0 and inf train (no watchdog).
#   timeout-mpirun: mpirun -np 2 with --timeout 1e10 and inf trains (the
#               int64 nanoseconds overflow aborted it at the first collective).
#   inputs:     optimizer.eps / weight_decay = inf, a model vocabulary smaller
#               than the token store's, checkpoints/ that is a file, and a
#               checkpoint whose step is not its name's: each exit 2 naming
#               the key or file, before the run folder is written.
#   readonly:   checkpoints/ on a read-only bind mount (what stops root):
#               exit 2 before training; exit 77 (skipped) where this process
#               may not mount (unshare -m).
set -uo pipefail
mode="$1" graft="$2" source="$3" work="$4" mpiexec="${5:-}"
config="$source/tests/dist/train_tiny.toml"
rm -rf "$work" && mkdir -p "$work"
export OMP_NUM_THREADS=1

fail() {
  echo "FAIL: $*"
  exit 1
}

# run OUT ARGS...: one `graft train` of the tiny config, output in OUT; its status.
run() {
  local out="$1"
  shift
  timeout -s KILL 120 "$graft" train --config "$config" "$@" >"$out" 2>&1
}

# trains OUT ARGS...: run, which must succeed.
trains() {
  run "$@" || {
    cat "$1"
    fail "graft train $* failed"
  }
}

# refused NAME PATTERN ARGS...: run must exit 2 with PATTERN (grep -E) in its output.
refused() {
  local name="$1" pattern="$2"
  shift 2
  run "$work/$name.out" "$@"
  local status=$?
  if [ "$status" -ne 2 ]; then
    cat "$work/$name.out"
    fail "$name: exit status $status, expected 2 (an InputError)"
  fi
  if ! grep -qE -- "$pattern" "$work/$name.out"; then
    cat "$work/$name.out"
    fail "$name: output lacks /$pattern/"
  fi
  echo "ok: $name: $(grep -m1 'error' "$work/$name.out")"
}

# untouched DIR: refused runs must not create a run folder.
untouched() {
  [ ! -e "$1" ] || fail "$1 was created by a refused run"
}

case "$mode" in
  disk-full)
    run_dir="$work/run"
    trains "$work/first.out" --set run.dir="$run_dir" --set training.steps=10 \
      --set checkpoint.interval=5
    cp -r "$run_dir/checkpoints" "$work/saved"
    # A limit far below a checkpoint (~690 KB) and far above metrics.jsonl
    # and train.log. SIGXFSZ is ignored (inherited through exec), so the
    # write fails with EFBIG ("File too large") instead of killing graft.
    (
      trap '' XFSZ
      ulimit -f 256
      run "$work/full.out" --set run.dir="$run_dir" --set training.steps=20 \
        --set checkpoint.interval=5 --resume
    )
    status=$?
    cat "$work/full.out"
    [ "$status" -eq 1 ] || fail "exit status $status after the failed save, expected 1 (139: the segfault at exit)"
    grep -qE "error: checkpoint at step 15 not saved: .*ckpt-000015.h5: cannot write .*\(File too large\); the checkpoints already in .* are kept" \
      "$work/full.out" || fail "the error does not say which checkpoint failed and why"
    [ "$(ls -A "$run_dir/checkpoints")" = "$(printf 'ckpt-000005.h5\nckpt-000010.h5')" ] ||
      fail "checkpoints/ holds $(ls -A "$run_dir/checkpoints" | tr '\n' ' '), expected the two saved before (no temp file)"
    for c in ckpt-000005.h5 ckpt-000010.h5; do
      cmp -s "$work/saved/$c" "$run_dir/checkpoints/$c" || fail "$c changed"
      "$graft" ckpt inspect "$run_dir/checkpoints/$c" --verify >/dev/null || fail "$c does not verify"
    done
    # With room again, the run continues from the last checkpoint.
    trains "$work/resumed.out" --set run.dir="$run_dir" --set training.steps=20 \
      --set checkpoint.interval=5 --resume
    grep -q "resuming from .*ckpt-000010.h5" "$work/resumed.out" || fail "did not resume from step 10"
    [ -f "$run_dir/checkpoints/ckpt-000020.h5" ] || fail "no step-20 checkpoint after resuming"
    echo "PASS: the failed save exits 1 with its reason, earlier checkpoints intact, resume works"
    ;;
  timeout)
    refused timeout-negative "error: --timeout must be >= 0 seconds \(0 or inf: no collective timeout\), got -1" \
      --set run.dir="$work/negative" --timeout=-1
    untouched "$work/negative"
    refused timeout-nan "error: --timeout must be >= 0 seconds.*got -?nan" \
      --set run.dir="$work/nan" --timeout nan
    untouched "$work/nan"
    refused timeout-config "train_tiny.toml \(--set distributed.timeout=-5\).*distributed.timeout: must be >= 0 seconds" \
      --set run.dir="$work/config" --set distributed.timeout=-5
    untouched "$work/config"
    "$graft" train --help | tr -s ' \n' ' ' | grep -q "0 or inf: no timeout" ||
      fail "graft train --help does not say what --timeout 0 does"
    for t in 0 inf; do
      trains "$work/t$t.out" --set run.dir="$work/t$t" --set training.steps=2 --timeout "$t"
    done
    echo "PASS: negative and NaN timeouts refused, 0 and inf accepted and documented"
    ;;
  timeout-mpirun)
    for t in 1e10 inf; do
      echo "mpirun -np 2 --tp 2 --timeout $t"
      timeout -s KILL 120 "$mpiexec" --oversubscribe -np 2 "$graft" train --config "$config" \
        --set run.dir="$work/t$t" --set training.steps=3 --tp 2 --timeout "$t" >"$work/t$t.out" 2>&1 || {
        cat "$work/t$t.out"
        fail "--timeout $t under mpirun failed"
      }
    done
    echo "PASS: huge and infinite timeouts train under mpirun"
    ;;
  inputs)
    refused eps-inf "train_tiny.toml \(--set optimizer.eps=inf\): optimizer.eps: must be a finite number > 0, got inf" \
      --set run.dir="$work/eps" --set optimizer.eps=inf
    untouched "$work/eps"
    refused weight-decay-inf "optimizer.weight_decay: must be a finite number >= 0, got inf" \
      --set run.dir="$work/wd" --set optimizer.weight_decay=inf
    untouched "$work/wd"

    # A token store with a 600-id tokenizer, and a model of 260 ids.
    fortunes=/usr/share/games/fortunes/computers
    [ -f "$fortunes" ] || fail "$fortunes is missing (Debian's fortunes package)"
    sed -n 1,400p "$fortunes" | grep -v '^%$' | grep -v '^[[:space:]]*$' |
      awk '{ print; if (NR % 4 == 0) print "" }' >"$work/corpus.txt"
    "$graft" tokenizer train --input "$work/corpus.txt" --model-prefix "$work/tok" \
      --vocab-size 600 >/dev/null || fail "tokenizer train"
    for split in train valid; do
      "$graft" data prepare --input "$work/corpus.txt" --tokenizer "$work/tok.model" \
        --output "$work/$split.h5" --split "$split" >/dev/null || fail "data prepare"
    done
    refused vocab "model.vocab_size = 260 is smaller than the vocabulary of the token stores \(data.train = $work/train.h5.*600 ids" \
      --set run.dir="$work/vocab" --set data.source=store --set data.train="$work/train.h5" \
      --set data.valid="$work/valid.h5"
    untouched "$work/vocab"

    # checkpoints/ is a file: a fresh run and a resumed one.
    mkdir -p "$work/blocked" && echo "not a folder" >"$work/blocked/checkpoints"
    for resume in "" --resume; do
      refused "blocked${resume}" "checkpoint folder $work/blocked/checkpoints cannot be created: a file of that name is in the way" \
        --set run.dir="$work/blocked" $resume
      [ "$(ls -A "$work/blocked")" = checkpoints ] || fail "the refused run wrote into $work/blocked"
    done

    # A checkpoint renamed to a later step than it holds.
    trains "$work/renamed.out" --set run.dir="$work/renamed" --set training.steps=4 \
      --set checkpoint.interval=2
    mv "$work/renamed/checkpoints/ckpt-000002.h5" "$work/renamed/checkpoints/ckpt-000009.h5"
    cp "$work/renamed/metrics.jsonl" "$work/metrics-before.jsonl"
    refused renamed "checkpoints/ckpt-000009.h5 holds step 2 but its name says step 9: refusing to resume from it" \
      --set run.dir="$work/renamed" --set training.steps=12 --resume
    cmp -s "$work/renamed/metrics.jsonl" "$work/metrics-before.jsonl" || fail "metrics.jsonl changed"
    echo "PASS: every bad input refused with exit 2 before the run folder is written"
    ;;
  readonly)
    if ! unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1"' sh "$work" \
      2>/dev/null; then
      echo "SKIP: this process may not mount (unshare -m; mount --bind), so no read-only folder"
      exit 77
    fi
    run_dir="$work/ro"
    trains "$work/first.out" --set run.dir="$run_dir" --set training.steps=2
    cp "$run_dir/metrics.jsonl" "$work/metrics-before.jsonl"
    # Mode bits do not stop root; a read-only bind mount of checkpoints/ does.
    unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
      sh "$run_dir/checkpoints" timeout -s KILL 120 "$graft" train --config "$config" \
      --set run.dir="$run_dir" --set training.steps=4 --resume >"$work/ro.out" 2>&1
    status=$?
    cat "$work/ro.out"
    [ "$status" -eq 2 ] || fail "exit status $status, expected 2"
    grep -q "checkpoint folder $run_dir/checkpoints is not writable (Read-only file system)" \
      "$work/ro.out" || fail "the error does not name the read-only folder"
    cmp -s "$run_dir/metrics.jsonl" "$work/metrics-before.jsonl" || fail "metrics.jsonl changed"
    echo "PASS: a read-only checkpoints/ is refused before training"
    ;;
  *)
    echo "usage: $0 disk-full|timeout|timeout-mpirun|inputs|readonly GRAFT SOURCE_DIR WORKDIR [MPIEXEC]" >&2
    exit 2
    ;;
esac
