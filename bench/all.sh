#!/usr/bin/env bash
# Run every benchmark in turn; rows of figures go to $BENCH_OUT (default /tmp/berth-bench-results.tsv).
set -uo pipefail
cd "$(dirname "$0")"
export BENCH_OUT=${BENCH_OUT:-/tmp/berth-bench-results.tsv}
: >"$BENCH_OUT"
rc=0
for s in first_run run_rm ps memory start stats exec port_throughput pull load push dashboard; do
  echo "== $s"
  ./$s.sh || { echo "$s.sh failed" >&2; rc=1; }
done
echo "figures: $BENCH_OUT"
exit $rc
