#!/bin/bash
# usage: firewall_test.sh SPAMGUARD SOURCE_DIR
# `spamguard list export`: each format against its golden file, loaded into
# the real tool where the kernel lets this machine (nft -c checks without
# changing anything; ipset sets of the test's own, destroyed after;
# iptables-restore --test), a million entries in bounded memory, a
# consistent export while another process imports, and bad outputs.
set -u
sg=$1 src=$2
tmp=$(mktemp -d)
ipset_sets=() nft_table= apache_pid=
cleanup() {
  [ -n "$apache_pid" ] && kill "$apache_pid" 2>/dev/null
  for s in "${ipset_sets[@]}"; do ipset destroy "$s" 2>/dev/null; done
  [ -n "$nft_table" ] && nft delete table inet "$nft_table" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # (the EXIT trap then removes the sets and the table)
fail=0
source "$src/tests/integration/check.sh"
export SPAMGUARD_RULES=$src/data/spamguard.cf SPAMGUARD_DB=$tmp/fw.db
at=1790000000

# Admin entries, an import, and rate-limit style bans with expiry, nested.
$sg list add block 203.0.113.0/24 --reason scanner >/dev/null
$sg list add block 203.0.113.7 --source ratelimit --expires $((at + 3600)) >/dev/null
$sg list add block 10.0.0.0/8 --source ratelimit --expires $((at + 600)) >/dev/null
$sg list add block 10.1.2.3 >/dev/null
$sg list add block 198.51.100.0/25 >/dev/null
$sg list add block 198.51.100.128/25 >/dev/null
$sg list add block 192.0.2.1 --expires $((at + 1)) >/dev/null       # one second left
$sg list add block 192.0.2.2 --expires "$at" >/dev/null             # over at the moment exported
$sg list add block 2001:db8::/32 >/dev/null
$sg list add block 2001:db8:1::5 --expires $((at + 86400)) >/dev/null
$sg list add block 2a00:1450::/29 --source ratelimit --expires $((at + 30)) >/dev/null
$sg list add block spam@example.com --kind email >/dev/null        # not an address: not exported
$sg list add allow 198.51.100.9 >/dev/null                          # the allow list is not exported

for f in plain nft ipset htaccess; do
  check "export $f" 0 $sg list export --format "$f" --at "$at" -o "$tmp/$f.txt"
  diff -u "$src/tests/fixtures/export/$f.txt" "$tmp/$f.txt" || { echo "FAIL: $f differs from its golden file"; fail=1; }
done
for fam in 4 6; do
  check "export iptables $fam" 0 $sg list export --format iptables --family "$fam" --at "$at" -o "$tmp/iptables$fam.txt"
  diff -u "$src/tests/fixtures/export/iptables$fam.txt" "$tmp/iptables$fam.txt" || { echo "FAIL: iptables$fam differs"; fail=1; }
done
check "iptables needs a family" 1 $sg list export --format iptables
contains "iptables needs a family" "iptables needs one family"
check "a bad name" 1 $sg list export --format nft --name 'a b'
contains "a bad name" "1 to 24 letters"
check "bad ports" 1 $sg list export --format nft --ports 80,http
contains "bad ports" "port numbers"
check "to standard output" 0 $sg list export --at "$at"
contains "to standard output" "203.0.113.0/24"

# The real tools, where this machine lets them run.
if command -v nft >/dev/null && echo 'table inet sg_probe { }' | nft -c -f - 2>/dev/null; then
  check "nft -c accepts the script" 0 nft -c -f "$tmp/nft.txt"
  $sg list export --format nft --ports all -o "$tmp/all.nft" 2>/dev/null
  check "nft -c accepts it closed to all traffic" 0 nft -c -f "$tmp/all.nft"
  # Overlapping elements are what nft refuses: the merge is what makes it load.
  printf 'table inet sgx { set s { type ipv4_addr; flags interval; } }\nadd element inet sgx s { 10.0.0.0/8, 10.1.2.3 }\n' > "$tmp/bad.nft"
  check "nft -c refuses overlapping elements (the check is real)" 1 nft -c -f "$tmp/bad.nft"
  # Loaded for real, in a table of the test's own (documentation addresses
  # only), twice: a refresh replaces the rules and elements, adds nothing.
  nft_table=sgt$$
  $sg list export --format nft --name "$nft_table" -o "$tmp/mine.nft" 2>/dev/null
  check "nft -f loads it" 0 nft -f "$tmp/mine.nft"
  check "nft -f loads it again" 0 nft -f "$tmp/mine.nft"
  check "the IPv4 set" 0 nft list set inet "$nft_table" block4
  contains "the IPv4 set" "203.0.113.0/24"
  contains "the IPv4 set" "10.1.2.3"
  check "the chain" 0 nft list chain inet "$nft_table" input
  [ "$(grep -c 'counter packets .* drop' "$tmp/out")" = 2 ] && echo "ok: two drop rules after two loads" ||
    { echo "FAIL: the chain after two loads:"; cat "$tmp/out"; fail=1; }
else
  echo "skip: nft -c cannot run here (no nftables or no CAP_NET_ADMIN); checked by the golden file only"
fi
name=sgt$$
if command -v ipset >/dev/null && ipset -n list >/dev/null 2>&1 && ipset create "${name}probe" hash:net 2>/dev/null; then
  ipset destroy "${name}probe"
  ipset_sets=("${name}4" "${name}6" "${name}4-new" "${name}6-new")
  check "export ipset named $name" 0 $sg list export --format ipset --name "$name" -o "$tmp/mine.ipset"
  check "ipset restore loads it" 0 ipset restore -file "$tmp/mine.ipset"
  check "list the IPv4 set" 0 ipset list "${name}4"
  contains "the /24 is in the set" "203.0.113.0/24"
  contains "the address inside the expiring /8 stays" "10.1.2.3 timeout 0"
  check "list the IPv6 set" 0 ipset list "${name}6"
  contains "IPv6 in its own set" "2001:db8::/32"
  # Loaded again after a change: swapped in whole.
  $sg list remove block 203.0.113.0/24 >/dev/null
  $sg list export --format ipset --name "$name" -o "$tmp/mine.ipset" 2>/dev/null
  check "ipset restore again" 0 ipset restore -file "$tmp/mine.ipset"
  ipset list "${name}4" > "$tmp/out"
  grep -q '203.0.113.0/24' "$tmp/out" && { echo "FAIL: a removed entry stayed in the set"; fail=1; }
  ipset list -n | grep -q "${name}4-new" && { echo "FAIL: the temporary set was left behind"; fail=1; }
  $sg list add block 203.0.113.0/24 --reason scanner >/dev/null
else
  echo "skip: ipset cannot run here (no ipset or no CAP_NET_ADMIN); checked by the golden file only"
fi
if command -v iptables-restore >/dev/null && printf '*filter\nCOMMIT\n' | iptables-restore --test --noflush 2>/dev/null; then
  check "iptables-restore --test accepts it" 0 iptables-restore --test --noflush "$tmp/iptables4.txt"
  check "ip6tables-restore --test accepts it" 0 ip6tables-restore --test --noflush "$tmp/iptables6.txt"
else
  echo "skip: iptables-restore --test cannot run here; checked by the golden file only"
fi
# htaccess: an .htaccess keeps what else it holds (a blog's rewrite rules);
# Apache, run here on loopback, refuses the listed addresses with it.
mkdir "$tmp/blog"
printf '# BEGIN WordPress\nRewriteEngine On\n# END WordPress\n' > "$tmp/blog/.htaccess"
chmod 640 "$tmp/blog/.htaccess"
check "export into an .htaccess" 0 $sg list export --format htaccess -o "$tmp/blog/.htaccess"
check "and again" 0 $sg list export --format htaccess -o "$tmp/blog/.htaccess"
[ "$(grep -c '^# BEGIN spamguard$' "$tmp/blog/.htaccess")/$(grep -c '^RewriteEngine On$' "$tmp/blog/.htaccess")" = 1/1 ] &&
  echo "ok: the block replaced, the blog's rules kept" || { echo "FAIL: .htaccess:"; cat "$tmp/blog/.htaccess"; fail=1; }
[ "$(stat -c %a "$tmp/blog/.htaccess")" = 640 ] || { echo "FAIL: the .htaccess lost its mode"; fail=1; }
if [ -x /usr/sbin/apache2 ] && [ -f /usr/lib/apache2/modules/mod_authz_host.so ] &&
   curl -s --interface 127.0.0.2 -o /dev/null "file:///dev/null" 2>/dev/null; then
  mkdir -p "$tmp/ap/www" && echo hello > "$tmp/ap/www/index.txt"
  $sg list add block 127.0.0.2 --reason 'the test client' >/dev/null
  printf 'RewriteEngine Off\n' > "$tmp/ap/www/.htaccess"
  $sg list export --format htaccess -o "$tmp/ap/www/.htaccess" 2>/dev/null
  aport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$tmp/ap/apache.conf" <<CONF
ServerRoot $tmp/ap
ServerName 127.0.0.1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
ErrorLog $tmp/ap/error.log
PidFile $tmp/ap/apache.pid
Listen 127.0.0.1:$aport
DocumentRoot $tmp/ap/www
<Directory />
AllowOverride None
</Directory>
<Directory $tmp/ap/www>
AllowOverride AuthConfig FileInfo
</Directory>
CONF
  printf '<Directory %s>\nInclude %s\n</Directory>\n' "$tmp/ap/www" "$tmp/ap/www/.htaccess" > "$tmp/ap/check.conf"
  check "apache2 -t accepts the .htaccess block" 0 /usr/sbin/apache2 -t -f "$tmp/ap/apache.conf" -c "Include $tmp/ap/check.conf"
  /usr/sbin/apache2 -f "$tmp/ap/apache.conf" -DFOREGROUND 2>/dev/null & apache_pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$aport/" && break; sleep 0.1; done
  check "Apache serves a reader" 0 curl -sf -o /dev/null "http://127.0.0.1:$aport/index.txt"
  got=$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/index.txt")
  [ "$got" = 403 ] && echo "ok: Apache refuses a listed address (403)" || { echo "FAIL: a listed address got HTTP $got"; fail=1; }
  kill "$apache_pid"; wait "$apache_pid" 2>/dev/null; apache_pid=
  $sg list remove block 127.0.0.2 >/dev/null
else
  echo "skip: no apache2 (apache2-bin) to load the .htaccess into; checked by the golden file only"
fi

# Bad outputs: nothing half-written is left, the old file stays.
echo old > "$tmp/kept.txt"
check "a folder that does not exist" 1 $sg list export -o "$tmp/nope/x.txt"
contains "a folder that does not exist" "cannot write"
check "a directory as the output" 1 $sg list export -o "$tmp"
[ "$(ls "$tmp" | grep -c '\.txt\.')" = 0 ] || { echo "FAIL: a temporary file was left"; ls "$tmp"; fail=1; }
mkfifo "$tmp/fifo"
check "a FIFO (or a device) is not replaced" 1 $sg list export -o "$tmp/fifo"
contains "a FIFO (or a device) is not replaced" "not a regular file"
[ -p "$tmp/fifo" ] || { echo "FAIL: the FIFO was replaced"; fail=1; }
check "standard output on a full device" 1 sh -c "$sg list export > /dev/full"
contains "standard output on a full device" "No space left on device"
check "export replaces a file in one step" 0 $sg list export --format plain -o "$tmp/kept.txt"
grep -q old "$tmp/kept.txt" && { echo "FAIL: the old file was not replaced"; fail=1; }

# A consistent view while another process imports: every export holds the
# whole of one version of the imported list, never a mix.
python3 -c "
for i in range(1000): print('100.64.%d.%d' % (i // 250, i % 250 * 1))" > "$tmp/a.txt"
python3 -c "
for i in range(2000): print('100.96.%d.%d' % (i // 250, i % 250))" > "$tmp/b.txt"
# (Adjacent addresses merge into blocks: count what each version exports.)
$sg list import block "$tmp/b.txt" --source feed >/dev/null
b_lines=$($sg list export 2>/dev/null | grep -c '^100\.96\.')
$sg list import block "$tmp/a.txt" --source feed >/dev/null
a_lines=$($sg list export 2>/dev/null | grep -c '^100\.64\.')
( for i in $(seq 15); do
    $sg list import block "$tmp/b.txt" --source feed >/dev/null 2>&1
    $sg list import block "$tmp/a.txt" --source feed >/dev/null 2>&1
  done ) &
importer=$!
mixed=0 seen=""
while kill -0 $importer 2>/dev/null; do
  $sg list export --format plain 2>/dev/null > "$tmp/snap.txt"
  a=$(grep -c '^100\.64\.' "$tmp/snap.txt"); b=$(grep -c '^100\.96\.' "$tmp/snap.txt")
  case "$a/$b" in "$a_lines/0"|"0/$b_lines") seen="$seen $a/$b" ;; *) mixed=1; echo "FAIL: a mixed export: $a from one version, $b from the other" ;; esac
done
wait $importer
[ $mixed = 0 ] && echo "ok: $(echo $seen | wc -w) exports during imports, each whole ($(echo $seen | tr ' ' '\n' | sort | uniq -c | tr '\n' ' '))"
[ $mixed = 0 ] || fail=1

# A million entries: streamed, in bounded memory. (Under AddressSanitizer,
# whose shadow memory and quarantine grow with every allocation, a tenth of
# them and no memory bound.)
million=1000000
[ -n "${ASAN_OPTIONS:-}" ] && million=100000
python3 -c "
for i in range($million):
    a = 0x0b000000 + 2 * i
    print('%d.%d.%d.%d' % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))" > "$tmp/million.txt"
SPAMGUARD_DB=$tmp/big.db $sg list import block "$tmp/million.txt" --source million > /dev/null
for f in nft ipset plain; do
  SPAMGUARD_DB=$tmp/big.db /usr/bin/time -f '%M %e' -o "$tmp/time" $sg list export --format "$f" -o "$tmp/big.$f" 2>/dev/null ||
    { echo "FAIL: export of $million as $f"; fail=1; }
  read -r kb secs < "$tmp/time"
  n=$(case $f in nft) grep '^add element' "$tmp/big.$f" | tr -cd , | wc -c ;; ipset) grep -c '^add ' "$tmp/big.$f" ;; plain) wc -l < "$tmp/big.$f" ;; esac)
  [ $f = nft ] && n=$((n + $(grep -c '^add element' "$tmp/big.$f")))
  echo "$million entries as $f: $n elements, $((kb / 1024)) MB peak, $secs s"
  [ "$n" = "$million" ] || { echo "FAIL: $f has $n elements, want $million"; fail=1; }
  if [ -n "${ASAN_OPTIONS:-}" ]; then
    echo "skip: the memory bound (AddressSanitizer's own memory grows with every allocation)"
  elif [ "$kb" -ge 65536 ]; then
    echo "FAIL: $f export peaked at $kb KB (the list is streamed: it should not grow with it)"; fail=1
  fi
done

[ $fail = 0 ] && echo "list export: all checks passed"
exit $fail
