#!/usr/bin/perl
# The Movable Type plugin example, loaded into stand-ins for the parts of MT
# it touches (MT->add_plugin, MT::Plugin, MT::JunkFilter), as MT would load
# it; then its junk filter is called on a comment and a TrackBack ping.
#   perl -Mblib mt_plugin_test.pl PLUGIN_FILE RULES.cf
use strict;
use warnings;
use Test::More;

my @registered;
{
    package MT;
    sub add_plugin { push @registered, $_[1] }
    package MT::Plugin;
    sub new { my ( $class, $args ) = @_; return bless {%$args}, $class }
    package MT::JunkFilter;
    use constant ABSTAIN => '__ABSTAIN__';
    sub import { no strict 'refs'; *{ caller() . '::ABSTAIN' } = \&ABSTAIN }
    package MT::Comment;
    package MT::TBPing;
    package Fake::Comment;
    our @ISA = ('MT::Comment');
    sub new { my ( $c, %f ) = @_; bless {%f}, $c }
    sub AUTOLOAD { our $AUTOLOAD; ( my $n = $AUTOLOAD ) =~ s/.*:://; return if $n eq 'DESTROY'; $_[0]{$n} }
    package Fake::Ping;
    our @ISA = ('MT::TBPing', 'Fake::Comment');
}
$INC{$_} = __FILE__ for qw(MT.pm MT/Plugin.pm MT/JunkFilter.pm);

my ( $file, $rules ) = @ARGV;
die "usage: mt_plugin_test.pl PLUGIN_FILE RULES.cf\n" unless $rules;
$ENV{SPAMGUARD_RULES} = $rules;
$ENV{SPAMGUARD_DB}    = 'none';
do $file or die "loading $file: " . ( $@ || $! );

is( scalar @registered, 1, 'the plugin registers itself' );
my $filter = $registered[0]{registry}{junk_filters}{spamguard};
is( $filter->{label}, 'SpamGuard', 'a junk filter with a label' );

my ( $score, @log ) = $filter->{code}->(
    Fake::Comment->new(
        id => 1, ip => '192.0.2.7', author => 'Cheap Pills', email => 'x@example.com', url => '',
        text => 'Buy cheap viagra online without prescription'
    )
);
ok( $score < 0, "spam scores as junk ($score)" ) or diag(join "\n", @log);
like( $log[0], qr/^SpamGuard: (spam|discard)/, 'the log says the verdict' );
ok( ( grep {/SG_PHARMA_DRUGS/} @log ), 'the log names the rules' );

( $score, @log ) = $filter->{code}->(
    Fake::Comment->new( id => 2, ip => '198.51.100.9', author => 'Ann', email => '', url => '',
        text => 'Thanks, the fix in step 3 worked for me.' )
);
ok( $score > 0, "a reader's comment is not junk ($score)" ) or diag(join "\n", @log);

( $score, @log ) = $filter->{code}->(
    Fake::Ping->new( id => 3, ip => '192.0.2.8', blog_name => 'Casino Bonus', title => 'Casino Bonus',
        excerpt => '', source_url => 'http://casino.example.win/' )
);
ok( $score < 0, "a spam TrackBack is junk ($score)" );
done_testing();
