#!/bin/bash
# usage: bench/firewall_bench.sh SPAMGUARD [ENTRIES...]   (as root, for the loads)
# How a block list of N addresses goes to the firewall: the export (time,
# peak memory) in each format, and loading it: `ipset restore` into sets of
# its own (destroyed after) and `nft -c -f` (the kernel checks the whole
# transaction without keeping it). Prints one line per size and format.
set -eu
sg=$1; shift
sizes=("${@:-10000 100000 1000000}")
tmp=$(mktemp -d)
name=sgbench$$
trap 'ipset destroy "${name}4" 2>/dev/null; ipset destroy "${name}6" 2>/dev/null; rm -rf "$tmp"' EXIT
export SPAMGUARD_RULES=$(dirname "$0")/../data/spamguard.cf
printf '%-9s %-8s %10s %10s %9s %s\n' entries format export_s export_MB bytes load
for n in ${sizes[*]}; do
  export SPAMGUARD_DB=$tmp/$n.db
  # Every other address from 11.0.0.0: nothing merges, one element each.
  python3 -c "
for i in range($n):
    a = 0x0b000000 + 2 * i
    print('%d.%d.%d.%d' % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))" > "$tmp/list.txt"
  "$sg" list import block "$tmp/list.txt" --source bench > /dev/null
  for f in plain nft ipset iptables htaccess; do
    fam=(); [ $f = iptables ] && fam=(--family 4)
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$sg" list export --format $f "${fam[@]}" --name "$name" -o "$tmp/out.$f" 2>/dev/null
    read -r secs kb < "$tmp/t"
    load=-
    if [ $f = ipset ] && ipset -n list >/dev/null 2>&1; then
      s0=$(date +%s.%N); ipset restore -file "$tmp/out.ipset"; s1=$(date +%s.%N)
      load="ipset restore $(python3 -c "print('%.2f s' % ($s1 - $s0))")"
      ipset destroy "${name}4"; ipset destroy "${name}6"
    elif [ $f = nft ] && echo 'table inet sg_probe { }' | nft -c -f - 2>/dev/null; then
      s0=$(date +%s.%N); nft -c -f "$tmp/out.nft"; s1=$(date +%s.%N)
      load="nft -c -f $(python3 -c "print('%.2f s' % ($s1 - $s0))")"
    fi
    printf '%-9s %-8s %10s %10s %9s %s\n' "$n" "$f" "$secs" "$((kb / 1024))" "$(stat -c %s "$tmp/out.$f")" "$load"
  done
done
