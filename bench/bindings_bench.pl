#!/usr/bin/perl
# Per-call cost of scoring through the Perl module (see bindings_bench.php).
#   perl -Mblib bindings_bench.pl RULES.cf DUMP.jsonl...
use strict;
use warnings;
use JSON::PP;
use Time::HiRes qw(time);
use SpamGuard;
my ($cf, @files) = @ARGV;
my $sg = SpamGuard->new($cf, database => 'none', ratelimits => 'off');
my @comments;
for my $f (@files) {
    open(my $in, '<:raw', $f) or die "$f: $!";
    while (my $l = <$in>) {
        next unless $l =~ /\S/;
        my $r = JSON::PP->new->decode($l);
        push @comments, { (map { exists $r->{$_} ? ($_ => $r->{$_}) : () } qw(id author email url ip user_agent body)), kind => $r->{type} };
    }
}
$sg->score($_) for @comments;    # warm-up
my ($n, $t0) = (0, time);
do { for my $c (@comments) { $sg->score($c); $n++ } } while (time - $t0 < 2);
my $s = time - $t0;
printf "perl: %.2f us per call (%d calls)\n", 1e6 * $s / $n, $n;
