#!/bin/bash
# usage: report_test.sh SPAMGUARD_BINARY SOURCE_DIR
# Renders the rescore HTML report in headless Chromium and checks what is on
# the page: the DOM the browser built (not the file's text) and a screenshot.
set -u
sg=$1 src=$2
export SPAMGUARD_DB=none
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "FAIL: chromium is not installed (apt-get install chromium)"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A dump with a known false positive (ham that reads like spam) and a known
# false negative (spam that reads like ham), besides the samples.
cp "$src/data/samples/comments.jsonl" "$tmp/dump.jsonl"
cat >>"$tmp/dump.jsonl" <<'JSONL'
{"id":"fp-1","label":"ham","author":"Pharmacist Jo","body":"Buy cheap viagra without prescription <script>at our online pharmacy</script> & save \u202emoc.evil"}
{"id":"fn-1","label":"spam","author":"Pat","body":"Nice article, thank you."}
JSONL
total=$(grep -c '' "$tmp/dump.jsonl")
"$sg" rescore -q --report "$tmp/report.html" -r "$src/data/spamguard.cf" "$tmp/dump.jsonl" >"$tmp/summary" || {
  echo "FAIL: rescore --report"; cat "$tmp/summary"; exit 1; }

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update
  --disable-sync --no-first-run --disable-extensions --disable-dev-shm-usage --user-data-dir="$tmp/profile"
  --hide-scrollbars)
timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/chromium.log" || {
  echo "FAIL: chromium --dump-dom"; tail -5 "$tmp/chromium.log"; exit 1; }
timeout 120 "$chromium" "${flags[@]}" --window-size=1200,1800 --screenshot="$tmp/shot.png" \
  "file://$tmp/report.html" >>"$tmp/chromium.log" 2>&1 || {
  echo "FAIL: chromium --screenshot"; tail -5 "$tmp/chromium.log"; exit 1; }

python3 - "$tmp/dom.html" "$tmp/summary" "$tmp/shot.png" "$total" <<'PY'
import re, struct, sys, zlib
from html.parser import HTMLParser

dom_path, summary_path, png_path, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
summary = open(summary_path).read()
fails = []
def check(cond, what):
    if not cond:
        fails.append(what)

class Dom(HTMLParser):
    """Elements with their attributes, ancestors and text."""
    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []
    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self.stack)}
        self.elements.append(el)
        if tag not in ("meta", "br", "img", "input", "line", "rect"):
            self.stack.append(el)
        elif tag == "rect":
            self.stack.append(el)
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break
    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

d = Dom()
d.feed(open(dom_path, encoding="utf-8").read())
els = d.elements
def by_id(i):
    found = [e for e in els if e["attrs"].get("id") == i]
    return found[0] if found else None
def inside(e, ancestor_id):
    return any(p["attrs"].get("id") == ancestor_id for p in e["parents"])

title = [e for e in els if e["tag"] == "title"]
check(title and title[0]["text"] == "spamguard rescore report", "title")
check(not [e for e in els if e["tag"] == "script"], "the report runs no script (the comment's <script> is text)")
total_card = by_id("total")
check(total_card is not None and total_card["text"].startswith(str(total)), "summary card: %d comments" % total)

# Metrics on the page are the ones the command printed.
m = re.search(r"precision ([0-9.]+)  recall ([0-9.]+)  F1 ([0-9.]+)", summary)
check(m is not None, "summary has metrics")
if m:
    for key, value in zip(("precision", "recall", "f1"), m.groups()):
        card = by_id(key)
        check(card is not None and card["text"].startswith(value), "%s card shows %s" % (key, value))
cm = re.search(r"confusion: spam->spam (\d+), spam->not (\d+), ham->spam (\d+), ham->not (\d+)", summary)
if cm:
    for key, value in zip(("tp", "fn", "fp", "tn"), cm.groups()):
        cell = by_id(key)
        check(cell is not None and cell["text"] == value, "confusion %s = %s" % (key, value))

# The kinds apart (the samples have trackbacks and pingbacks): every comment counted once.
cells = [e for e in els if e["tag"] == "td" and inside(e, "kinds")]
check(len(cells) == 15 and sum(int(c["text"]) for c in cells) == total, "kinds table counts every comment")

# Histogram: bars inside the SVG account for every comment, by label.
bars = [e for e in els if e["tag"] == "rect" and inside(e, "histogram")]
check(sum(int(b["attrs"]["data-count"]) for b in bars) == total, "histogram bars sum to %d" % total)
check({b["attrs"]["data-label"] for b in bars} >= {"spam", "ham"}, "histogram has spam and ham bars")
check(len([e for e in els if e["tag"] == "line" and e["attrs"].get("class") == "threshold"]) == 3, "three threshold lines")

