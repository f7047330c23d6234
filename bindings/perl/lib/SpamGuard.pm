package SpamGuard;

use strict;
use warnings;
use Carp ();

our $VERSION = '1.00';

require XSLoader;
XSLoader::load('SpamGuard', $VERSION);

sub new {
    my ($class, $cf, %opts) = @_;
    $cf = default_rules() unless defined $cf;
    Carp::croak('SpamGuard->new($cf): the rule file must be a path') if ref $cf;
    return $class->_open($cf, $opts{database}, $opts{ratelimits});
}

1;
__END__

=head1 NAME

SpamGuard - fast, explainable comment, trackback and pingback spam filter

=head1 SYNOPSIS

  use SpamGuard;

  my $sg = SpamGuard->new(undef,    # the installed rules; or a .cf path
                          database => '/var/lib/spamguard/spamguard.db');
  my $v = $sg->score({
      body   => $text,
      author => $name,
      email  => $email,
      url    => $url,
      ip     => $ENV{REMOTE_ADDR},
  });
  if ($v->{action} eq 'throttle') { print "Status: 429\r\nRetry-After: $v->{retry_after}\r\n" }
  for my $h (@{ $v->{hits} }) {
      printf "%+.1f %s %s: %s\n", $h->{points}, $h->{rule}, $h->{description}, $h->{match};
  }
  $sg->learn({ id => $comment_id, ip => $ip }, 'spam');
  $sg->close;

=head1 DESCRIPTION

A thin shim over the spamguard C library (C<spamguard.h>): the same engine,
rules and database as every other binding, with Perl's conventions.

=head1 METHODS

=over 4

=item SpamGuard->new($cf, %options)

Opens an engine on the rule file C<$cf>; C<undef> opens the rules the
installation uses (C<SpamGuard::default_rules()>). Options: C<database> (the SQLite
file; C<none> for content rules only), C<ratelimits> (C<off>, C<memory> or
C<database>, the default). Croaks with the library's message (C<file:line:
reason> for a broken rule file).

=item SpamGuard::default_rules()

The rule file the installation uses when none is named: the admin's
F</etc/spamguard/spamguard.cf> (which includes the shipped rules) if it
exists, else the shipped F<share/spamguard/spamguard.cf>, found relative to
where the library is installed.

=item $sg->state_message

Why the database could not be used (C<""> when it is, or none was wanted).
When it is not empty every verdict carries the C<state_unavailable> flag:
lists, reputation and rate limits were not consulted.

=item $sg->score(\%comment)

Scores a comment and returns a hash reference: C<action> (C<accept>,
C<moderate>, C<spam>, C<discard>, C<throttle>), C<score>, C<retry_after>
(seconds, for C<throttle>), C<flags> (array of C<invalid_utf8>,
C<truncated>, C<bad_ip>, C<no_ip>, C<links_capped>, C<state_unavailable>,
C<via_proxy>)
and C<hits>, an array of hashes with C<rule>, C<points>, C<field>,
C<description> and C<match>.

The comment's keys: C<kind> (C<comment>, C<trackback>, C<pingback>),
C<id>, C<author>, C<email>, C<url>, C<body>, C<ip>, C<user_agent>,
C<referrer>, C<post_id>, C<permalink>, C<blog_name>, C<title>, C<excerpt>,
C<source_url>, C<forwarded_for> (the X-Forwarded-For header, believed only
from a C<trusted_proxy> of the rule file), C<form_token> (the token the
comment form carried back; give it, even as '', when your forms carry
tokens), C<honeypot>, C<time> (unix seconds). Values are passed as bytes, NULs
included. An unknown key or a reference as a value croaks.

=item $sg->explain_ip($address)

An address's standing, in the same shape as C<score>: the allow or block list
entries that hold it, the reputation of the address and its network (with the
spam and ham counts), and its rate limits as they stand. Reads only. Croaks on
a malformed address or without a database.

=item $sg->learn(\%comment, 'spam' | 'ham')

Teaches the engine (reputation, and the content learner's tokens);
idempotent per comment (its C<id>, else its content). Croaks when the
database cannot be written.

=item $sg->forget(\%comment)

Takes back what learning the comment added; returns 1 when it had been
learned, 0 when not. Croaks when the database cannot be written.

=item $sg->form_token($post_id [, $now])

A signed token for the comment form of a post (shown now, or at unix time
C<$now>): put it in the form as a hidden field and pass it back with the
comment as C<form_token> (with C<honeypot>, what the form's hidden
honeypot field held). Croaks when there is no secret to sign with.

=item $sg->close

Closes the engine; using it afterwards croaks.

=back

=head1 THREADS

One object per interpreter thread.

=cut
