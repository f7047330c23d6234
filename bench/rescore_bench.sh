#!/bin/bash
# usage: bench/rescore_bench.sh BUILD_DIR DUMP.jsonl...
# Throughput of `spamguard rescore` (content rules only, --db none) with 1
# and 2 threads on the given dumps concatenated, and on the same dumps
# repeated 100 times, with the peak resident memory of each run: memory must
# stay flat however long the dump. Then the same 100 times over as CSV,
# Movable Type export and WordPress WXR (bench/make_dump.py), 2 threads.
set -euo pipefail
build=$(cd "$1" && pwd); shift
src=$(cd "$(dirname "$0")/.." && pwd)
sg=$build/cli/spamguard
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat "$@" >"$tmp/x1.jsonl"
for _ in $(seq 100); do cat "$tmp/x1.jsonl"; done >"$tmp/x100.jsonl"

# Runs rescore and prints "comments/s peak-RSS-KiB" (the best rate of 3 runs,
# the highest peak).
run() {  # run THREADS DUMP
  python3 - "$sg" "$src/data/spamguard.cf" "$1" "$2" <<'PY'
import re, resource, subprocess, sys
sg, rules, threads, dump = sys.argv[1:]
rates = []
for _ in range(3):
    out = subprocess.run([sg, "--db", "none", "rescore", "-q", "--no-progress", "-r", rules, "-j", threads, dump],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"(\d+) comments scored, (\d+) records skipped, in ([0-9.]+) s", out)
    rates.append(int(m.group(1)) / float(m.group(3)))
    n = int(m.group(1))
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(n, int(max(rates)), peak)
PY
}

printf '%-8s %-6s %12s %14s %14s\n' threads dump comments "comments/s" "peak RSS MiB"
for dump in x1 x100; do
  for t in 1 2; do
    read -r n rate peak < <(run "$t" "$tmp/$dump.jsonl")
    printf '%-8s %-6s %12s %14s %14.1f\n' "$t" "$dump" "$n" "$rate" "$(awk -v k="$peak" "BEGIN{print k/1024}")"
  done
done
echo "(dump x1: $(stat -c %s "$tmp/x1.jsonl") bytes; x100: $(stat -c %s "$tmp/x100.jsonl") bytes; $(nproc) cores)"
echo
printf '%-8s %-6s %12s %14s %14s %10s\n' threads format comments "comments/s" "peak RSS MiB" "MB"
for fmt in csv mt wxr; do
  python3 "$src/bench/make_dump.py" "$fmt" 100 "$@" >"$tmp/x100.$fmt"
  read -r n rate peak < <(run 2 "$tmp/x100.$fmt")
  printf '%-8s %-6s %12s %14s %14.1f %10d\n' 2 "$fmt" "$n" "$rate" "$(awk -v k="$peak" "BEGIN{print k/1024}")" \
    "$(( $(stat -c %s "$tmp/x100.$fmt") / 1000000 ))"
  rm -f "$tmp/x100.$fmt"
done
echo "(mt: comments only; make_dump.py writes no PING sections, so trackbacks and pingbacks are left out)"