# Rule bars: in the table, most hits first, the top rule the command named.
rows = [e for e in els if e["tag"] == "tr" and e["attrs"].get("class") == "rule" and inside(e, "rules-table")]
check(len(rows) > 5, "rule rows in the table")
hits = [int(r["attrs"]["data-hits"]) for r in rows]
check(hits == sorted(hits, reverse=True), "rules sorted by hits")
top = re.search(r"top rules:\n\s+(\d+)\s+(\S+)", summary)
if top and rows:
    check(rows[0]["attrs"]["data-rule"] == top.group(2) and hits[0] == int(top.group(1)), "top rule " + top.group(2))
check(all(any(e["tag"] == "span" and "bar" in e["attrs"].get("class", "") and e["parents"] and r in e["parents"]
              for e in els) for r in rows), "every rule row has a bar")

# The worst false positive and negative, with their explanations.
fp = [e for e in els if e["attrs"].get("class") == "example" and inside(e, "false-positives")]
fn = [e for e in els if e["attrs"].get("class") == "example" and inside(e, "false-negatives")]
check([e["attrs"]["data-id"] for e in fp][:1] == ["fp-1"], "false positive fp-1 shown first")
check("fn-1" in [e["attrs"]["data-id"] for e in fn], "false negative fn-1 shown")
if fp:
    check("SG_PHARMA_DRUGS" in fp[0]["text"], "fp-1 explained by SG_PHARMA_DRUGS")
    check("<script>at our online pharmacy</script> & save" in fp[0]["text"], "fp-1 excerpt escaped, shown as text")
    check("\u202e" not in fp[0]["text"] and "moc.evil" in fp[0]["text"],
          "a right-to-left override in a comment does not reach the report")

# The screenshot is a real picture of the page: the size asked for, and
# not one flat colour.
png = open(png_path, "rb").read()
check(png[:8] == b"\x89PNG\r\n\x1a\n", "screenshot is a PNG")
w, h = struct.unpack(">II", png[16:24])
check((w, h) == (1200, 1800), "screenshot is 1200x1800, got %dx%d" % (w, h))
idat, pos = b"", 8
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    if kind == b"IDAT":
        idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
check(len(set(raw)) > 50, "screenshot has many colours (%d byte values)" % len(set(raw)))

for f in fails:
    print("FAIL:", f)
print("report checks: %d failed" % len(fails))
sys.exit(1 if fails else 0)
PY
status=$?

# The learning curve of an online replay, as the browser draws it: an SVG
# with the recall and false-positive lines, one point and one table row per
# window of 100 comments.
corpus=$src/tests/corpora/youtube/comments.jsonl
windows=$(( ( $(grep -c '' "$corpus") + 99 ) / 100 ))
"$sg" --db "$tmp/replay.db" rescore -q --learn --by-date --report "$tmp/curve.html" -r "$src/data/spamguard.cf" \
  "$corpus" >"$tmp/curve.txt" || { echo "FAIL: rescore --learn --report"; cat "$tmp/curve.txt"; exit 1; }
timeout 120 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/curve.html" >"$tmp/curve-dom.html" 2>>"$tmp/chromium.log" || {
  echo "FAIL: chromium --dump-dom (curve)"; tail -5 "$tmp/chromium.log"; exit 1; }
python3 - "$tmp/curve-dom.html" "$windows" <<'PY' || status=1
import sys
from html.parser import HTMLParser
dom, windows = open(sys.argv[1], encoding="utf-8").read(), int(sys.argv[2])
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lines, self.rows, self.in_curve, self.in_table, self.svg = {}, 0, False, False, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("id") == "learning-curve":
            self.in_curve = True
        if self.in_curve and tag == "svg":
            self.svg += 1
        if self.in_curve and tag == "polyline":
            self.lines[a.get("class")] = len(a.get("points", "").split())
        if tag == "table" and a.get("id") == "curve":
            self.in_table = True
        if self.in_table and tag == "tr":
            self.rows += 1
    def handle_endtag(self, tag):
        if tag == "table":
            self.in_table = False
        if tag == "div":  # the curve's div holds no other
            self.in_curve = False
p = P()
p.feed(dom)
fails = []
if p.svg != 1: fails.append("one SVG in the learning curve, got %d" % p.svg)
if p.lines.get("recall") != windows: fails.append("recall line has %s points, want %d" % (p.lines.get("recall"), windows))
if "fpr" not in p.lines: fails.append("no false-positive line")
if p.rows != windows + 1: fails.append("curve table has %d rows, want %d and a header" % (p.rows, windows))
if 'id="after-warmup"' not in dom: fails.append("no after-warm-up figures")
for f in fails: print("FAIL:", f)
print("learning-curve checks: %d failed" % len(fails))
sys.exit(1 if fails else 0)
PY
exit $status
