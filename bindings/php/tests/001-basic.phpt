--TEST--
SpamGuard\Engine: scoring, flags, learning, explainIp and every error path
--EXTENSIONS--
spamguard
--FILE--
<?php
require __DIR__ . '/check.inc';

$cf = __DIR__ . '/test.cf';
$dir = tempdir();

$sg = new SpamGuard\Engine($cf, ['database' => "$dir/t.db", 'ratelimits' => 'off']);

$v = $sg->score(['body' => 'Buy cheap viagra online', 'ip' => '192.0.2.1', 'author' => 'Cheap Pills']);
check($v['action'] === 'spam', 'pharmacy spam is spam');
check($v['score'] >= 5, 'score over the threshold');
$hit = array_values(array_filter($v['hits'], fn($h) => $h['rule'] === 'SG_PHARMA_DRUGS'));
check(count($hit) === 1 && $hit[0]['match'] === 'viagra' && $hit[0]['field'] === 'body', 'hit with its match');
check($v['flags'] === [], 'no flags');

$ham = $sg->score(['body' => 'Thanks, the fix in step 3 worked for me.', 'ip' => '198.51.100.7']);
check($ham['action'] === 'accept', 'ordinary comment accepted');

$nul = $sg->score(['body' => "hello\0viagra\0", 'ip' => '192.0.2.2']);
$hit = array_values(array_filter($nul['hits'], fn($h) => $h['rule'] === 'SG_PHARMA_DRUGS'));
check(count($hit) === 1 && $hit[0]['match'] === 'viagra', 'NUL bytes are data');
$bad = $sg->score(['body' => "caf\xC3 \xFF", 'ip' => '999.1.1.1', 'time' => 1700000000, 'kind' => 'comment']);
check(in_array('invalid_utf8', $bad['flags'], true) && in_array('bad_ip', $bad['flags'], true), 'flags');
// Behind the trusted proxy the client comes from X-Forwarded-For; from
// anyone else the header is ignored.
$via = $sg->score(['body' => 'x', 'ip' => '10.0.0.1', 'forwarded_for' => '198.51.100.9, 10.0.0.2']);
check(in_array('via_proxy', $via['flags'], true), 'forwarded_for from a trusted proxy');
$spoof = $sg->score(['body' => 'x', 'ip' => '198.51.100.9', 'forwarded_for' => '10.0.0.5']);
check(!in_array('via_proxy', $spoof['flags'], true), 'forwarded_for from a client is ignored');
$num = $sg->score(['body' => 12345, 'post_id' => 7, 'ip' => null]);
check($num['action'] === 'accept', 'numbers and null are accepted as values');

for ($i = 0; $i < 5; $i++) $sg->learn(['id' => "l$i", 'ip' => '203.0.113.9'], 'spam');
$sg->learn(['id' => 'gone', 'ip' => '203.0.113.9'], 'spam');
check($sg->forget(['id' => 'gone']) === true, 'forget a learned comment');
check($sg->forget(['id' => 'gone']) === false, 'forget it again: not learned');
$rep = $sg->score(['body' => 'hello', 'ip' => '203.0.113.9']);
check(count(array_filter($rep['hits'], fn($h) => $h['rule'] === 'REPUTATION_IP_BAD')) === 1, 'reputation from learning');

// An address explained: its reputation (and list entries, rate limits).
$why = $sg->explainIp('203.0.113.9');
$hit = array_values(array_filter($why['hits'], fn($h) => $h['rule'] === 'REPUTATION_IP_BAD'));
check(count($hit) === 1 && str_contains($hit[0]['match'], '5.0 spam, 0.0 ham'), 'explainIp: reputation with its counts');
check($why['score'] > 0 && in_array($why['action'], ['accept', 'moderate', 'spam'], true), 'explainIp: score and action');
throws(fn() => $sg->explainIp('203.0.113.999'), '/not an IPv4 or IPv6 address/', 'explainIp: malformed address');
throws(fn() => $sg->explainIp("192.0.2.1\0x"), '/NUL byte/', 'explainIp: NUL byte');

throws(fn() => $sg->score(['body' => [1]]), '/must be a string/', 'array value');
throws(fn() => $sg->score(['body' => new stdClass]), '/must be a string/', 'object value');
throws(fn() => $sg->score(['bogus' => 'x']), "/unknown comment field 'bogus'/", 'unknown key');
throws(fn() => $sg->score([0 => 'x']), '/field names/', 'numeric key');
throws(fn() => $sg->score(['kind' => 'spaceship']), '/kind must be/', 'bad kind');
throws(fn() => $sg->score(['time' => 'yesterday']), '/time must be/', 'bad time');
throws(fn() => $sg->learn(['id' => 'x'], 'maybe'), '/label must be/', 'bad label');
throws(fn() => new SpamGuard\Engine('/nonexistent/spamguard.cf'), '#/nonexistent/spamguard\.cf: cannot open#', 'missing rules');
$none = new SpamGuard\Engine($cf, ['database' => 'none']);
throws(fn() => $none->learn(['id' => 'x', 'ip' => '192.0.2.1'], 'spam'), '/no database/', 'learn without a database');
try { $sg->score('not an array'); check(false, 'string comment: no error'); } catch (TypeError $e) { check(true, ''); }

$sg->close();
throws(fn() => $sg->score(['body' => 'x']), '/engine is closed/', 'use after close');
$sg->close();

done('php bindings: all checks passed');
?>
--EXPECT--
php bindings: all checks passed
