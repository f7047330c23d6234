use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;
use SpamGuard;

# Signed comment-form tokens and the honeypot, through the binding.
my $cf = "$FindBin::Bin/test.cf";
my $dir = tempdir(CLEANUP => 1);
my $sg = SpamGuard->new($cf, database => "$dir/t.db", ratelimits => 'off');
my $rules = sub { join ' ', map { $_->{rule} } @{ $_[0]->{hits} } };

my $t0 = 1790000000;
my $token = $sg->form_token('post-7', $t0);
like($token, qr/^[A-Za-z0-9_-]{60}$/, 'a token of 60 base64url characters');
my %person = (body => 'Thanks for this.', ip => '192.0.2.1', post_id => 'post-7', time => $t0 + 30,
              form_token => $token, honeypot => '');
my $v = $sg->score(\%person);
is($v->{action}, 'accept', 'a person who read the post is accepted');
is($rules->($v), '', 'with no hits');

$v = $sg->score({ body => 'Great post', ip => '192.0.2.9', post_id => 'post-7', time => $t0 + 30,
                  form_token => '', honeypot => 'http://spam.example/' });
is($v->{action}, 'spam', 'a bot is spam');
is($rules->($v), 'SG_FORM_NO_TOKEN SG_FORM_HONEYPOT', 'for its missing token and the filled honeypot');

$v = $sg->score({ post_id => 'post-7', body => 'x', form_token => $sg->form_token('post-7', $t0), time => $t0 + 1 });
is($rules->($v), 'SG_FORM_TOO_FAST', 'too fast');
$v = $sg->score({ post_id => 'post-8', body => 'x', form_token => $token, time => $t0 + 30 });
is($rules->($v), 'SG_FORM_OTHER_POST', 'another post');
$v = $sg->score(\%person);
is($rules->($v), '', 'a second use is allowed');
$v = $sg->score(\%person);
is($rules->($v), 'SG_FORM_REPLAYED', 'the third is a replay');
$v = $sg->score({ body => 'Thanks for this.', post_id => 'post-7' });
is($rules->($v), '', 'no form field, no form rules');

my $none = SpamGuard->new($cf, database => 'none');
eval { $none->form_token('1') };
like($@, qr/form_secret/, 'no secret without a database');
done_testing();
