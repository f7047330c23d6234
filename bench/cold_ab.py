#!/usr/bin/env python3
"""Two builds' first requests, alternated: whole processes of two
spamguard_cold_bench programs (two builds, or one with two heap sizes),
each process scoring a different comment of the given JSON Lines files,
the two programs taking turns so that a machine whose speed drifts treats
both alike. Prints the medians of each phase (ms) for each.

  bench/cold_ab.py OLD_BENCH NEW_BENCH FILE.jsonl... [--kb OLD_KB NEW_KB]

--kb sets SG_BENCH_WARM_HEAP_KB for each (default 512 for both, as
examples/cgi/comment.cgi grows its heap). Each program gets its own
database and rule cache in a temporary folder, made by a first request.
"""
import json, os, statistics as st, subprocess, sys, tempfile, time

args = sys.argv[1:]
kb = ["512", "512"]
if "--kb" in args:
    i = args.index("--kb")
    kb = args[i + 1:i + 3]
    del args[i:i + 3]
if len(args) < 3:
    sys.exit(__doc__)
bins, files = {"old": args[0], "new": args[1]}, args[2:]
bodies = [r["body"] for f in files for r in map(json.loads, open(f)) if r.get("body")]
here = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp()
rules = os.path.join(tmp, "r.cf")
open(rules, "w").write(f"include {here}/../data/spamguard.cf\n")
env = {k: dict(os.environ, SG_BENCH_WARM_HEAP_KB=v) for k, v in zip(bins, kb)}
res = {k: [] for k in bins}
for k, b in bins.items():
    subprocess.run([b, rules, os.path.join(tmp, k + ".db"), "192.0.2.1", "warm up"], stdout=subprocess.DEVNULL,
                   env=env[k], check=True)
for i, body in enumerate(bodies):
    for k in (["old", "new"] if i % 2 == 0 else ["new", "old"]):
        t0 = time.perf_counter()
        # (an address per comment: the default rate limits stay out of it)
        p = subprocess.run([bins[k], rules, os.path.join(tmp, k + ".db"), f"{20 + i % 200}.{40 + i // 200}.0.1", body],
                           stdout=subprocess.PIPE, text=True, env=env[k], check=True)
        wall = (time.perf_counter() - t0) * 1000
        res[k].append([wall] + [float(x) / 1000 for x in p.stdout.split()[:4]])
for k in bins:
    c = list(zip(*res[k]))
    print(f"{k}: {len(c[0])} processes; wall {st.median(c[0]):.2f}, open {st.median(c[1]):.2f}, "
          f"first score {st.median(c[2]):.2f} (mean {st.mean(c[2]):.2f}), close {st.median(c[3]):.2f}, "
          f"inside {st.median(c[4]):.2f}")
subprocess.run(["rm", "-rf", tmp])
