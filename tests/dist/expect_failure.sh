#!/usr/bin/env bash
# expect_failure.sh MAX_SECONDS PATTERN COMMAND...: passes when COMMAND exits
# non-zero within MAX_SECONDS and its output matches PATTERN (grep -E).
# A command still running after MAX_SECONDS + 20 is killed, so a regression
# to hanging fails this test instead of stalling ctest.
set -uo pipefail
max="$1" pattern="$2"
shift 2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$(date +%s%N)
timeout -s KILL $((max + 20)) "$@" >"$log" 2>&1
status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
elapsed="$((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000)))"
cat "$log"
echo "---- exit status $status after ${elapsed} s (limit ${max} s)"
if [ "$status" -eq 0 ]; then echo "FAIL: the job succeeded but should have failed"; exit 1; fi
if [ "$elapsed_ms" -gt $((max * 1000)) ]; then echo "FAIL: took longer than ${max} s"; exit 1; fi
if ! grep -qE -- "$pattern" "$log"; then echo "FAIL: output lacks /$pattern/"; exit 1; fi
echo "PASS: failed as expected (non-zero, within ${max} s, output matches /$pattern/)"
