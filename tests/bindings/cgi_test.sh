#!/bin/bash
# usage: cgi_test.sh COMMENT_CGI SOURCE_DIR
# Runs the C CGI example under a real web server (lighttpd, loopback only)
# and sends it comments, some of them at once.
set -u
cgi=$1 src=$2
command -v lighttpd >/dev/null || { echo "lighttpd not installed"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -p "$tmp/www"
cp "$cgi" "$tmp/www/comment.cgi"
# The default rules, with an address limit the test can count (per hour:
# what is left must not depend on how long the test takes).
sed 's/^ratelimit ip .*/ratelimit ip 5\/1h burst 5/' "$src/data/spamguard.cf" > "$tmp/rules.cf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/lighttpd.conf" <<CONF
server.document-root = "$tmp/www"
server.bind = "127.0.0.1"
server.port = $port
server.modules = ("mod_cgi", "mod_setenv")
server.errorlog = "$tmp/error.log"
cgi.assign = (".cgi" => "")
setenv.add-environment = ("SPAMGUARD_RULES" => "$tmp/rules.cf", "SPAMGUARD_DB" => "$tmp/blog.db",
                          "SPAMGUARD_SPOOL" => "$tmp/spool.jsonl", "LD_LIBRARY_PATH" => "${LD_LIBRARY_PATH:-}")
CONF
lighttpd -D -f "$tmp/lighttpd.conf" & pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
url="http://127.0.0.1:$port/comment.cgi"
fail=0
expect() {  # expect WHAT CODE CURL-ARGS...
  local what=$1 want=$2; shift 2
  local got
  got=$(curl -s -o "$tmp/out" -D "$tmp/headers" -w '%{http_code}' "$@")
  if [ "$got" != "$want" ]; then echo "FAIL: $what: HTTP $got, expected $want"; cat "$tmp/out"; fail=1; fi
}
# A reader opens the post: the form comes with a signed token.
expect "the comment form" 200 "$url?post_id=7"
token=$(sed -n 's/.*name="spamguard_token" value="\([A-Za-z0-9_-]*\)".*/\1/p' "$tmp/out")
[ ${#token} = 60 ] || { echo "FAIL: no token in the form"; cat "$tmp/out"; fail=1; }
grep -q 'name="spamguard_website"' "$tmp/out" || { echo "FAIL: no honeypot in the form"; fail=1; }
shown=$(date +%s.%N)
# A program posts straight to the handler: no token, at once, every field filled.
expect "a bot without the form" 403 --data-urlencode 'author=Ann Reader' --data-urlencode 'post_id=7' \
  --data-urlencode 'spamguard_website=http://seo.example/' --data-urlencode 'comment=Thanks, step 3 fixed it for me.' "$url"
tail -1 "$tmp/spool.jsonl" | grep -q 'SG_FORM_NO_TOKEN' || { echo "FAIL: the bot's verdict lacks SG_FORM_NO_TOKEN"; fail=1; }
expect "pharmacy spam" 403 --data-urlencode 'author=Cheap Pills' --data-urlencode 'post_id=7' --data-urlencode "spamguard_token=$token" \
  --data-urlencode 'comment=Buy cheap viagra without prescription at our online pharmacy http://pills.example.xyz/' "$url"
expect "a malformed body" 400 --data-binary 'comment=%zz' -H 'Content-Type: application/x-www-form-urlencoded' "$url"
expect "a form without '='" 400 --data-binary 'garbage' -H 'Content-Type: application/x-www-form-urlencoded' "$url"
expect "a PUT" 405 -X PUT "$url"
expect "a JSON body" 415 --data-binary '{}' -H 'Content-Type: application/json' "$url"
# The reader types for a while (more than form_min_seconds) and posts.
sleep "$(python3 -c "import time; print(max(0, 3.2 - (time.time() - $shown)))")"
expect "a reader's comment" 200 --data-urlencode 'author=Ann Reader' --data-urlencode 'post_id=7' \
  --data-urlencode "spamguard_token=$token" --data-urlencode 'spamguard_website=' \
  --data-urlencode 'comment=Thanks, step 3 fixed it for me.' "$url"

# 40 at once from one address (the loopback): the limit lets exactly 2 more
# through (5 allowed, 3 used above that were scored), the rest get 429 and a
# Retry-After.
seq 40 | xargs -P 20 -I{} curl -s -o /dev/null -w '%{http_code}\n' --data-urlencode 'comment=flood {}' "$url" > "$tmp/codes"
ok=$(grep -c -E '^(200|202|403)$' "$tmp/codes"); throttled=$(grep -c '^429$' "$tmp/codes")
if [ "$ok" != 2 ] || [ "$throttled" != 38 ]; then echo "FAIL: concurrent: $ok passed, $throttled throttled (want 2 and 38)"; sort "$tmp/codes" | uniq -c; fail=1; fi
expect "still throttled" 429 --data-urlencode 'comment=one more' "$url"
grep -qi '^Retry-After: [0-9]' "$tmp/headers" || { echo "FAIL: no Retry-After header"; cat "$tmp/headers"; fail=1; }

# Nothing that was scored was lost: the spool has every accepted, held and
# rejected comment (3 + 2), none of the throttled ones.
lines=$(wc -l < "$tmp/spool.jsonl")
[ "$lines" = 5 ] || { echo "FAIL: spool has $lines comments, expected 5"; fail=1; }

# No REMOTE_ADDR (a misconfigured server): still scored and kept, flagged.
form="comment=hello&post_id=7&spamguard_token=$token"
out=$(printf '%s' "$form" | env -i REQUEST_METHOD=POST CONTENT_TYPE=application/x-www-form-urlencoded \
  CONTENT_LENGTH=${#form} SPAMGUARD_RULES="$tmp/rules.cf" SPAMGUARD_DB="$tmp/blog.db" SPAMGUARD_SPOOL="$tmp/spool.jsonl" \
  LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" "$tmp/www/comment.cgi")
echo "$out" | grep -q '^Status: 200' || { echo "FAIL: no REMOTE_ADDR: $out"; fail=1; }
tail -1 "$tmp/spool.jsonl" | grep -q '"no_ip"' || { echo "FAIL: no_ip flag missing"; fail=1; }
[ $fail = 0 ] && echo "cgi under lighttpd: all checks passed"
exit $fail
