#!/usr/bin/env bash
# One process per request, the way a CGI blog runs spamguard: whole
# processes of build/bench/spamguard_cold_bench (open the engine on the
# default rules and a database, score one comment, close), N of each kind,
# median and minimum, with the split measured inside the process (open,
# first score, close; "start" is the rest: exec, loading the libraries,
# exit), and the page faults of each phase (start/open/score/close) next to
# what one costs on this machine. With --peers DIR (../shared/peers) and rspamd/SpamAssassin
# installed, the same comment through `rspamc` to a warm rspamd and `spamc`
# to a warm spamd, started here on loopback and stopped by their PIDs.
# Rows "as comment.cgi" run the same program linked as the CGI example is
# (the static library and its dependencies inside: cmake/SelfContained.cmake)
# and growing its heap in one populated call first, as the example does
# (examples/cgi/warm_heap.h; counted in the open; the pages it populates
# count as faults there, at a fraction of a fault's cost).
# With --keywords DIR (../shared/corpora/keyword-lists), also with
# WordPress's 62,204-phrase list and the MT-Blacklist imported.
#
#   bench/cgi_bench.sh [--build DIR] [-n N] [--peers DIR] [--keywords DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build n=31 peers="" keywords=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    -n) n=$2; shift 2 ;;
    --peers) peers=$(cd "$2" && pwd); shift 2 ;;
    --keywords) keywords=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 [--build DIR] [-n N] [--peers DIR] [--keywords DIR]" >&2; exit 2 ;;
  esac
