# SpamGuard junk filter for Movable Type.
#
# Install: copy this folder to MT_HOME/plugins/SpamGuard/ and make the
# SpamGuard Perl module (bindings/perl) available to MT. Optional settings in
# the environment of the MT processes: SPAMGUARD_RULES (rule file),
# SPAMGUARD_DB (database).
#
# MT calls each registered junk filter with the comment or TrackBack ping and
# expects a score between -10 (junk) and +10 (not junk), or ABSTAIN, followed
# by lines for the activity log. This filter maps spamguard's verdict onto
# that scale: distance below the spam threshold is positive, above it
# negative, and every rule that fired becomes a log line.
package MT::Plugin::SpamGuard;

use strict;
use warnings;
use base qw( MT::Plugin );

use MT;
use MT::JunkFilter qw( ABSTAIN );
use SpamGuard;

our $VERSION = '1.0';

my $plugin = MT::Plugin::SpamGuard->new(
    {   id          => 'spamguard',
        key         => 'spamguard',
        name        => 'SpamGuard',
        version     => $VERSION,
        description => 'Scores comments and TrackBacks with spamguard: rate limits, IP reputation, rules.',
        registry    => {
            junk_filters => {
                spamguard => {
                    label => 'SpamGuard',
                    code  => \&junk_score,
                },
            },
        },
    }
);
MT->add_plugin($plugin);

my $engine;

sub engine {
    $engine ||= SpamGuard->new(
        $ENV{SPAMGUARD_RULES} || undef,    # undef: the installation's rules
        ( $ENV{SPAMGUARD_DB} ? ( database => $ENV{SPAMGUARD_DB} ) : () )
    );
    return $engine;
}

# The comment or ping as spamguard sees it.
sub to_comment {
    my ($obj) = @_;
    if ( $obj->isa('MT::TBPing') ) {
        return {
            kind       => 'trackback',
            id         => 'mt-ping-' . ( $obj->id || '' ),
            ip         => $obj->ip,
            blog_name  => $obj->blog_name,
            title      => $obj->title,
            excerpt    => $obj->excerpt,
            source_url => $obj->source_url,
        };
    }
    return {
        kind   => 'comment',
        id     => 'mt-comment-' . ( $obj->id || '' ),
        ip     => $obj->ip,
        author => $obj->author,
        email  => $obj->email,
        url    => $obj->url,
        body   => $obj->text,
    };
}

sub junk_score {
    my ($obj) = @_;
    my $v = eval { engine()->score( to_comment($obj) ) };
    return ( ABSTAIN, $@ ) unless $v;
    return ( ABSTAIN, "SpamGuard: throttled, retry after $v->{retry_after} s" ) if $v->{action} eq 'throttle';
    my $threshold = 5;    # the default rules' required_score
    my $score = $threshold - $v->{score};
    $score = 10  if $score > 10;
    $score = -10 if $score < -10;
    $score = -10 if $v->{action} eq 'discard';
    my @log = ( sprintf( 'SpamGuard: %s (score %.2f)', $v->{action}, $v->{score} ) );
    push @log, map { sprintf( '%+.2f %s: %s [%s]', $_->{points}, $_->{rule}, $_->{description}, $_->{match} ) }
        @{ $v->{hits} };
    return ( $score, @log );
}

1;
