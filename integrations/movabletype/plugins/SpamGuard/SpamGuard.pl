# SpamGuard for Movable Type: scores comments and TrackBacks with spamguard
# and acts on every verdict. Installation: integrations/movabletype/README.md.
#
#   throttle  refused before the comment is made, the way MT refuses its own
#             throttled comments (CommentThrottleFilter / TBPingThrottleFilter),
#             with a Retry-After header and an activity-log line giving the time
#   discard,  junked, whatever MT's other filters vote: the verdict is applied
#   spam      when the new comment is saved (MT averages the filters' scores;
#             the averaged score only decides for the other verdicts)
#   moderate  held for the admin
#   accept    published, unless MT's own settings or another filter hold it
#
# Every hit goes to the comment's junk log. After the comment is saved it has
# its real id: a spam verdict is learned under it, and so is every decision
# the admin takes later (marking as junk / not junk: handle_spam, handle_ham).
#
# Comment forms: the template tag <$mt:SpamGuardFormFields$> (in the entry's
# comment form) prints a hidden token field, a honeypot and a script that
# fills the token from mt-comments.cgi?__mode=spamguard_token when the page
# is shown (MT publishes static pages: a token printed at build time would
# be as old as the page and shared by every reader). Once a blog's templates
# use the tag, its comments are checked for the token: one posted without it
# did not come from the form.
package MT::Plugin::SpamGuard;

use strict;
use warnings;
use base qw( MT::Plugin );

use MT;

our $VERSION = '1.0';

# The Perl module may be missing: the plugin then says so (plugin list and
# activity log) and lets MT decide alone; the comment form keeps working.
my $module_error;
BEGIN { $module_error = eval { require SpamGuard; 1 } ? undef : "$@" }

my $plugin = MT::Plugin::SpamGuard->new(
    {   id          => 'spamguard',
        key         => 'spamguard',
        name        => 'SpamGuard',
        version     => $VERSION,
        author_name => 'spamguard developers',
        description => 'Scores comments and TrackBacks with spamguard (rate limits, lists, reputation, rules) and '
            . 'acts on every verdict.'
            . ( $module_error ? ' NOT ACTIVE: the SpamGuard Perl module did not load: ' . $module_error : '' ),
        system_config_template => 'system_config.tmpl',
        settings               => MT::PluginSettings->new(
            [   [ 'spamguard_rules',    { Default => '', Scope => 'system' } ],
                [ 'spamguard_database', { Default => '', Scope => 'system' } ],
                # Set when the blog's templates first print the form fields.
                [ 'spamguard_forms', { Default => 0, Scope => 'blog' } ],
            ]
        ),
        registry => {
            junk_filters => { spamguard => { label => 'SpamGuard', code => \&junk_score } },
            tags         => { function => { SpamGuardFormFields => \&tag_form_fields } },
            applications => {
                comments => { methods => { spamguard_token => { code => \&app_token, requires_login => 0 } } },
            },
            callbacks    => {
                CommentThrottleFilter    => \&comment_throttle,
                TBPingThrottleFilter     => \&ping_throttle,
                'MT::Comment::pre_save'  => \&pre_save,
                'MT::TBPing::pre_save'   => \&pre_save,
                'MT::Comment::post_save' => \&post_save,
                'MT::TBPing::post_save'  => \&post_save,
                handle_spam              => sub { learn_decision( $_[2], 'spam' ) },
                handle_ham               => sub { learn_decision( $_[2], 'ham' ) },
            },
        },
    }
);
MT->add_plugin($plugin);

# One message in MT's activity log, not one per request: a problem that
# lasts (a missing rule file) is written again only after something else.
sub log_once {
    my ($message) = @_;
    require MT::Log;
    my $last = MT::Log->load( { category => 'spamguard' },
        { sort => 'id', direction => 'descend', limit => 1 } );
    return if $last && $last->message eq $message;
    MT->log( { message => $message, category => 'spamguard', class => 'system', level => MT::Log::WARNING() } );
}

my $engine;

