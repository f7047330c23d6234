#!/usr/bin/perl
# Scores a JSON Lines dump through the Perl module and prints one line per
# comment: id, action, score (for comparing bindings).
#   perl -Mblib score_dump.pl RULES.cf DUMP.jsonl
use strict;
use warnings;
use JSON::PP;
use SpamGuard;

my ($cf, $dump) = @ARGV;
my $sg = SpamGuard->new($cf, database => 'none', ratelimits => 'off');
my @keep = qw(id author email url ip user_agent body referrer post_id permalink blog_name title excerpt source_url);
my $json = JSON::PP->new;
open(my $in, '<:raw', $dump) or die "$dump: $!";
while (my $line = <$in>) {
    next unless $line =~ /\S/;
    my $r = $json->decode($line);    # strings stay UTF-8 bytes
    my %c = map { exists $r->{$_} ? ($_ => $r->{$_}) : () } @keep;
    $c{kind} = $r->{type} if defined $r->{type};
    my $v = $sg->score(\%c);
    printf "%s\t%s\t%.3f\n", $r->{id}, $v->{action}, $v->{score};
}
