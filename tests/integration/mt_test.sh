#!/bin/bash
# usage: mt_test.sh BUILD_DIR SOURCE_DIR MT_DIR
# The Movable Type plugin inside the real Movable Type 5.2.13 (MT_DIR holds
# run-mt.sh and the tarball): CGI under lighttpd on loopback, SQLite. Posts
# comments and TrackBacks through mt-comments.cgi and mt-tb.cgi and checks
# MT's own rows: spam junked with every rule line in junk_log, a reader's
# comment published, a moderate score held, a flood from one address cut to
# its burst by MT's throttle path, a spam TrackBack junked and a real one
# published, the admin's "junk" teaching the database under the comment's
# id, the form tag's token and honeypot (a bot posting without the form
# junked, a reader with the token published), a missing rule file in MT's
# activity log; with MT's stock filters off, then on.
set -euo pipefail
build=$1 src=$2 mtdir=$3
out=$build/mt-test
rm -rf "$out" && mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=$out/mt
fail=0
check() {  # check DESCRIPTION GOT WANT
  if [ "$2" != "$3" ]; then echo "FAIL: $1: got '$2', want '$3'"; fail=1; else echo "ok: $1"; fi
}
stop() { BASE=$base bash "$mtdir/run-mt.sh" stop >/dev/null 2>&1 || true; }
trap stop EXIT

# The library and the Perl module, staged as an admin would install them.
cmake --install "$build" --prefix "$out/stage" >/dev/null
libdir=$(dirname "$(find "$out/stage" -name 'libspamguard.so.1' | head -1)")
cp -r "$src/bindings/perl" "$out/perl"
(cd "$out/perl" && perl Makefile.PL SPAMGUARD_PREFIX="$out/stage" >/dev/null && make >/dev/null)
db=$out/spamguard.db
# The shipped rules, with an hourly address limit on top of the per-minute
# one, so that a flood's cut does not depend on how fast MT answers.
rules=$out/mt-test.cf
printf 'include %s\nratelimit ip 3/1h burst 3\n' "$src/data/spamguard.cf" > "$rules"

start_mt() {  # start_mt STOCK_FILTERS
  stop
  rm -f "$db"*
  BASE=$base PORT=$port STOCK_FILTERS=$1 PLUGIN_DIR="$src/integrations/movabletype/plugins/SpamGuard" \
    ENV_EXTRA="\"PERL5LIB\" => \"$out/perl/blib/lib:$out/perl/blib/arch\", \"LD_LIBRARY_PATH\" => \"$libdir\", \"SPAMGUARD_RULES\" => \"$rules\", \"SPAMGUARD_DB\" => \"$db\"" \
    bash "$mtdir/run-mt.sh" start > "$out/start-$1.log" 2>&1 || { cat "$out/start-$1.log"; exit 1; }
}
browser='Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0'
armor() { printf '%s' "$base/www/blog/b1/" | sha1sum | cut -d' ' -f1; }
post() {  # post IP USER-AGENT AUTHOR TEXT [URL]: prints the HTTP status
  curl -s -o "$out/last.html" -D "$out/last.hdr" -w '%{http_code}' -H "X-Forwarded-For: $1" -A "$2" \
    --data-urlencode static=1 --data-urlencode entry_id=1 --data-urlencode "armor=$(armor)" \
    --data-urlencode "author=$3" --data-urlencode email=reader@example.org --data-urlencode "url=${5:-}" \
    --data-urlencode "text=$4" --data-urlencode post=Submit "http://127.0.0.1:$port/mt/mt-comments.cgi"
}
ping_tb() {  # ping_tb IP BLOG-NAME TITLE EXCERPT URL
  curl -s -o "$out/last.xml" -w '%{http_code}' -H "X-Forwarded-For: $1" -A 'Movable Type' \
    --data-urlencode "blog_name=$2" --data-urlencode "title=$3" --data-urlencode "excerpt=$4" \
    --data-urlencode "url=$5" "http://127.0.0.1:$port/mt/mt-tb.cgi/1"
}
q() { sqlite3 "$base/data/mt.db" "$1"; }
comment() {  # comment AUTHOR COLUMN: the column of the newest comment by AUTHOR
  q "select $2 from mt_comment where comment_author = '$1' order by comment_id desc limit 1"
}
mt_perl() {  # runs Perl inside MT with the plugin loaded
  (cd "$base/mt" && MT_HOME=$base/mt PERL5LIB="$out/perl/blib/lib:$out/perl/blib/arch" LD_LIBRARY_PATH=$libdir \
    SPAMGUARD_RULES="$rules" SPAMGUARD_DB="$db" \
    perl -X -I"$base/mt/lib" -I"$base/mt/extlib" -e 'use MT::App::CMS; my $app = MT::App::CMS->new(Config => "$ENV{MT_HOME}/mt-config.cgi") or die MT::App::CMS->errstr; '"$1")
}

echo "== MT's stock filters off: spamguard alone"
start_mt 0
# Spam: junked, every rule line in the junk log.
post 198.51.100.10 "$browser" 'Cheap Pills' 'Buy cheap viagra without prescription at http://pills.example.icu/ best price' \
  http://pills.example.icu/ >/dev/null
