--TEST--
SpamGuard\Engine: signed comment-form tokens and the honeypot
--EXTENSIONS--
spamguard
--FILE--
<?php
require __DIR__ . '/check.inc';

$cf = __DIR__ . '/test.cf';
$dir = tempdir();
$sg = new SpamGuard\Engine($cf, ['database' => "$dir/t.db", 'ratelimits' => 'off']);
$rules = fn($v) => array_map(fn($h) => $h['rule'], $v['hits']);

$t0 = 1790000000;
$token = $sg->formToken('post-7', $t0);
check(strlen($token) === 60 && preg_match('/^[A-Za-z0-9_-]{60}$/', $token) === 1, 'a token of 60 base64url characters');
$person = ['body' => 'Thanks for this.', 'ip' => '192.0.2.1', 'post_id' => 'post-7', 'time' => $t0 + 30,
           'form_token' => $token, 'honeypot' => ''];
$v = $sg->score($person);
check($v['action'] === 'accept' && $v['hits'] === [], 'a person who read the post is accepted');

// A program posting straight to the comment URL: no token, at once, every field filled.
$bot = ['body' => 'Great post', 'ip' => '192.0.2.9', 'post_id' => 'post-7', 'time' => $t0 + 30,
        'form_token' => '', 'honeypot' => 'http://spam.example/'];
$v = $sg->score($bot);
check($v['action'] === 'spam' && $rules($v) === ['SG_FORM_NO_TOKEN', 'SG_FORM_HONEYPOT'], 'a bot is spam: ' . json_encode($rules($v)));

$v = $sg->score(['post_id' => 'post-7', 'body' => 'x', 'form_token' => $sg->formToken('post-7', $t0), 'time' => $t0 + 1]);
check($rules($v) === ['SG_FORM_TOO_FAST'], 'too fast');
$altered = substr($token, 0, 59) . ($token[59] === 'A' ? 'B' : 'A');
$v = $sg->score(['post_id' => 'post-7', 'body' => 'x', 'form_token' => $altered, 'time' => $t0 + 30]);
check($rules($v) === ['SG_FORM_FORGED'], 'forged');
$v = $sg->score(['post_id' => 'post-8', 'body' => 'x', 'form_token' => $token, 'time' => $t0 + 30]);
check($rules($v) === ['SG_FORM_OTHER_POST'], 'another post');
$v = $sg->score($person);  // the second use of the first token
check($v['hits'] === [], 'two uses are allowed');
$v = $sg->score($person);
check($rules($v) === ['SG_FORM_REPLAYED'], 'the third is a replay');
// A blog that does not pass the token field is not held to it.
$v = $sg->score(['body' => 'Thanks for this.', 'post_id' => 'post-7']);
check($v['hits'] === [], 'no form field, no form rules');
// Bytes: a post id with NUL bytes is a post id like any other.
$nul = $sg->formToken("a\0b", $t0);
$v = $sg->score(['post_id' => "a\0b", 'body' => 'x', 'form_token' => $nul, 'time' => $t0 + 30]);
check($v['hits'] === [], 'NUL bytes in the post id');
$v = $sg->score(['post_id' => "a", 'body' => 'x', 'form_token' => $nul, 'time' => $t0 + 30]);
check($v['hits'] !== [], 'and another post id is another post');

$none = new SpamGuard\Engine($cf, ['database' => 'none']);
throws(fn() => $none->formToken('1'), '/form_secret/', 'no secret without a database');
throws(fn() => $sg->formToken('1', -5), '/out of range/', 'a time out of range');
done('forms ok');
?>
--EXPECT--
forms ok