# The engine, opened once per process (per request under CGI). Settings from
# MT's plugin settings, else the environment, else spamguard's defaults.
sub engine {
    return $engine if $engine;
    if ($module_error) {
        log_once("SpamGuard is not active: the SpamGuard Perl module did not load: $module_error");
        return;
    }
    my $rules = $plugin->get_config_value( 'spamguard_rules',    'system' ) || $ENV{SPAMGUARD_RULES} || undef;
    my $db    = $plugin->get_config_value( 'spamguard_database', 'system' ) || $ENV{SPAMGUARD_DB}    || undef;
    $engine = eval { SpamGuard->new( $rules, ( $db ? ( database => $db ) : () ) ) };
    if ( !$engine ) {
        my $err = $@;
        $err =~ s/ at \S+ line \d+\.?\n?\z//;
        log_once("SpamGuard cannot score, comments go on without it: $err");
        return;
    }
    if ( my $why = $engine->state_message ) {
        log_once("SpamGuard: database not used, content rules only (no lists, reputation or rate limits): $why");
    }
    return $engine;
}

# What the posting request's client sent about itself: user agent, referrer.
sub browser_fields {
    return (
        ( $ENV{HTTP_USER_AGENT} ? ( user_agent => $ENV{HTTP_USER_AGENT} ) : () ),
        ( $ENV{HTTP_REFERER}    ? ( referrer   => $ENV{HTTP_REFERER} )    : () ),
    );
}

