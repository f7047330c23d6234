#!/bin/bash
# usage: forms_test.sh SPAMGUARD SOURCE_DIR
# Signed comment-form tokens through the command: a token, the verdicts of
# a person and of programs, replays counted across processes sharing one
# database, rotation, and hostile tokens.
set -u
sg=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
source "$src/tests/integration/check.sh"
export SPAMGUARD_RULES=$src/data/spamguard.cf SPAMGUARD_DB=$tmp/forms.db
now=$(date +%s)

check "a token" 0 $sg form token 42 --at $((now - 30))
token=$(cat "$tmp/out")
[ ${#token} = 60 ] || { echo "FAIL: token '$token'"; fail=1; }
check "the secret is private" 0 stat -c %a "$tmp/forms.db"
contains "the secret is private" 600
check "form fields as HTML" 0 $sg form token 42 --html
contains "form fields as HTML" 'name="spamguard_website"'
contains "form fields as HTML" 'type="hidden" name="spamguard_token" value="'

person() { $sg score --ip 192.0.2.10 --post-id 42 --body 'Thanks, step 3 fixed it for me.' "$@"; }
check "a person" 0 person --form-token "$token" --honeypot ''
contains "a person" "comment  accept"
check "no token" 0 person --form-token ''
contains "no token" "SG_FORM_NO_TOKEN"
contains "no token" "comment  spam"
check "the honeypot" 0 person --form-token "$token" --honeypot 'http://seo.example/'
contains "the honeypot" "the hidden field held 'http://seo.example/'"
check "another post" 0 $sg score --post-id 43 --body x --form-token "$token"
contains "another post" "SG_FORM_OTHER_POST"
check "at once" 0 person --form-token "$($sg form token 42)"
contains "at once" "SG_FORM_TOO_FAST"
check "a day and more" 0 person --form-token "$($sg form token 42 --at $((now - 90000)))"
contains "a day and more" "SG_FORM_TOO_OLD"
check "from the future (a clock went back)" 0 person --form-token "$($sg form token 42 --at $((now + 600)))"
contains "from the future (a clock went back)" "a clock went back"
check "no form field: nothing held" 0 person
contains "no form field: nothing held" "comment  accept"

# Hostile tokens: NUL bytes (JSON), 10 KB, not base64, bit flips.
printf '{"body":"x","post_id":"42","form_token":"%s\\u0000"}' "${token:0:59}" | $sg score --stdin > "$tmp/out" 2>&1
contains "a NUL byte" "SG_FORM_MALFORMED"
check "10 KB" 0 person --form-token "$(head -c 10240 /dev/zero | tr '\0' 'A')"
contains "10 KB" "a token of 10240 bytes"
check "not base64url" 0 person --form-token "${token:0:59}="
contains "not base64url" "not base64url at byte 60"
flipped=${token:0:30}$([ "${token:30:1}" = A ] && echo B || echo A)${token:31}
check "one character changed" 0 person --form-token "$flipped"
contains "one character changed" "SG_FORM_FORGED"
big=$(head -c 100000 /dev/zero | tr '\0' 'p')
check "a post id of 100 KB" 0 $sg form token "$big" --at $((now - 30))
check "its token verifies for it" 0 $sg score --post-id "$big" --body 'Thanks, step 3 fixed it.' --form-token "$(cat "$tmp/out")"
contains "its token verifies for it" "comment  accept"

# Replays counted across processes: 8 processes at once send the same
# token; form_max_uses (3) of them pass, the other 5 are replays.
shared=$($sg form token 77 --at $((now - 30)))
for i in 1 2 3 4 5 6 7 8; do
  $sg score --ip 192.0.2.$((20 + i)) --post-id 77 --body 'Thanks, step 3 fixed it.' --form-token "$shared" > "$tmp/p$i" 2>&1 &
done
wait
replays=$(grep -l SG_FORM_REPLAYED "$tmp"/p? | wc -l)
accepted=$(grep -l 'comment  accept' "$tmp"/p? | wc -l)
[ "$replays/$accepted" = 5/3 ] && echo "ok: 8 processes, one token: 3 accepted, 5 replays" ||
  { echo "FAIL: 8 processes, one token: $accepted accepted, $replays replays (want 3 and 5)"; cat "$tmp"/p?; fail=1; }

# Rotation: the old secret's tokens stay valid; a new one signs.
check "rotate" 0 $sg form rotate
contains "rotate" "a new form secret"
check "stats after rotation" 0 $sg stats
contains "stats after rotation" "8 form rules; signed with the database's secret (2 held"
check "the old secret's token after rotation" 0 person --form-token "$($sg form token 42 --at $((now - 30)))"
contains "the old secret's token after rotation" "comment  accept"
printf 'include %s\nform_secret 0123456789abcdef0123\n' "$SPAMGUARD_RULES" > "$tmp/secret.cf"
check "a rule file's secret cannot be rotated here" 1 $sg -r "$tmp/secret.cf" form rotate
contains "a rule file's secret cannot be rotated here" "change it there"
# Without a database, the rule file's secret signs and verifies.
t2=$($sg -r "$tmp/secret.cf" --db none form token 9 --at $((now - 30)))
check "a configured secret, no database" 0 $sg -r "$tmp/secret.cf" --db none score --post-id 9 --body 'Thanks, step 3 fixed it.' --form-token "$t2"
contains "a configured secret, no database" "comment  accept"
check "no database, no secret" 1 $sg --db none form token 9
contains "no database, no secret" "form_secret"

[ $fail = 0 ] && echo "forms: all checks passed"
exit $fail
