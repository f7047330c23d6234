<?php
// Scores a JSON Lines dump through the PHP extension and prints one line per
// comment: id, action, score (for comparing bindings).
//   php -d extension=spamguard.so score_dump.php RULES.cf DUMP.jsonl
$sg = new SpamGuard\Engine($argv[1], ['database' => 'none', 'ratelimits' => 'off']);
$keep = ['id', 'author', 'email', 'url', 'ip', 'user_agent', 'body', 'referrer', 'post_id', 'permalink',
         'blog_name', 'title', 'excerpt', 'source_url'];
foreach (new SplFileObject($argv[2]) as $line) {
  if (trim($line) === '') continue;
  $r = json_decode($line, true);
  $c = array_intersect_key($r, array_flip($keep));
  if (isset($r['type'])) $c['kind'] = $r['type'];
  $v = $sg->score($c);
  printf("%s\t%s\t%.3f\n", $r['id'], $v['action'], $v['score']);
}
