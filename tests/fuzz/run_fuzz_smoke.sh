#!/usr/bin/env bash
# Short libFuzzer run for CTest (labels: fuzz): starts from the seed corpus in
# the repository, writes new inputs to a fresh temporary directory (so the
# repository is never modified) and fails on any crash, sanitizer report,
# leak, timeout or invariant violation. A crashing input is kept as
# <artifact_dir>/crash-<sha1> (printed with its stack in the test output).
#
#   run_fuzz_smoke.sh <fuzzer> <seed_corpus_dir> <dict> <seconds> <artifact_dir>
set -euo pipefail
FUZZER=${1:?usage: run_fuzz_smoke.sh <fuzzer> <seed_corpus_dir> <dict> <seconds> <artifact_dir>}
SEEDS=${2:?}
DICT=${3:?}
SECONDS_TO_RUN=${4:?}
ARTIFACTS=${5:?}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ARTIFACTS"
# -timeout: one input running over 10 s is a hang; -rss_limit_mb: libFuzzer's
# default, stated; -print_final_stats: exec/s and coverage in the log.
exec "$FUZZER" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -dict="$DICT" -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 "$WORK" "$SEEDS"
