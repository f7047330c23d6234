<?php
// Per-call cost of scoring through the PHP extension: the comments of the
// dumps are loaded first, then scored round after round for ~2 seconds.
//   php -d extension=spamguard.so bindings_bench.php RULES.cf DUMP.jsonl...
$sg = new SpamGuard\Engine($argv[1], ['database' => 'none', 'ratelimits' => 'off']);
$keep = array_flip(['id', 'author', 'email', 'url', 'ip', 'user_agent', 'body']);
$comments = [];
foreach (array_slice($argv, 2) as $f)
  foreach (new SplFileObject($f) as $line)
    if (trim($line) !== '') { $r = json_decode($line, true); $c = array_intersect_key($r, $keep); $c['kind'] = $r['type']; $comments[] = $c; }
foreach ($comments as $c) $sg->score($c);  // warm-up
$n = 0; $t0 = hrtime(true);
do { foreach ($comments as $c) { $sg->score($c); $n++; } } while (hrtime(true) - $t0 < 2e9);
$s = (hrtime(true) - $t0) / 1e9;
printf("php: %.2f us per call (%d calls)\n", 1e6 * $s / $n, $n);
