#!/usr/bin/env bash
# Fuzzes a target for a while:
#
#   fuzz/run.sh [SECONDS [TARGET]]    default 60 seconds of `pipeline`
#
# Targets: `pipeline` (octet framer → parser → writers), `formats` (detection, syslog / cli
# line splitters, HTTP request splitter and body decoding, their parsers), `kernels` (the JSON and CSV
# string kernels against their definitions).
# The corpus lives in fuzz/corpus/TARGET (gitignored): the seeds from fuzz/seeds (pipeline) or
# fuzz/seeds-formats are copied in, and what earlier runs found is kept. A crash is saved under
# fuzz/artifacts/TARGET/;
# reproduce it with `RUSTC_BOOTSTRAP=1 cargo fuzz run -a TARGET ARTIFACT` and shrink it with
# `RUSTC_BOOTSTRAP=1 cargo fuzz tmin -a TARGET ARTIFACT` (both from fuzz/).
set -euo pipefail

secs="${1:-60}"
target="${2:-pipeline}"
case "$target" in
  pipeline) seeds=seeds ;;
  formats) seeds=seeds-formats ;;
  kernels) seeds=seeds ;;
  *) echo "unknown target $target (pipeline, formats, kernels)" >&2; exit 2 ;;
esac
case "$secs" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# cargo-fuzz passes nightly-only flags (-Zsanitizer=address and friends). Only a stable
# toolchain is available here; RUSTC_BOOTSTRAP lets it accept them.
export RUSTC_BOOTSTRAP=1

corpus="$here/corpus/$target"
mkdir -p "$corpus"
cp -n "$seeds"/* "$corpus"/

# -a: debug assertions (integer overflow checks) on. -jobs=1: one fuzzing process, whose
# output libFuzzer writes to fuzz-0.log in the current directory; it is shown afterwards.
logdir="$here/corpus/logs-$target"
mkdir -p "$logdir"
rm -f "$logdir/fuzz-0.log"
status=0
(cd "$logdir" && cargo fuzz run --fuzz-dir "$here" -a "$target" "$corpus" -- \
  -max_total_time="$secs" -jobs=1 -print_final_stats=1) || status=$?
if [ -f "$logdir/fuzz-0.log" ]; then
  cat "$logdir/fuzz-0.log"
fi
exit "$status"
