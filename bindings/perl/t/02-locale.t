# Under a locale with a decimal comma the rules still load and numbers stay
# numbers: the library parses and prints them without the C locale.
use strict;
use warnings;
use Test::More;
use FindBin;
use File::Temp qw(tempdir);
use POSIX qw(setlocale LC_ALL LC_NUMERIC);
use SpamGuard;

setlocale(LC_ALL, 'de_DE.UTF-8') || setlocale(LC_ALL, 'de_DE.utf8')
  or plan skip_all => 'the de_DE.UTF-8 locale is not installed (apt-get install locales; localedef -i de_DE -f UTF-8 de_DE.UTF-8)';
{
    use locale;
    is(sprintf('%.1f', 1.5), '1,5', 'the locale uses a decimal comma');
}
my $dir = tempdir(CLEANUP => 1);
my $sg = SpamGuard->new("$FindBin::Bin/test.cf", database => "$dir/t.db", ratelimits => 'off');
my $v = $sg->score({ body => 'Buy cheap viagra online', author => 'Cheap Pills', ip => '192.0.2.1' });
is($v->{action}, 'spam', 'spam at required_score 5.0');
cmp_ok(abs($v->{score} - 5.5), '<', 1e-9, 'score 3.5 + 0.75 + 1.25');
$sg->learn({ id => "l$_", ip => '203.0.113.9' }, 'spam') for 1 .. 5;
my ($r) = grep { $_->{rule} eq 'REPUTATION_IP_BAD' } @{ $sg->explain_ip('203.0.113.9')->{hits} };
like($r && $r->{match}, qr/5\.0 spam, 0\.0 ham \(half-life 30 days\)/, 'counts written with a point');
done_testing();
