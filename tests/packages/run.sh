#!/bin/bash
# usage: tests/packages/run.sh [SOURCE_DIR]   (as root, on Debian 12)
# Builds the Debian packages from the committed tree with dpkg-buildpackage,
# runs lintian (its report is printed; errors fail), installs them on this
# machine, and checks as the web server's user www-data that:
#   - the command works and finds the admin's /etc/spamguard/spamguard.cf;
#   - the PHP handler, under PHP's web server running as www-data, scores
#     with state (a flood is throttled) in /var/lib/spamguard/spamguard.db;
#   - the database is shared: a block-list entry the admin (root) adds is
#     what the handler, as www-data, refuses next;
#   - the maintenance script imports a configured list and prunes;
#   - the firewall refresh units are installed (not enabled) and what they
#     run exports the shared database for nft.
# Then purges the packages again.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: the package test installs packages and must run as root"; exit 77
fi
need=(debhelper dpkg-dev lintian chrpath fakeroot)
missing=()
for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/sg_pkg_XXXXXX)
server=
purge() {  # every spamguard package, debug symbols included
  local pkgs
  pkgs=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' '*spamguard*' 2>/dev/null | awk '$2 != "not-installed" {print $1}' || true)
  [ -z "$pkgs" ] || DEBIAN_FRONTEND=noninteractive dpkg -P $pkgs >/dev/null
}
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null
  purge || echo "FAIL: the packages did not purge"
  # What was there before the test comes back.
  if [ -d "$work/saved-state" ]; then rm -rf /var/lib/spamguard && mv "$work/saved-state" /var/lib/spamguard; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Start from nothing: no spamguard package, no state (an existing state
# folder is kept aside and put back afterwards).
purge
if [ -d /var/lib/spamguard ]; then mv /var/lib/spamguard "$work/saved-state"; fi

# 1. Build from what is committed (a packager's view of the tree).
mkdir -p "$work/spamguard-1.0.0"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$src" archive --format=tar HEAD | tar -x -C "$work/spamguard-1.0.0"
else  # an unpacked tarball: the tree without build folders
  tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -x -C "$work/spamguard-1.0.0"
fi
(cd "$work/spamguard-1.0.0" && dpkg-buildpackage -us -uc -b -j"$(nproc)" > "$work/build.log" 2>&1) ||
  { tail -60 "$work/build.log"; fail "dpkg-buildpackage"; }
grep -E '^(PASS|Result:|Tests passed)|All tests successful|dpkg-gensymbols' "$work/build.log" || true
ls "$work"/*.deb
for p in libspamguard1 libspamguard-dev spamguard php-spamguard libspamguard-perl; do
  ls "$work"/${p}_1.0.0_*.deb >/dev/null 2>&1 || fail "no $p package"
done

# 2. lintian: print everything it says; errors fail the test.
lintian --tag-display-limit 0 --info "$work"/*.changes > "$work/lintian.log" 2>&1 || true
echo "lintian: $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings"
cat "$work/lintian.log"
if grep -q '^E:' "$work/lintian.log"; then fail "lintian reports errors"; fi

# 3. Install (apt resolves php and the other dependencies from Debian). A
# database (and its rate-limit file) a first run as root left behind,
# private to root, is taken over by the web server's group.
mkdir -p /var/lib/spamguard
for f in spamguard.db spamguard.db-rates; do
  [ -e /var/lib/spamguard/$f ] ||
    python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA user_version=0")' /var/lib/spamguard/$f
  chown root:root /var/lib/spamguard/$f && chmod 0600 /var/lib/spamguard/$f
done
debs=$(ls "$work"/*.deb | grep -v -- '-dbgsym_')
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $debs > "$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt-get install"; }
[ "$(stat -c '%U:%G %a' /var/lib/spamguard)" = "root:www-data 2770" ] || fail "/var/lib/spamguard is $(stat -c '%U:%G %a' /var/lib/spamguard)"
test -f /etc/spamguard/spamguard.cf || fail "no /etc/spamguard/spamguard.cf"
dpkg-query -W -f='${Conffiles}\n' spamguard | grep -q /etc/spamguard/spamguard.cf || fail "spamguard.cf is not a conffile"
test -f /lib/systemd/system/spamguard-maintenance.timer || fail "no maintenance timer"
test -f /usr/share/man/man1/spamguard.1.gz -a -f /usr/share/man/man5/spamguard.cf.5.gz || fail "no man pages"
as_www() { runuser -u www-data -- "$@"; }
# A first score as root makes the rate-limit map; in the shared folder it is
# the web server's group's too.
spamguard score --ip 192.0.2.7 --body "first run" > /dev/null || fail "score as root"

# 4. The command as www-data.
out=$(as_www spamguard --version) && [[ $out == "spamguard 1.0.0"* ]] || fail "--version: $out"
out=$(as_www spamguard rules lint) && [[ $out == *"/etc/spamguard/spamguard.cf"* ]] || fail "rules lint: $out"
out=$(as_www spamguard score --body "Buy cheap viagra without prescription http://pills.example.icu/") || fail "score"
[[ $out == *"spam"* || $out == *"moderate"* ]] || fail "score: $out"
perl -MSpamGuard -e 'print SpamGuard::default_rules(), "\n"' | grep -qx /etc/spamguard/spamguard.cf || fail "perl default rules"
php -r 'echo SpamGuard\Engine::defaultRules(), "\n";' | grep -qx /etc/spamguard/spamguard.cf || fail "php: the extension is not enabled"

# 5. The PHP handler as www-data, on the packages' default database.
www=$work/www
mkdir -p "$www" && cp "$src/examples/php/comment_handler.php" "$www/" && chmod -R a+rX "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# (setpriv execs PHP in its own place, so that $! is PHP itself and the
# cleanup stops it; runuser would stay between them.)
setpriv --reuid=www-data --regid=www-data --init-groups env -u SPAMGUARD_RULES -u SPAMGUARD_DB HOME=/var/www \
  php -S "127.0.0.1:$port" -t "$www" > "$work/php.log" 2>&1 &
server=$!
url="http://127.0.0.1:$port/comment_handler.php"
for _ in $(seq 50); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
post() { curl -s -o /dev/null -w '%{http_code}' --data-urlencode "comment=$1" "$url"; }
codes=""
for i in 1 2 3 4 5; do codes="$codes $(post "Thanks, step $i fixed it.")"; done
echo "five quick comments from one address: $codes"
# (Posted without the form's token: scored as spam until the limit throttles.)
[[ $codes =~ ^(\ (200|202|403)){3}\ 429 ]] || fail "no state: the flood was not throttled ($codes); $(cat "$work/php.log")"
db=/var/lib/spamguard/spamguard.db
[ "$(stat -c '%G %a' "$db")" = "www-data 660" ] || fail "database is $(stat -c '%U:%G %a' "$db")"
[ "$(stat -c '%G %a' "$db-rates")" = "www-data 660" ] || fail "the form-token file is $(stat -c '%U:%G %a' "$db-rates")"
[ "$(stat -c '%G %a' "$db-ratemap")" = "www-data 660" ] || fail "the rate-limit map is $(stat -c '%U:%G %a' "$db-ratemap")"
# The admin, as root, sees the handler's state and blocks the address; the
# handler refuses it next, from the same file.
out=$(spamguard stats) && [[ $out == *"$db"* ]] || fail "stats as root: $out"
spamguard stats --json | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["ratelimit_keys"] > 0, s' ||
  fail "the handler's rate-limit keys are not in the shared database"
spamguard list add block 127.0.0.1 --reason "package test" >/dev/null
out=$(as_www spamguard ip 127.0.0.1) && [[ $out == *"127.0.0.1  spam"* ]] || fail "ip as www-data: $out"
spamguard list remove block 127.0.0.1 >/dev/null
spamguard list add allow 127.0.0.1 --reason "package test" >/dev/null  # the allow list also skips the limits
[ "$(post 'Thanks again.')" = 200 ] || fail "the allow entry root added did not reach the handler"
spamguard list remove allow 127.0.0.1 >/dev/null
spamguard list add block 127.0.0.1 --reason "package test" >/dev/null
[ "$(post 'Thanks once more.')" = 403 ] || fail "the block entry root added did not reach the handler"
grep -q "database not used" "$work/php.log" && fail "the handler logged a missing database: $(cat "$work/php.log")"

# Bad input as the web user: a state folder it cannot reach, a database
# private to root, a rule file only root can read. Each says why.
mkdir -p "$work/private" && chmod 0700 "$work/private"
out=$(as_www spamguard --db "$work/private/x.db" stats 2>&1) && fail "stats in a folder www-data cannot reach: $out"
[[ $out == *"permission denied (this user, uid 33, cannot reach the file's folder)"* ]] || fail "unreachable folder: $out"
install -d -m 0755 "$work/shared" && spamguard --db "$work/shared/root.db" learn ham --id r1 --ip 192.0.2.1 >/dev/null
chmod 0600 "$work/shared/root.db"
out=$(as_www spamguard --db "$work/shared/root.db" score --body hi 2>&1)
[[ $out == *"permission denied (the file belongs to uid 0, gid 0, mode 0600; this process is uid 33)"* ]] ||
  fail "root's private database: $out"
chmod 0600 /etc/spamguard/spamguard.cf
out=$(as_www spamguard rules lint 2>&1) && fail "an unreadable rule file loaded: $out"
[[ $out == *"/etc/spamguard/spamguard.cf: cannot open: Permission denied"* ]] || fail "unreadable rules: $out"
chmod 0644 /etc/spamguard/spamguard.cf

# 6. Maintenance as www-data: a configured list is imported, old state pruned.
printf '198.51.100.0/24 ; SBL1\n' > "$work/drop.txt" && chmod a+r "$work/drop.txt"
printf 'test-drop file://%s\n' "$work/drop.txt" > "$work/blocklists.conf" && chmod a+r "$work/blocklists.conf"
out=$(as_www env SPAMGUARD_BLOCKLISTS="$work/blocklists.conf" /usr/libexec/spamguard/spamguard-maintenance) ||
  fail "maintenance: $out"
[[ $out == *"imported 1 entries into the block list as source 'test-drop'"* && $out == *"pruned"* ]] || fail "maintenance: $out"

# 7. The firewall refresh: installed, not enabled; what its service runs
# (the export as www-data, then nft as root) works on the shared database.
for u in spamguard-firewall.service spamguard-firewall.timer; do
  test -f "/lib/systemd/system/$u" || fail "no $u"
done
[ -e /etc/systemd/system/timers.target.wants/spamguard-firewall.timer ] && fail "the firewall timer was enabled by the installation"
out=$(systemd-analyze verify --man=no /lib/systemd/system/spamguard-firewall.service /lib/systemd/system/spamguard-firewall.timer 2>&1) ||
  fail "systemd-analyze verify: $out"
install -d -o www-data -g www-data /run/spamguard-firewall
as_www spamguard list export --format nft --output /run/spamguard-firewall/block.nft 2>/dev/null || fail "the firewall export as www-data"
grep -q '198.51.100.0/24' /run/spamguard-firewall/block.nft || fail "the export lacks the imported list"
if command -v nft >/dev/null && echo 'table inet sg_probe { }' | nft -c -f - 2>/dev/null; then
  nft -c -f /run/spamguard-firewall/block.nft || fail "nft -c refuses the export"
fi
rm -rf /run/spamguard-firewall
echo "packages: built, lintian clean of errors, installed; www-data and root share one database"