check "spam comment junked" "$(comment 'Cheap Pills' comment_junk_status)|$(comment 'Cheap Pills' comment_visible)" "-1|0"
log=$(comment 'Cheap Pills' comment_junk_log)
for line in '+3.00 SG_PHARMA_DRUGS (body): Names prescription drugs sold by spam pharmacies [viagra]' \
  '+2.50 SG_PHARMA_NO_RX (body)' 'SpamGuard: Junked'; do
  case "$log" in *"$line"*) echo "ok: junk_log has '$line'" ;; *) echo "FAIL: junk_log lacks '$line': $log"; fail=1 ;; esac
done
# A reader: published.
post 198.51.100.11 "$browser" 'Maria Lopez' 'Thanks, clearing the template cache fixed it for me too.' >/dev/null
check "reader's comment published" "$(comment 'Maria Lopez' comment_junk_status)|$(comment 'Maria Lopez' comment_visible)" "1|1"
# A moderate score (generic praise from a script, 3.00): held.
post 198.51.100.12 'curl/7.88.1' 'Kim' 'Great post, thanks for sharing! Keep up the good work.' >/dev/null
check "moderate comment held" "$(comment 'Kim' comment_junk_status)|$(comment 'Kim' comment_visible)" "1|0"
case "$(comment 'Kim' comment_junk_log)" in *"moderate, score 3.00"*) echo "ok: held with its score" ;;
  *) echo "FAIL: moderate junk_log: $(comment 'Kim' comment_junk_log)"; fail=1 ;; esac
# A flood of ten from one address: the burst (3) published, seven refused
# through MT's throttle path (403, Retry-After, an activity-log line).
codes=""
for i in 1 2 3 4 5 6 7 8 9 10; do codes="$codes $(post 203.0.113.50 "$browser" "Flood $i" "Thanks, step $i fixed it.")"; done
echo "flood: $codes"
check "flood: comments saved" "$(q "select count(*) from mt_comment where comment_ip = '203.0.113.50'")" 3
check "flood: refused with 429" "$(echo "$codes" | tr ' ' '\n' | grep -c '^429$')" 7
grep -q 'Too many comments have been submitted from you' "$out/last.html" && echo "ok: MT's throttle page" ||
  { echo "FAIL: not MT's throttle page"; fail=1; }
grep -qi '^Retry-After: [0-9]' "$out/last.hdr" && echo "ok: Retry-After" || { echo "FAIL: no Retry-After"; fail=1; }
check "flood: activity log" "$(q "select count(*) from mt_log where log_message like 'SpamGuard refused a comment from 203.0.113.50:%may try again in%'")" 7
# TrackBacks: spam junked, a real one published.
ping_tb 192.0.2.60 'Cheap Pills Online' 'viagra' 'Buy cheap viagra without prescription http://pills.example.icu/' \
  http://pills.example.icu/tb >/dev/null
check "spam TrackBack junked" "$(q "select tbping_junk_status || '|' || tbping_visible from mt_tbping where tbping_blog_name = 'Cheap Pills Online'")" "-1|0"
ping_tb 192.0.2.61 'Example Notes' 'Notes on moderation' 'I wrote up how I moderate comments on a small blog.' \
  http://notes.example.org/moderation.html >/dev/null
check "real TrackBack published" "$(q "select tbping_junk_status || '|' || tbping_visible from mt_tbping where tbping_blog_name = 'Example Notes' order by tbping_id desc limit 1")" "1|1"
# Learned under the real ids: the spam comment after its save.
spam_id=$(comment 'Cheap Pills' comment_id)
check "spam learned under its id" "$(sqlite3 "$db" "select label from learned where cid = 'id:mt-comment-$spam_id'")" 1
# The admin marks the reader's published comment as junk (MT's handle_spam,
# as the CMS runs it): the database learns it under that id.
maria=$(comment 'Maria Lopez' comment_id)
mt_perl 'my $c = MT->model("comment")->load('"$maria"'); $c->junk; $c->save; $app->run_callbacks("handle_spam", $app, $c)'
check "admin's junk taught" "$(sqlite3 "$db" "select label from learned where cid = 'id:mt-comment-$maria'")" 1
mt_perl 'my $c = MT->model("comment")->load('"$maria"'); $c->approve; $c->save; $app->run_callbacks("handle_ham", $app, $c);'
check "admin's not-junk moves it" "$(sqlite3 "$db" "select label from learned where cid = 'id:mt-comment-$maria'")" 2
# Comment forms: the tag goes into the blog's comment form and the entry is
# rebuilt; from then on the blog's comments are checked for the token.
check "no token needed before the tag" "$(comment 'Maria Lopez' comment_junk_log | grep -c SG_FORM || true)" 0
mt_perl 'my $t = MT->model("template")->load({ blog_id => 2, identifier => "comments" }) or die "no template";
  my $x = $t->text; $x =~ s{(<input type="hidden" name="sid" value="" />)}{$1\n<\$mt:SpamGuardFormFields\$>} or die "no sid field";
  $t->text($x); $t->save or die $t->errstr;
  MT->instance->rebuild_entry(Entry => MT->model("entry")->load(1), BuildDependencies => 0) or die MT->instance->errstr;'
