--TEST--
SpamGuard\Engine: the installation's rules by default, and a database that cannot be used says why
--EXTENSIONS--
spamguard
--FILE--
<?php
require __DIR__ . '/check.inc';
$default = SpamGuard\Engine::defaultRules();
check(is_string($default) && str_ends_with($default, '/spamguard.cf'), "defaultRules(): $default");
if (is_readable($default)) {
  $sg = new SpamGuard\Engine(null, ['database' => 'none']);
  check($sg->score(['body' => 'Thanks, step 3 fixed it.'])['action'] === 'accept', 'the default rules score');
  check($sg->stateMessage() === '', 'database none is not a problem');
} else {
  throws(fn() => new SpamGuard\Engine(), '/cannot open/', 'missing default rules are an error');
}
// A database in a folder that does not exist: the engine still scores from
// the content rules, every verdict is flagged, and stateMessage says why.
$sg = new SpamGuard\Engine(__DIR__ . '/test.cf', ['database' => '/nonexistent-folder/spamguard.db']);
check(str_contains($sg->stateMessage(), '/nonexistent-folder/spamguard.db'), 'stateMessage: ' . $sg->stateMessage());
$v = $sg->score(['body' => 'Buy cheap viagra online', 'author' => 'Cheap Pills', 'ip' => '192.0.2.1']);
check($v['action'] === 'spam' && in_array('state_unavailable', $v['flags'], true), 'content rules answer, flagged');
done('install: all checks passed');
?>
--EXPECT--
install: all checks passed
