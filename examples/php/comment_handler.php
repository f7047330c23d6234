<?php
// A blog's comment handler in PHP, with the spamguard extension:
// GET ?post_id=N answers the comment form of post N, with spamguard's signed
// token and a honeypot field; POST author, email, url, comment, post_id,
// spamguard_token, spamguard_website answers 200 accepted, 202 held for
// moderation, 403 rejected, 429 with Retry-After when throttled, 400 for a
// malformed request. Every comment that is not throttled is kept, with its
// verdict, in the spool file: the verdict is advice, the comment stays.
//
// Settings come from the environment: SPAMGUARD_RULES, SPAMGUARD_DB,
// SPAMGUARD_SPOOL.
function spamguard_engine(): SpamGuard\Engine {
  static $engine = null;  // one per PHP-FPM worker when kept in a persistent scope
  // No rule file named: the one the installation uses (SpamGuard\Engine::defaultRules()).
  return $engine ??= new SpamGuard\Engine(getenv('SPAMGUARD_RULES') ?: null,
                                          ['database' => getenv('SPAMGUARD_DB') ?: '/var/lib/spamguard/spamguard.db']);
}

if ($_SERVER['REQUEST_METHOD'] === 'GET') {
  $post = is_string($_GET['post_id'] ?? null) ? $_GET['post_id'] : '1';
  try {
    $token = spamguard_engine()->formToken($post);
  } catch (SpamGuard\Exception $e) {
    error_log('spamguard: no form token: ' . $e->getMessage());
    $token = '';
  }
  header('Content-Type: text/html; charset=utf-8');
  header('Cache-Control: no-store');
  $h = fn($s) => htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
  echo '<form method="post" action="', $h($_SERVER['SCRIPT_NAME']), "\">\n",
       '<input type="hidden" name="post_id" value="', $h($post), "\">\n",
       '<input type="hidden" name="spamguard_token" value="', $h($token), "\">\n",
       '<p aria-hidden="true" style="position:absolute;left:-10000px"><label>Leave this field empty ',
       '<input type="text" name="spamguard_website" value="" tabindex="-1" autocomplete="off"></label></p>', "\n",
       '<p><label>Name <input name="author"></label></p>', "\n", '<p><label>E-mail <input name="email"></label></p>', "\n",
       '<p><label>Web site <input name="url"></label></p>', "\n", '<p><textarea name="comment"></textarea></p>', "\n",
       '<p><button>Post the comment</button></p>', "\n</form>\n";
  exit;
}
header('Content-Type: text/plain; charset=utf-8');
if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
  http_response_code(405);
  header('Allow: GET, POST');
  exit("GET the form, POST a comment\n");
}
foreach (['author', 'email', 'url', 'comment', 'post_id', 'spamguard_token', 'spamguard_website'] as $k) {
  if (isset($_POST[$k]) && !is_string($_POST[$k])) {
    http_response_code(400);
    exit("malformed form\n");
  }
}
$comment = [
  'author' => $_POST['author'] ?? '',
  'email' => $_POST['email'] ?? '',
  'url' => $_POST['url'] ?? '',
  'body' => $_POST['comment'] ?? '',
  'post_id' => $_POST['post_id'] ?? '',
  'ip' => $_SERVER['REMOTE_ADDR'] ?? '',
  // Believed only when REMOTE_ADDR is one of the rules' trusted_proxy blocks.
  'forwarded_for' => $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '',
  'user_agent' => $_SERVER['HTTP_USER_AGENT'] ?? '',
  'referrer' => $_SERVER['HTTP_REFERER'] ?? '',
  // This handler's forms carry a token: one that comes back without it was
  // not sent from the form.
  'form_token' => $_POST['spamguard_token'] ?? '',
  'honeypot' => $_POST['spamguard_website'] ?? '',
];
try {
  $engine = spamguard_engine();
  $verdict = $engine->score($comment);
  // Without its database the filter has no lists, reputation or rate
  // limits: say so where the admin looks, once per request that meets it.
  if (in_array('state_unavailable', $verdict['flags'], true)) {
    if ($engine->stateMessage() !== '') {
      error_log('spamguard: database not used, content rules only: ' . $engine->stateMessage());
    } else {  // the database opened, but a check could not be made (rate limits, the form's token)
      foreach ($verdict['hits'] as $h)
        if (str_ends_with($h['rule'], '_UNCHECKED')) error_log("spamguard: {$h['description']}: {$h['match']}");
    }
  }
} catch (SpamGuard\Exception $e) {
  error_log('spamguard: ' . $e->getMessage());
  $verdict = ['action' => 'moderate', 'score' => 0, 'hits' => [], 'flags' => ['no_verdict']];
}
if ($verdict['action'] === 'throttle') {
  http_response_code(429);
  header('Retry-After: ' . $verdict['retry_after']);
  exit("too many comments; please try again later\n");
}
$spool = getenv('SPAMGUARD_SPOOL');
if ($spool) file_put_contents($spool, json_encode(['verdict' => $verdict, 'comment' => $comment],
                                                  JSON_INVALID_UTF8_SUBSTITUTE) . "\n", FILE_APPEND | LOCK_EX);
switch ($verdict['action']) {
  case 'accept': http_response_code(200); echo "comment accepted\n"; break;
  case 'moderate': http_response_code(202); echo "comment held for moderation\n"; break;
  default: http_response_code(403); echo "comment rejected as spam\n";
}