page=$(find "$base/www/blog/b1" -name 'hello-comments.html' | head -1)
grep -q 'name="spamguard_token" id="spamguard-token-1"' "$page" && echo "ok: the published page has the token field" ||
  { echo "FAIL: no token field in $page"; fail=1; }
grep -q 'name="spamguard_website"' "$page" && echo "ok: and the honeypot" || { echo "FAIL: no honeypot"; fail=1; }
token_url=$(sed -n 's/.*x.open("GET","\([^"]*\)").*/\1/p' "$page")
check "the page's script asks mt-comments.cgi" "$token_url" "http://127.0.0.1:$port/mt/mt-comments.cgi?__mode=spamguard_token&entry_id=1"
# What the script does when a reader opens the page: a fresh token.
token=$(curl -s "$token_url")
shown=$(date +%s.%N)
check "a token from MT" "${#token}" 60
check "no token for an entry that does not exist" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/mt/mt-comments.cgi?__mode=spamguard_token&entry_id=999")" 404
post_form() {  # post_form IP AUTHOR TEXT TOKEN HONEYPOT
  curl -s -o "$out/last.html" -w '%{http_code}' -H "X-Forwarded-For: $1" -A "$browser" \
    --data-urlencode static=1 --data-urlencode entry_id=1 --data-urlencode "armor=$(armor)" \
    --data-urlencode "author=$2" --data-urlencode email=reader@example.org --data-urlencode "text=$3" \
    --data-urlencode "spamguard_token=$4" --data-urlencode "spamguard_website=$5" --data-urlencode post=Submit \
    "http://127.0.0.1:$port/mt/mt-comments.cgi" >/dev/null
}
# A program posting straight to mt-comments.cgi, as before the tag: junked.
post 198.51.100.30 "$browser" 'Form Bot' 'Thanks, the second step fixed it for me.' >/dev/null
check "a bot without the form junked" "$(comment 'Form Bot' comment_junk_status)|$(comment 'Form Bot' comment_visible)" "-1|0"
case "$(comment 'Form Bot' comment_junk_log)" in *"SG_FORM_NO_TOKEN"*) echo "ok: junk log names the missing token" ;;
  *) echo "FAIL: junk log: $(comment 'Form Bot' comment_junk_log)"; fail=1 ;; esac
# One that fills the honeypot and sends the token at once.
post_form 198.51.100.31 'Hasty Bot' 'Thanks, the second step fixed it for me.' "$token" 'http://seo.example/'
check "a hasty bot with the honeypot filled junked" "$(comment 'Hasty Bot' comment_junk_status)" "-1"
# A reader who read the entry for a few seconds: published.
sleep "$(python3 -c "import time; print(max(0, 3.2 - (time.time() - $shown)))")"
post_form 198.51.100.32 'Jo Reader' 'Thanks, the second step fixed it for me.' "$token" ''
check "a reader with the form's token published" "$(comment 'Jo Reader' comment_junk_status)|$(comment 'Jo Reader' comment_visible)" "1|1"

# A missing rule file (set in the plugin's settings): comments keep flowing,
# and MT's activity log says why, once.
mt_perl 'MT->component("spamguard")->set_config_value("spamguard_rules", "/nonexistent/spamguard.cf", "system");'
post 198.51.100.13 "$browser" 'Lee' 'A question about the second step.' >/dev/null
post 198.51.100.14 "$browser" 'Lee2' 'Another question about the second step.' >/dev/null
check "missing rules: comment published" "$(comment 'Lee' comment_visible)" 1
check "missing rules: logged once" "$(q "select count(*) from mt_log where log_message like 'SpamGuard cannot score%/nonexistent/spamguard.cf: cannot open%'")" 1
mt_perl 'MT->component("spamguard")->set_config_value("spamguard_rules", "", "system");'

echo "== MT's stock filters on (SpamLookup, MT's own throttle) beside spamguard"
start_mt 1
post 198.51.100.20 "$browser" 'Cheap Pills' 'Buy cheap viagra without prescription at http://pills.example.icu/ best price' \
  http://pills.example.icu/ >/dev/null
check "stock on: spam junked" "$(comment 'Cheap Pills' comment_junk_status)" "-1"
post 198.51.100.21 "$browser" 'Maria Lopez' 'Thanks, clearing the template cache fixed it for me too.' >/dev/null
check "stock on: reader published" "$(comment 'Maria Lopez' comment_visible)" 1
post 198.51.100.22 'curl/7.88.1' 'Kim' 'Great post, thanks for sharing! Keep up the good work.' >/dev/null
check "stock on: moderate held" "$(comment 'Kim' comment_visible)|$(comment 'Kim' comment_junk_status)" "0|1"

[ "$fail" = 0 ] && echo "movable type: all checks passed"
exit "$fail"