# The comment as spamguard sees it, from MT's object (or, before the object
# exists, from the request). The address is MT's remote_ip, which follows
# MT's TransparentProxyIPs setting.
sub to_comment {
    my ($obj) = @_;
    # A saved object is being learned from the admin's request: the browser
    # then is the admin's, not the commenter's.
    my %c = (
        ip   => $obj->ip // '',
        time => time,
        $obj->id
        ? ( id => ( $obj->isa('MT::TBPing') ? 'mt-ping-' : 'mt-comment-' ) . $obj->id )
        : browser_fields(),
    );
    if ( $obj->isa('MT::TBPing') ) {
        return {
            %c,
            kind       => 'trackback',
            post_id    => 'mt-blog-' . ( $obj->blog_id // '' ) . '-tb-' . ( $obj->tb_id // '' ),
            blog_name  => $obj->blog_name // '',
            title      => $obj->title // '',
            excerpt    => $obj->excerpt // '',
            source_url => $obj->source_url // '',
        };
    }
    return {
        %c,
        kind    => 'comment',
        post_id => 'mt-blog-' . ( $obj->blog_id // '' ) . '-entry-' . ( $obj->entry_id // '' ),
        author  => $obj->author // '',
        email   => $obj->email // '',
        url     => $obj->url // '',
        body    => $obj->text // '',
    };
}

# The address: MT's remote_ip (its TransparentProxyIPs setting decides);
# when MT does not look behind proxies, the forwarded chain goes to spamguard,
# whose trusted_proxy setting decides whom to believe.
sub request_address {
    my ($app) = @_;
    my %a = ( ip => $app->remote_ip // '' );
    $a{forwarded_for} = $ENV{HTTP_X_FORWARDED_FOR}
        if !$app->config->TransparentProxyIPs && $ENV{HTTP_X_FORWARDED_FOR};
    return %a;
}

sub entry_post_id {
    my ($entry) = @_;
    return 'mt-blog-' . $entry->blog_id . '-entry-' . $entry->id;
}

sub forms_on {
    my ($blog_id) = @_;
    return $plugin->get_config_value( 'spamguard_forms', 'blog:' . $blog_id ) ? 1 : 0;
}

sub request_comment {
    my ( $app, $entry ) = @_;
    return {
        kind    => 'comment',
        request_address($app),
        time    => time,
        post_id => entry_post_id($entry),
        author  => scalar( $app->param('author') ) // '',
        email   => scalar( $app->param('email') ) // '',
        url     => scalar( $app->param('url') ) // '',
        body    => scalar( $app->param('text') ) // '',
        # The blog's forms carry the token: a comment without it was not
        # sent from one.
        forms_on( $entry->blog_id )
        ? ( form_token => scalar( $app->param('spamguard_token') ) // '',
            honeypot   => scalar( $app->param('spamguard_website') ) // '' )
        : (),
        browser_fields(),
    };
}

# <$mt:SpamGuardFormFields$>: the comment form's hidden fields, in an entry
# context. Building it turns the blog's token check on.
sub tag_form_fields {
    my ( $ctx, $args ) = @_;
    my $entry = $ctx->stash('entry')
        or return $ctx->error('<$mt:SpamGuardFormFields$> must be used in an entry context (the comment form)');
    $plugin->set_config_value( 'spamguard_forms', 1, 'blog:' . $entry->blog_id ) unless forms_on( $entry->blog_id );
    my $cfg = MT->config;
    my $url = $cfg->CGIPath;
    $url .= '/' unless $url =~ m{/\z};
    $url .= $cfg->CommentScript . '?__mode=spamguard_token&entry_id=' . $entry->id;
    my $id = 'spamguard-token-' . $entry->id;
    return qq{<input type="hidden" name="spamguard_token" id="$id" value="" />\n}
        . qq{<p class="spamguard-hp" aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">}
        . qq{<label>Leave this field empty <input type="text" name="spamguard_website" value="" tabindex="-1" autocomplete="off" /></label></p>\n}
        . qq{<script type="text/javascript">(function(){var x=new XMLHttpRequest();x.open("GET","$url");}
        . qq{x.onload=function(){if(x.status==200)document.getElementById("$id").value=x.responseText;};x.send();})();</script>\n};
}

# mt-comments.cgi?__mode=spamguard_token&entry_id=N: a fresh token for the
# entry's comment form (what the tag's script asks for), as text.
sub app_token {
    my ($app) = @_;
    $app->{no_print_body} = 0;
    $app->response_content_type('text/plain');
    $app->set_header( 'Cache-Control', 'no-store' );
    my $entry_id = $app->param('entry_id') // '';
    my $entry = $entry_id =~ /^\d+\z/ ? MT->model('entry')->load($entry_id) : undef;
    if ( !$entry || !$entry->allow_comments ) {
        $app->response_code(404);
        return 'no such entry';
    }
    my $e = engine();
    my $token = $e && eval { $e->form_token( entry_post_id($entry) ) };
    if ( !$token ) {
        log_once( 'SpamGuard cannot make form tokens: ' . ( $@ || 'no engine' ) );
        $app->response_code(503);
        return 'no token';
    }
    return $token;
}

sub request_ping {
    my ( $app, $tb ) = @_;
    return {
        kind       => 'trackback',
        request_address($app),
        time       => time,
        post_id    => 'mt-blog-' . ( $tb->blog_id // '' ) . '-tb-' . $tb->id,
        title      => scalar( $app->param('title') ) // '',
        excerpt    => scalar( $app->param('excerpt') ) // '',
        source_url => scalar( $app->param('url') ) // '',
        blog_name  => scalar( $app->param('blog_name') ) // '',
        ( $ENV{HTTP_USER_AGENT} ? ( user_agent => $ENV{HTTP_USER_AGENT} ) : () ),
    };
}

# Scores once per request: the throttle callback scores (charging the rate
# limits once), the junk filter and the save reuse that verdict.
sub verdict_for {
    my ( $app, $comment ) = @_;
    my $cached = $app && $app->request('spamguard_verdict');
    return $cached if $cached;
    my $e = engine() or return;
    my $v = eval { $e->score($comment) };
    if ( !$v ) {
        log_once("SpamGuard could not score a comment: $@");
        return;
    }
    $app->request( 'spamguard_verdict', $v ) if $app;
    return $v;
}

sub refuse_throttled {
    my ( $app, $v, $what ) = @_;
    # MT's own throttle answers 200 under CGI; a client is better told 429.
    $app->response_code(429);
    $app->response_message('Too Many Requests');
    $app->set_header( 'Retry-After', $v->{retry_after} );
    my ($limit) = grep { $_->{rule} =~ /^RATELIMIT/ } @{ $v->{hits} };
    MT->log(
        {   message => "SpamGuard refused a $what from " . ( $app->remote_ip // '?' ) . ': '
                . ( $limit ? "$limit->{description}: $limit->{match}" : 'over a rate limit' )
                . "; the sender may try again in $v->{retry_after} s",
            category => 'spamguard',
            class    => 'system',
            level    => MT::Log::INFO(),
        }
    );
    return 0;
}

sub comment_throttle {
    my ( $cb, $app, $entry ) = @_;
    my $v = verdict_for( $app, request_comment( $app, $entry ) ) or return 1;
    return $v->{action} eq 'throttle' ? refuse_throttled( $app, $v, 'comment' ) : 1;
}

sub ping_throttle {
    my ( $cb, $app, $tb ) = @_;
    my $v = verdict_for( $app, request_ping( $app, $tb ) ) or return 1;
    return $v->{action} eq 'throttle' ? refuse_throttled( $app, $v, 'TrackBack' ) : 1;
}

# Every hit as a line of the junk log: points, rule, field, reason, match.
sub log_lines {
    my ($v) = @_;
    my @log = ( sprintf( '%s, score %.2f', $v->{action}, $v->{score} ) );
    push @log, map { sprintf( '%+.2f %s (%s): %s [%s]', @{$_}{qw(points rule field description match)} ) }
        @{ $v->{hits} };
    push @log, 'state unavailable: lists, reputation and rate limits were not consulted'
        if grep { $_ eq 'state_unavailable' } @{ $v->{flags} };
    return \@log;
}

# MT's junk filter: a score from -10 (junk) to +10, and the log lines. The
# score only matters for verdicts MT may average; spam, discard and moderate
# are applied in pre_save whatever the average says.
sub junk_score {
    my ($obj) = @_;
    my $app = MT->instance;
    my $v = verdict_for( ( $app && $app->can('request') ? $app : undef ), to_comment($obj) );
    require MT::JunkFilter;
    return MT::JunkFilter::ABSTAIN() unless $v;
    my %score = ( discard => -10, spam => -10, moderate => 0 );
    my $score = $score{ $v->{action} } // 10 - $v->{score};
    $score = 10 if $score > 10;
    $score = 1  if $v->{action} eq 'accept' && $score < 1;
    return ( $score, log_lines($v) );
}

# The verdict, applied to the new comment or ping as it is first saved.
sub pre_save {
    my ( $cb, $obj, $original ) = @_;
    return 1 if $obj->id;    # an edit, not a new submission
    my $app = MT->instance;
    return 1 unless $app && $app->can('request');
    my $v = $app->request('spamguard_verdict') or return 1;
    return 1 if $app->request('spamguard_applied');
    $app->request( 'spamguard_applied', $obj );
    my $lines = join "\n", map {"SpamGuard: $_"} @{ log_lines($v) };
    $obj->junk_log($lines) unless ( $obj->junk_log // '' ) =~ /SpamGuard/;
    if ( $v->{action} eq 'spam' || $v->{action} eq 'discard' ) {
        $obj->junk;
        $obj->junk_score(-10);
        $obj->junk_log( $obj->junk_log . "\n---> SpamGuard: Junked ($v->{action})" );
    }
    elsif ( $v->{action} eq 'moderate' && !$obj->is_junk ) {
        $obj->moderate;
        $obj->junk_log( $obj->junk_log . "\n---> SpamGuard: Held for moderation" );
    }
    return 1;
}

# Once saved, the comment has its id: a spam verdict teaches the database
# under it (the admin's later decisions move it, see learn_decision).
sub post_save {
    my ( $cb, $obj, $original ) = @_;
    my $app = MT->instance;
    return 1 unless $app && $app->can('request');
    my $applied = $app->request('spamguard_applied');
    return 1 unless $applied && $applied == $obj;
    $app->request( 'spamguard_applied', 0 );
    my $v = $app->request('spamguard_verdict') or return 1;
    learn( $obj, 'spam' ) if $v->{action} eq 'spam' || $v->{action} eq 'discard';
    return 1;
}

sub learn {
    my ( $obj, $label ) = @_;
    my $e = engine() or return;
    eval { $e->learn( to_comment($obj), $label ); 1 }
        or log_once( "SpamGuard could not learn " . ( $obj->id // '?' ) . " as $label: $@" );
}

# The admin marked a comment or ping as junk or not junk.
sub learn_decision {
    my ( $obj, $label ) = @_;
    return 1 unless $obj && ( $obj->isa('MT::Comment') || $obj->isa('MT::TBPing') );
    learn( $obj, $label );
    return 1;
}

1;
