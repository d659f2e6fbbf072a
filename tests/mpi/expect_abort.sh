#!/usr/bin/env bash
# Usage: expect_abort.sh <seconds> <pattern> <command...>
# Passes when the command exits non-zero (not by our timeout) within <seconds>
# and its output matches the extended regex <pattern>. A hang fails.
set -u
limit=$1 pattern=$2
shift 2
out=$(timeout --kill-after=5 "$limit" "$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
  echo "expect_abort: FAIL: the job exited 0; expected a non-zero exit"; exit 1
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "expect_abort: FAIL: the job still ran after ${limit}s (a hang, not an abort)"; exit 1
fi
if ! grep -qE -- "$pattern" <<<"$out"; then
  echo "expect_abort: FAIL: exit $rc but the output lacks /$pattern/"; exit 1
fi
echo "expect_abort: OK: exit $rc, message found"