done
cold=$build/bench/spamguard_cold_bench sg=$build/cli/spamguard
# The same program linked as examples/cgi/comment.cgi is: the static
# library and its dependencies inside (cmake/SelfContained.cmake); none
# when the build could not link it so.
static=$build/bench/spamguard_cold_bench_static
if [ ! -x "$static" ] || ldd "$static" 2>/dev/null | grep -q libspamguard; then static=""; fi
[ -x "$cold" ] || { echo "build $cold first (cmake --build $build)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do
    [ -n "$p" ] || continue
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

spam='Great post! Buy cheap viagra online at http://pills.example.com/ now, best price guaranteed.'
ham='Thanks, clearing the template cache fixed it for me too. Is there a way to do it from the admin page?'
rules=$tmp/bench.cf
printf 'include %s/data/spamguard.cf\n' "$here" > "$rules"

# measure LABEL INSIDE(0|1) COMMAND...: runs the command N times as whole
# processes (wall time from fork to exit), with the split the command
# prints ("open score close total", µs) when INSIDE is 1.
measure() {
  python3 - "$n" "$@" <<'PY'
import subprocess, sys, time, statistics as st
n, label, inside, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
wall, rows, actions = [], [], {}
names = {"0": "accept", "1": "moderate", "2": "spam", "3": "discard", "4": "throttle"}
for i in range(n):
    # ("{i}" in an argument: a different address each time, so that the
    # default rate limits, per address and per /16, do not throttle the
    # benchmark itself.)
    run = [a.replace("{i}", str(20 + i)) for a in cmd]
    t0 = time.perf_counter()
    p = subprocess.run(run, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wall.append((time.perf_counter() - t0) * 1000)
    if inside:
        f = p.stdout.split()
        rows.append([float(x) / 1000 for x in f[:4]] + [int(x) for x in f[5:9]])
        a = names.get(f[4] if len(f) > 4 else "", "?")
        actions[a] = actions.get(a, 0) + 1
w = st.median(wall)
if inside:
    o, s, c, t = (st.median([r[i] for r in rows]) for i in range(4))
    pf = "/".join(str(int(st.median([r[i] for r in rows]))) for i in range(4, 8)) if len(rows[0]) >= 8 else "?"
    verdicts = ", ".join(f"{k} {v}" for k, v in sorted(actions.items()))
    print(f"{label:<44} {w:7.2f} {min(wall):7.2f} | {w - t:6.2f} {o:6.2f} {s:6.2f} {c:6.2f} | {t:6.2f} | {pf:<15} ({verdicts})")
else:
    print(f"{label:<44} {w:7.2f} {min(wall):7.2f} |")
PY
}
run() {  # run LABEL DB IP BODY [RULES]
  measure "$1" 1 "$cold" "${5:-$rules}" "$2" "$3" "$4"
}
srun() {  # srun LABEL DB IP BODY [RULES]: the program as comment.cgi is built and runs
  [ -z "$static" ] || SG_BENCH_WARM_HEAP_KB=512 measure "$1" 1 "$static" "${5:-$rules}" "$2" "$3" "$4"
}
timed() {  # timed LABEL COMMAND...
  measure "$1" 0 "${@:2}"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $n processes each"
read -r touch populate < <("$cold" --fault-cost)
echo "a first touch of a page: $touch µs one fault at a time, $populate µs populated in one call (MADV_POPULATE_WRITE)"
printf '%-44s %7s %7s | %6s %6s %6s %6s | %6s | %-15s\n' "ms per request (medians; min of the wall)" wall min start open score close inside "page faults s/o/s/c"
measure "a process that does nothing (/bin/true)" 0 /bin/true
db=$tmp/blog.db
"$cold" "$rules" "$db" 192.0.2.1 "$ham" > /dev/null  # the database and the rule cache made
run "ham, default rules, database" "$db" "{i}.10.0.1" "$ham"
run "spam, default rules, database" "$db" "{i}.11.0.1" "$spam"
"$sg" -r "$rules" --db "$db" list add block 198.51.100.0/24 --kind ip > /dev/null
run "a block-listed address" "$db" 198.51.100.7 "$spam"
printf 'include %s\nratelimit ip 1/3600s\n' "$rules" > "$tmp/limited.cf"
"$cold" "$tmp/limited.cf" "$db" 203.0.113.9 "$ham" > /dev/null
run "a rate-limited address" "$db" 203.0.113.9 "$ham" "$tmp/limited.cf"
[ -z "$static" ] || measure "ham, self-contained, heap not warmed" 1 "$static" "$rules" "$db" "{i}.20.0.1" "$ham"
srun "ham, as comment.cgi" "$db" "{i}.17.0.1" "$ham"
srun "spam, as comment.cgi" "$db" "{i}.18.0.1" "$spam"
srun "a block-listed address, as comment.cgi" "$db" 198.51.100.8 "$spam"
srun "a rate-limited address, as comment.cgi" "$db" 203.0.113.9 "$ham" "$tmp/limited.cf"
printf 'include %s\nrule_cache none\n' "$rules" > "$tmp/nocache.cf"
run "spam, no rule cache (every pattern parsed)" "$db" "{i}.12.0.1" "$spam" "$tmp/nocache.cf"
run "spam, no database (rule_cache none)" none "{i}.13.0.1" "$spam"
if [ -n "$keywords" ]; then
  kdb=$tmp/keywords.db
  "$sg" -r "$rules" --db "$kdb" list import keywords "$keywords/wordpress-comment-blocklist.txt" --source wp-blocklist > /dev/null
  "$sg" -r "$rules" --db "$kdb" list import link-patterns "$keywords/mt-blacklist-2005-08-26.txt" --source mt-blacklist > /dev/null 2>&1
  run "ham, with 62,204 phrases + 3,111 patterns" "$kdb" "{i}.14.0.1" "$ham"
  run "spam, with 62,204 phrases + 3,111 patterns" "$kdb" "{i}.15.0.1" "$spam"
fi

if [ -n "$peers" ]; then
  if ! command -v rspamd > /dev/null || ! command -v spamd > /dev/null || ! command -v redis-server > /dev/null; then
    echo "peers: rspamd, spamd or redis-server not installed (apt-get install rspamd spamassassin spamc spamd redis-server)"
    exit 0
  fi
  st=$tmp/peers; mkdir -p "$st/redis" "$st/rspamd/db" "$st/rspamd/run" "$st/rspamd/log" "$st/sa-site" "$st/spamd-home"
  chown redis:redis "$st/redis"; chown -R _rspamd:_rspamd "$st/rspamd"; chown debian-spamd "$st/spamd-home"
  chmod 755 "$tmp" "$st"
  rport=${PEERS_RSPAMD_PORT:-11433} cport=${PEERS_RSPAMD_CONTROLLER_PORT:-11434}
  xport=${PEERS_REDIS_PORT:-16479} sport=${PEERS_SPAMD_PORT:-17930}
  setpriv --reuid=redis --regid=redis --init-groups redis-server --bind 127.0.0.1 --port "$xport" \
    --save '' --appendonly no --dir "$st/redis" --daemonize no > /dev/null 2>&1 &
  pids+=($!)
  rspamd -f -u _rspamd -g _rspamd -c "$peers/rspamd/rspamd.conf" --var="LOCAL_CONFDIR=$peers/rspamd" \
    --var="DBDIR=$st/rspamd/db" --var="RUNDIR=$st/rspamd/run" --var="LOGDIR=$st/rspamd/log" \
    --var="PEERS_RSPAMD_PORT=$rport" --var="PEERS_RSPAMD_CONTROLLER_PORT=$cport" \
    --var="PEERS_REDIS_PORT=$xport" > "$st/rspamd.out" 2>&1 &
  pids+=($!)
  cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$st/sa-site/"
  cp "$peers/spamassassin/zz_peers.cf" "$st/sa-site/"
  spamd -L -x -m 1 --min-children=1 --min-spare=1 --max-spare=1 -u debian-spamd -H "$st/spamd-home" \
    --siteconfigpath="$st/sa-site" --listen="127.0.0.1:$sport" -A 127.0.0.1 -s "$st/spamd.log" > /dev/null 2>&1 &
  pids+=($!)
  msg=$tmp/comment.eml
  printf 'From: Reader <reader@example.com>\nTo: blog@example.org\nSubject: comment\nReceived: from [192.0.2.11] by blog.example.org\nMessage-ID: <1@blog.example.org>\nDate: %s\n\n%s\n' \
    "$(date -R)" "$spam" > "$msg"
  # Warm: rspamd has loaded its rules (its first answers can be slow while
  # it compiles them), spamd has its child.
  for _ in $(seq 1 240); do rspamc -h "127.0.0.1:$rport" < "$msg" > /dev/null 2>&1 && break; sleep 0.5; done
  for _ in $(seq 1 240); do
    rc=0
    spamc -x -d 127.0.0.1 -p "$sport" -c < "$msg" > /dev/null 2>&1 || rc=$?
    [ $rc -le 1 ] && break  # (0 ham, 1 spam; anything else: not up yet)
    sleep 0.5
  done
  sleep 20  # (rspamd's Hyperscan database, compiled in the background)
  for _ in 1 2 3; do rspamc -h "127.0.0.1:$rport" < "$msg" > /dev/null 2>&1 || true; done
  # Side by side: one request of each in turn, N rounds, so that all of
  # them meet the machine in the same state (rows measured one after the
  # other drift apart by more than the differences between them here).
  # Each is one process started directly (no shell), its stdin the message
  # for the peers' clients.
  rows=(
    "rspamc to a warm rspamd|$msg|rspamc -h 127.0.0.1:$rport"
    "spamc to a warm spamd|$msg|spamc -d 127.0.0.1 -p $sport -c"
    "spamguard, default rules, database||$cold $rules $db {i}.16.0.1 SPAM"
  )
  [ -z "$static" ] || rows+=("spamguard, as comment.cgi||$static $rules $db {i}.19.0.1 SPAM")
  echo
  echo "side by side, the spam comment, $n rounds of one request each in turn (ms, wall):"
  SPAM="$spam" SG_BENCH_WARM_HEAP_KB=512 python3 - "$n" "${rows[@]}" <<'PY'
import os, subprocess, sys, time, statistics as st
n, rows = int(sys.argv[1]), [r.split("|", 2) for r in sys.argv[2:]]
env = dict(os.environ)
plain = {k: v for k, v in env.items() if k != "SG_BENCH_WARM_HEAP_KB"}
wall = {label: [] for label, _, _ in rows}
for i in range(n):
    for label, stdin, cmd in rows:
        argv = [env["SPAM"] if a == "SPAM" else a.replace("{i}", str(20 + i)) for a in cmd.split(" ")]
        # (comment.cgi grows its heap first; the shared-library program does not)
        e = env if "as comment.cgi" in label else plain
        f = open(stdin, "rb") if stdin else subprocess.DEVNULL
        t0 = time.perf_counter()
        subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=e)
        wall[label].append((time.perf_counter() - t0) * 1000)
        if stdin:
            f.close()
med = {label: st.median(w) for label, w in wall.items()}
rspamc = med[rows[0][0]]
for label, _, _ in rows:
    ratio = f"  rspamc / this: {rspamc / med[label]:.2f}x" if label.startswith("spamguard") else ""
    print(f"{label:<44} median {med[label]:7.2f}  min {min(wall[label]):7.2f}{ratio}")
PY
fi
