#!/usr/bin/env python3
"""Per-rule hit counts on labeled dumps, for tuning the default rules.

usage: scripts/rule_stats.py SPAMGUARD_BINARY RULES.cf FILE.jsonl [...]

Runs `spamguard rescore --json` and prints, for every rule that fired, how
often it fired on spam and on ham, and the ham comments it fired on when
there are few (to see what a rule would cost).
"""
import collections
import json
import subprocess
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    binary, rules, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = subprocess.run([binary, "rescore", "--json", "-r", rules, *files],
                         check=True, capture_output=True, text=True).stdout
    hits = collections.defaultdict(lambda: collections.Counter())
    ham_examples = collections.defaultdict(list)
    bodies = {}
    for f in files:
        for line in open(f, encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                bodies[r.get("id", "")] = r.get("body", "")
    fp = []
    for line in out.splitlines():
        v = json.loads(line)
        label = v.get("label") or "unlabeled"
        for h in v["hits"]:
            hits[h["rule"]][label] += 1
            if label == "ham":
                ham_examples[h["rule"]].append(v["id"])
        if label == "ham" and v["action"] in ("spam", "discard", "moderate"):
            fp.append(v)
    print(f"{'rule':30} {'spam':>6} {'ham':>6} {'other':>6}")
    for rule, c in sorted(hits.items(), key=lambda kv: -sum(kv[1].values())):
        print(f"{rule:30} {c['spam']:6} {c['ham']:6} {c['unlabeled']:6}")
    print("\nham held or filed:")
    for v in fp:
        rules_hit = " ".join(f"{h['rule']}({h['points']})" for h in v["hits"])
        print(f"  {v['action']:8} {v['score']:5}  {rules_hit}\n      {bodies.get(v['id'], '')[:160]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
