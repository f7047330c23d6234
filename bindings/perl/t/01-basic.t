use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use SpamGuard;

# The tests' own rules (t/test.cf): nothing outside this folder is needed.
my $cf = "$FindBin::Bin/test.cf";
my $dir = tempdir(CLEANUP => 1);

my $sg = SpamGuard->new($cf, database => "$dir/t.db", ratelimits => 'off');
isa_ok($sg, 'SpamGuard');

my $v = $sg->score({ body => "Buy cheap viagra online", ip => '192.0.2.1', author => 'Cheap Pills' });
is($v->{action}, 'spam', 'pharmacy spam is spam');
ok($v->{score} >= 5, 'score at or over the spam threshold');
ok((grep { $_->{rule} eq 'SG_PHARMA_DRUGS' && $_->{match} eq 'viagra' } @{ $v->{hits} }), 'the hit says what matched');
is_deeply($v->{flags}, [], 'no flags');

my $ham = $sg->score({ body => 'Thanks, the fix in step 3 worked for me.', ip => '198.51.100.7' });
is($ham->{action}, 'accept', 'ordinary comment accepted');

# Bytes pass through intact, NULs included.
my $nul = $sg->score({ body => "hello\0viagra\0", ip => '192.0.2.2' });
my ($h) = grep { $_->{rule} eq 'SG_PHARMA_DRUGS' } @{ $nul->{hits} };
is($h->{match}, 'viagra', 'NUL bytes are data');
my $bad = $sg->score({ body => "caf\xC3 \xFF", ip => '999.1.1.1' });
ok((grep { $_ eq 'invalid_utf8' } @{ $bad->{flags} }), 'invalid UTF-8 flagged');
ok((grep { $_ eq 'bad_ip' } @{ $bad->{flags} }), 'bad IP flagged');

# Behind the trusted proxy the client comes from X-Forwarded-For; from
# anyone else the header is ignored.
my $via = $sg->score({ body => 'x', ip => '10.0.0.1', forwarded_for => '198.51.100.9, 10.0.0.2' });
ok((grep { $_ eq 'via_proxy' } @{ $via->{flags} }), 'forwarded_for from a trusted proxy');
my $spoof = $sg->score({ body => 'x', ip => '198.51.100.9', forwarded_for => '10.0.0.5' });
ok(!(grep { $_ eq 'via_proxy' } @{ $spoof->{flags} }), 'forwarded_for from a client is ignored');

# Learning moves reputation.
$sg->learn({ id => "l$_", ip => '203.0.113.9' }, 'spam') for 1 .. 5;
$sg->learn({ id => 'gone', ip => '203.0.113.9' }, 'spam');
is($sg->forget({ id => 'gone' }), 1, 'forget a learned comment');
is($sg->forget({ id => 'gone' }), 0, 'forget it again: not learned');
my $rep = $sg->score({ body => 'hello', ip => '203.0.113.9' });
ok((grep { $_->{rule} eq 'REPUTATION_IP_BAD' } @{ $rep->{hits} }), 'reputation from learning');

# An address explained: its reputation (and list entries, rate limits).
my $why = $sg->explain_ip('203.0.113.9');
my ($r) = grep { $_->{rule} eq 'REPUTATION_IP_BAD' } @{ $why->{hits} };
ok($r && $r->{match} =~ /5\.0 spam, 0\.0 ham/, 'explain_ip: reputation with its counts');
ok($why->{score} > 0, 'explain_ip: score');
eval { $sg->explain_ip('203.0.113.999') };
like($@, qr/not an IPv4 or IPv6 address/, 'explain_ip: malformed address croaks');
eval { $sg->explain_ip("192.0.2.1\0x") };
like($@, qr/NUL byte/, 'explain_ip: NUL byte croaks');

# Errors croak with the library's message; nothing crashes.
eval { $sg->score({ body => [1] }) };
like($@, qr/must be a string/, 'reference value croaks');
eval { $sg->score({ bogus => 'x' }) };
like($@, qr/unknown comment field 'bogus'/, 'unknown key croaks');
eval { $sg->score('not a hash') };
like($@, qr/hash reference/, 'non-hash croaks');
eval { $sg->score({ kind => 'spaceship' }) };
like($@, qr/kind must be/, 'bad kind croaks');
eval { $sg->learn({ id => 'x' }, 'maybe') };
like($@, qr/label must be/, 'bad label croaks');
eval { SpamGuard->new('/nonexistent/spamguard.cf') };
like($@, qr{/nonexistent/spamguard\.cf: cannot open}, 'missing rule file croaks');
eval { SpamGuard->new([]) };
like($@, qr/must be a path/, 'a reference as the rule file croaks');
like(SpamGuard::default_rules(), qr{/spamguard\.cf\z}, 'default_rules: ' . SpamGuard::default_rules());

# A database that cannot be used: content rules answer, flagged, and why.
my $lost = SpamGuard->new($cf, database => '/nonexistent-folder/t.db');
like($lost->state_message, qr{/nonexistent-folder/t\.db}, 'state_message says which file');
my $lv = $lost->score({ body => 'Buy cheap viagra online', author => 'Cheap Pills' });
is($lv->{action}, 'spam', 'content rules still answer');
ok((grep { $_ eq 'state_unavailable' } @{ $lv->{flags} }), 'flagged state_unavailable');

my $none = SpamGuard->new($cf, database => 'none');
eval { $none->learn({ id => 'x', ip => '192.0.2.1' }, 'spam') };
like($@, qr/no database/, 'learning without a database croaks');

$sg->close;
eval { $sg->score({ body => 'x' }) };
like($@, qr/engine is closed/, 'use after close croaks');
$sg->close;    # twice is fine
ok(1, 'closing twice is harmless');

done_testing();
