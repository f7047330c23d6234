#!/usr/bin/env python3
"""Compare two content learners on the online-replay protocol.

    scripts/learner_eval.py SPAMGUARD_BINARY RULES.cf DUMP.jsonl

Each comment, in date order (an undated one takes the date of the one before
it; ties keep file order), is scored with what was learned from the
comments before it, then learned. Figures are over the comments after the
first 200. Two learners, on the same tokens (words, word pairs, link hosts
and domains, author words, e-mail domain, shape):

  * bayes: Robinson's per-token probability and Fisher's chi-square
    combining, as SpamBayes does it (what libspamguard implements);
  * lr: online logistic regression on hashed tokens and character 4-grams,
    one SGD step per comment (the kind that led the TREC 2007 spam track).

For each: the area under the ROC curve of the learner's own probability,
and recall / false-positive rate when its probability adds points to the
rule score in the default rules' steps (99.9 %: 5, 99 %: 4, 95 %: 3.5,
90 %: 2; the rule scores come from `spamguard rescore --json --db none`).
This is the measurement that chose the learner; the shipped one is
measured by `spamguard rescore --learn --by-date` (README).
"""
import json
import math
import re
import subprocess
import sys
import zlib

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.U)
URL = re.compile(r"https?://([^/\s\"'<>]+)([^\s\"'<>]*)", re.I)
STEPS = [(0.999, 5.0), (0.99, 4.0), (0.95, 3.5), (0.90, 2.0)]


def load(binary, rules, path):
    rows = [json.loads(l) for l in open(path, encoding="utf-8")]
    out = subprocess.run([binary, "-r", rules, "--db", "none", "rescore", "--json", "-j", "1", path],
                         capture_output=True, text=True, check=True).stdout
    scores = [json.loads(l)["score"] for l in out.splitlines()]
    last = ""
    for i, (r, s) in enumerate(zip(rows, scores)):
        last = r.get("created") or last
        r["_date"], r["_i"], r["_rules"] = last, i, s
    return sorted(rows, key=lambda r: (r["_date"], r["_i"]))


def tokens(r):
    t = set()
    low = r["body"].lower()
    for m in URL.finditer(low):
        host = m.group(1).split("@")[-1].split(":")[0]
        t.add("host:" + host)
        parts = host.split(".")
        if len(parts) >= 2:
            t.add("domain:" + ".".join(parts[-2:]))
        for p in re.split(r"[/?=&._-]+", m.group(2)):
            if 3 <= len(p) <= 20:
                t.add("path:" + p)
    words = [w if len(w) <= 20 else "long:%d" % (min(len(w), 60) // 10) for w in WORD.findall(URL.sub(" ", low))]
    for i, w in enumerate(words):
        if len(w) >= 2:
            t.add(w)
        if i + 1 < len(words):
            t.add(w + " " + words[i + 1])
    for w in WORD.findall(r.get("author", "").lower()):
        t.add("author:" + w)
    if r.get("email"):
        t.add("email:" + r["email"].split("@")[-1].lower())
    t.add("shape:links=%d" % min(len(URL.findall(low)), 3))
    n = len(r["body"])
    t.add("shape:length=" + ("tiny" if n < 20 else "short" if n < 80 else "medium" if n < 300 else "long"))
    return t


def chi2q(x2, v):
    m = x2 / 2.0
    s = t = math.exp(-m)
    for i in range(1, v // 2):
        t *= m / i
        s += t
    return min(s, 1.0)


class Bayes:
    def __init__(self, strength=1.0, min_strength=0.2):
        self.spam, self.ham, self.ns, self.nh = {}, {}, 0, 0
        self.s, self.min = strength, min_strength

    def learn(self, r, toks, is_spam):
        d = self.spam if is_spam else self.ham
        for t in toks:
            d[t] = d.get(t, 0) + 1
        if is_spam:
            self.ns += 1
        else:
            self.nh += 1

    def prob(self, r, toks):
        if not self.ns or not self.nh:
            return 0.5
        clues = []
        for t in toks:
            a, b = self.spam.get(t, 0), self.ham.get(t, 0)
            if a + b == 0:
                continue
            sr, hr = a / self.ns, b / self.nh
            f = (self.s * 0.5 + (a + b) * sr / (sr + hr)) / (self.s + a + b)
            if abs(f - 0.5) >= self.min:
                clues.append(min(max(f, 1e-6), 1 - 1e-6))
        clues = sorted(clues, key=lambda f: -abs(f - 0.5))[:150]
        if not clues:
            return 0.5
        s = 1 - chi2q(-2 * sum(math.log(1 - f) for f in clues), 2 * len(clues))
        h = 1 - chi2q(-2 * sum(math.log(f) for f in clues), 2 * len(clues))
        return (s - h + 1) / 2


class LogReg:
    BUCKETS = 1 << 20

    def __init__(self, rate=0.1):
        self.w, self.rate, self.ns, self.nh = {}, rate, 0, 0

    def features(self, r, toks):
        f = {zlib.crc32(t.encode()) % self.BUCKETS for t in toks}
        text = " " + r["body"].lower()[:2000] + " "
        f.update(zlib.crc32(("c4:" + text[i:i + 4]).encode()) % self.BUCKETS for i in range(len(text) - 3))
        return f

    def _p(self, f):
        z = max(min(sum(self.w.get(k, 0.0) for k in f), 30), -30)
        return 1 / (1 + math.exp(-z))

    def learn(self, r, toks, is_spam):
        f = self.features(r, toks)
        g = (1 if is_spam else 0) - self._p(f)
        for k in f:
            self.w[k] = self.w.get(k, 0.0) + self.rate * g
        if is_spam:
            self.ns += 1
        else:
            self.nh += 1

    def prob(self, r, toks):
        return self._p(self.features(r, toks)) if self.ns and self.nh else 0.5


def replay(rows, model, warmup=200, minimum=10, required=5.0):
    tp = fn = fp = tn = 0
    ranked = []
    for i, r in enumerate(rows):
        if r["label"] not in ("spam", "ham"):
            continue
        toks, is_spam = tokens(r), r["label"] == "spam"
        p = model.prob(r, toks)
        active = model.ns >= minimum and model.nh >= minimum
        points = next((v for th, v in STEPS if p >= th), 0.0) if active else 0.0
        flagged = r["_rules"] + points >= required
        if i >= warmup:
            ranked.append((p, is_spam))
            if is_spam:
                tp, fn = tp + flagged, fn + (not flagged)
            else:
                fp, tn = fp + flagged, tn + (not flagged)
        model.learn(r, toks, is_spam)
    ranked.sort(key=lambda x: x[0])
    pos = sum(1 for _, s in ranked if s)
    neg = len(ranked) - pos
    rank_sum = sum(j + 1 for j, (_, s) in enumerate(ranked) if s)
    auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg) if pos and neg else float("nan")
    return auc, tp / max(tp + fn, 1), fp / max(fp + tn, 1)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rows = load(*sys.argv[1:])
    print("%-28s %7s %7s %9s" % ("learner", "AUC", "recall", "FP rate"))
    for name, model in (("bayes (SpamBayes, 0.45/0.1)", Bayes(0.45, 0.1)), ("bayes (shipped, 1.0/0.2)", Bayes()),
                        ("logistic regression", LogReg())):
        auc, recall, fpr = replay(rows, model)
        print("%-28s %7.4f %7.3f %8.2f %%" % (name, auc, recall, 100 * fpr))


if __name__ == "__main__":
    main()
