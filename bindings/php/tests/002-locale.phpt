--TEST--
SpamGuard\Engine under a locale with a decimal comma: rules load, numbers stay numbers
--EXTENSIONS--
spamguard
--SKIPIF--
<?php if (!setlocale(LC_ALL, 'de_DE.UTF-8', 'de_DE.utf8')) die('skip the de_DE.UTF-8 locale is not installed (apt-get install locales; localedef -i de_DE -f UTF-8 de_DE.UTF-8)'); ?>
--FILE--
<?php
require __DIR__ . '/check.inc';
// PHP applications call setlocale; the library must not read "5.0" as an
// error or write 5.5 as "5,5".
setlocale(LC_ALL, 'de_DE.UTF-8', 'de_DE.utf8');
check(localeconv()['decimal_point'] === ',', 'the locale uses a decimal comma');
$dir = tempdir();
$sg = new SpamGuard\Engine(__DIR__ . '/test.cf', ['database' => "$dir/t.db", 'ratelimits' => 'off']);
$v = $sg->score(['body' => 'Buy cheap viagra online', 'author' => 'Cheap Pills', 'ip' => '192.0.2.1']);
check($v['action'] === 'spam', 'spam at required_score 5.0');
check(abs($v['score'] - 5.5) < 1e-9, 'score 3.5 + 0.75 + 1.25 = 5.5, got ' . $v['score']);
for ($i = 0; $i < 5; $i++) $sg->learn(['id' => "l$i", 'ip' => '203.0.113.9'], 'spam');
$why = $sg->explainIp('203.0.113.9');
$hit = array_values(array_filter($why['hits'], fn($h) => $h['rule'] === 'REPUTATION_IP_BAD'));
check(count($hit) === 1 && str_contains($hit[0]['match'], '5.0 spam, 0.0 ham (half-life 30 days)'),
      'reputation counts written with a point: ' . ($hit[0]['match'] ?? 'no hit'));
$sg->close();
done('locale: all checks passed');
?>
--EXPECT--
locale: all checks passed
