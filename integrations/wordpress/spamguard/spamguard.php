<?php
/**
 * Plugin Name:       SpamGuard
 * Description:       Fast, local, explainable spam filtering for comments, trackbacks and pingbacks: rate limits, block lists, reputation learned from your own moderation, and readable rules. Every verdict says why.
 * Version:           1.0.0
 * Requires at least: 6.0
 * Requires PHP:      8.0
 * Author:            spamguard developers
 * License:           MIT
 * Text Domain:       spamguard
 * Domain Path:       /languages
 *
 * Needs the spamguard PHP extension (the Debian package php-spamguard, or
 * bindings/php built with phpize). Without it the plugin says so on the
 * admin screens and leaves every comment to WordPress.
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const SPAMGUARD_OPTION = 'spamguard_settings';
const SPAMGUARD_META   = 'spamguard_verdict';

/** The plugin's settings, with their defaults. */
function spamguard_settings() {
	$defaults = array(
		'rules'    => '',        // empty: SPAMGUARD_RULES, else the installation's rules
		'database' => '',        // empty: SPAMGUARD_DB, else the rule file's, else /var/lib/spamguard/spamguard.db
		'discard'  => 'spam',    // what a discard verdict does: spam (kept in the Spam folder) or drop
		'moderate' => 'hold',    // hold, or leave it to WordPress
		'forms'    => 'on',      // on: the comment form carries a signed token and a honeypot; off: no form checks
	);
	$saved = get_option( SPAMGUARD_OPTION, array() );
	return array_merge( $defaults, is_array( $saved ) ? $saved : array() );
}

/** Remembers a problem for the admin screens (once per message). */
function spamguard_problem( $message ) {
	if ( get_option( 'spamguard_problem' ) !== $message ) {
		update_option( 'spamguard_problem', $message, false );
	}
	error_log( 'spamguard: ' . $message );
}

/**
 * The engine, opened once per PHP process (a php-fpm worker keeps it).
 * Null when the extension is missing or the rules do not load: comments then
 * go on as WordPress decides.
 */
function spamguard_engine() {
	static $engine = false;
	if ( false !== $engine ) {
		return $engine;
	}
	$engine = null;
	if ( ! class_exists( 'SpamGuard\Engine' ) ) {
		spamguard_problem( __( 'The spamguard PHP extension is not loaded: comments are not filtered by SpamGuard.', 'spamguard' ) );
		return null;
	}
	$s        = spamguard_settings();
	$rules    = $s['rules'] !== '' ? $s['rules'] : ( getenv( 'SPAMGUARD_RULES' ) ?: null );
	$database = $s['database'] !== '' ? $s['database'] : ( getenv( 'SPAMGUARD_DB' ) ?: '' );
	try {
		$engine = new SpamGuard\Engine( $rules, $database !== '' ? array( 'database' => $database ) : array() );
	} catch ( SpamGuard\Exception $e ) {
		/* translators: %s: the library's message */
		spamguard_problem( sprintf( __( 'SpamGuard cannot score, comments go on without it: %s', 'spamguard' ), $e->getMessage() ) );
		$engine = null;
		return null;
	}
	if ( $engine->stateMessage() !== '' ) {
		/* translators: %s: why the database is not used */
		spamguard_problem( sprintf( __( 'SpamGuard: database not used, content rules only (no lists, reputation or rate limits): %s', 'spamguard' ), $engine->stateMessage() ) );
	}
	return $engine;
}

/**
 * A WordPress comment (as an array of wp_comments columns) as spamguard sees
 * it. WordPress keeps a trackback's blog name and a pingback's title in the
 * author field, and the title and excerpt in the content.
 */
function spamguard_comment( array $c, $id = 0 ) {
	$type = $c['comment_type'] ?? '';
	$out  = array(
		'ip'         => (string) ( $c['comment_author_IP'] ?? '' ),
		'user_agent' => (string) ( $c['comment_agent'] ?? '' ),
		'post_id'    => 'wp-post-' . (int) ( $c['comment_post_ID'] ?? 0 ),
	);
	// Behind a reverse proxy WordPress stores the proxy's address; the
	// forwarded chain (believed only from the rules' trusted_proxy) names the
	// reader. A saved comment keeps the chain it came with: learning from the
	// admin's request must not take the admin's own.
	$forwarded = $id ? get_comment_meta( $id, 'spamguard_forwarded_for', true ) : ( $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '' );
	if ( '' !== (string) $forwarded ) {
		$out['forwarded_for'] = (string) $forwarded;
	}
	if ( ! empty( $_SERVER['HTTP_REFERER'] ) && ! $id ) {
		$out['referrer'] = (string) $_SERVER['HTTP_REFERER'];
	}
	if ( $id ) {
		$out['id'] = 'wp-comment-' . (int) $id;
	}
	if ( ! empty( $c['comment_date_gmt'] ) && '0000-00-00 00:00:00' !== $c['comment_date_gmt'] ) {
		$out['time'] = (int) strtotime( $c['comment_date_gmt'] . ' UTC' );
	}
	$content = (string) ( $c['comment_content'] ?? '' );
	if ( 'trackback' === $type || 'pingback' === $type ) {
		$out['kind']       = $type;
		$out['source_url'] = (string) ( $c['comment_author_url'] ?? '' );
		if ( 'trackback' === $type ) {
			// wp-trackback.php: the blog name in the author field,
			// "<strong>title</strong>\n\nexcerpt" in the content.
			$out['blog_name'] = (string) ( $c['comment_author'] ?? '' );
			if ( preg_match( '#^<strong>(.*?)</strong>\s*(.*)$#s', $content, $m ) ) {
				$out['title']   = $m[1];
				$out['excerpt'] = $m[2];
			} else {
				$out['excerpt'] = $content;
			}
		} else {
			// A pingback: the linking post's title is the author, its
			// excerpt the content, "[…] text […]".
			$out['title']   = (string) ( $c['comment_author'] ?? '' );
			$out['excerpt'] = trim( preg_replace( '/^\s*\[(?:…|&#8230;|\.\.\.)\]\s*|\s*\[(?:…|&#8230;|\.\.\.)\]\s*$/u', '', $content ) );
		}
		return $out;
	}
	$out['kind']   = 'comment';
	if ( ! $id && spamguard_forms_checked() ) {
		// The blog's comment form carries a token: a comment posted to
		// wp-comments-post.php without it was not sent from the form.
		$out['form_token'] = is_string( $_POST['spamguard_token'] ?? null ) ? wp_unslash( $_POST['spamguard_token'] ) : '';
		$out['honeypot']   = is_string( $_POST['spamguard_website'] ?? null ) ? wp_unslash( $_POST['spamguard_website'] ) : '';
	}
	$out['author'] = (string) ( $c['comment_author'] ?? '' );
	$out['email']  = (string) ( $c['comment_author_email'] ?? '' );
	$out['url']    = (string) ( $c['comment_author_url'] ?? '' );
	$out['body']   = $content;
	return $out;
}

/**
 * Whether this request posts the blog's comment form and the form carries
 * spamguard's fields: the setting is on, the theme's form has printed them
 * (comment_form hook; a theme with a form of its own never does), and the
 * comment comes through wp-comments-post.php (not an admin's reply, not the
 * REST API).
 */
function spamguard_forms_checked() {
	return 'on' === spamguard_settings()['forms'] && get_option( 'spamguard_forms_seen' )
		&& 'wp-comments-post.php' === basename( (string) ( $_SERVER['SCRIPT_FILENAME'] ?? '' ) );
}

/**
 * The comment form's hidden fields: a token signed for this post and this
 * moment, and a honeypot people never see (programs fill every field).
 */
function spamguard_form_fields( $post_id ) {
	if ( 'on' !== spamguard_settings()['forms'] ) {
		return;
	}
	$engine = spamguard_engine();
	if ( ! $engine ) {
		return;
	}
	try {
		$token = $engine->formToken( 'wp-post-' . (int) $post_id );
	} catch ( SpamGuard\Exception $e ) {
		spamguard_problem( $e->getMessage() );
		return;
	}
	if ( ! get_option( 'spamguard_forms_seen' ) ) {
		update_option( 'spamguard_forms_seen', time() );
	}
	echo '<input type="hidden" name="spamguard_token" value="' . esc_attr( $token ) . '" />' . "\n";
	echo '<p class="spamguard-hp" aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">'
		. '<label>' . esc_html__( 'Leave this field empty', 'spamguard' )
		. ' <input type="text" name="spamguard_website" value="" tabindex="-1" autocomplete="off" /></label></p>' . "\n";
}
add_action( 'comment_form', 'spamguard_form_fields' );

/** The verdict of the comment being posted in this request. */
function spamguard_current( $verdict = null ) {
	static $current = null;
	if ( null !== $verdict ) {
		$current = $verdict;
	}
	return $current;
}

/**
 * Scores a new comment, trackback or pingback before WordPress checks or
 * saves it: a throttled sender is answered 429 with Retry-After at once.
 */
function spamguard_preprocess( $commentdata ) {
	$engine = spamguard_engine();
	if ( ! $engine ) {
		return $commentdata;
	}
	try {
		$v = $engine->score( spamguard_comment( $commentdata ) );
	} catch ( SpamGuard\Exception $e ) {
		spamguard_problem( $e->getMessage() );
		return $commentdata;
	}
	spamguard_current( $v );
	if ( 'throttle' === $v['action'] ) {
		$msg = sprintf(
			/* translators: %d: seconds */
			__( 'Too many comments from your address in a short time. Please try again in %d seconds.', 'spamguard' ),
			$v['retry_after']
		);
		if ( ! headers_sent() ) {
			header( 'Retry-After: ' . (int) $v['retry_after'] );
		}
		if ( 'trackback' === ( $commentdata['comment_type'] ?? '' ) && function_exists( 'trackback_response' ) ) {
			status_header( 429 );
			trackback_response( 1, $msg );
		}
		wp_die( esc_html( $msg ), esc_html__( 'Comment throttled', 'spamguard' ), array( 'response' => 429, 'back_link' => true ) );
	}
	if ( 'discard' === $v['action'] && 'drop' === spamguard_settings()['discard'] ) {
		wp_die( esc_html__( 'Your comment was refused as spam.', 'spamguard' ), '', array( 'response' => 403 ) );
	}
	return $commentdata;
}
add_filter( 'preprocess_comment', 'spamguard_preprocess', 1 );

/** spam and discard: the Spam folder; moderate: held; accept: WordPress decides. */
function spamguard_approved( $approved, $commentdata ) {
	$v = spamguard_current();
	if ( ! $v || is_wp_error( $approved ) || 'trash' === $approved ) {
		return $approved;
	}
	switch ( $v['action'] ) {
		case 'spam':
		case 'discard':
			return 'spam';
		case 'moderate':
			return ( 'spam' === $approved || 'hold' !== spamguard_settings()['moderate'] ) ? $approved : 0;
	}
	return $approved;
}
add_filter( 'pre_comment_approved', 'spamguard_approved', 99, 2 );

/** Once saved: the verdict as comment meta, and a spam verdict learned under the comment's id. */
function spamguard_saved( $comment_id, $approved, $commentdata ) {
	$v = spamguard_current();
	if ( ! $v ) {
		return;
	}
	if ( ! empty( $_SERVER['HTTP_X_FORWARDED_FOR'] ) ) {
		add_comment_meta( $comment_id, 'spamguard_forwarded_for', wp_slash( (string) $_SERVER['HTTP_X_FORWARDED_FOR'] ), true );
	}
	add_comment_meta( $comment_id, SPAMGUARD_META, wp_slash( wp_json_encode( array(
		'action' => $v['action'],
		'score'  => $v['score'],
		'flags'  => $v['flags'],
		'hits'   => $v['hits'],
		'time'   => time(),
	) ) ), true );
	if ( 'spam' === $v['action'] || 'discard' === $v['action'] ) {
		spamguard_learn( $comment_id, 'spam' );
	}
}
add_action( 'comment_post', 'spamguard_saved', 10, 3 );

/** Teaches the database a comment's label, under its WordPress id. */
function spamguard_learn( $comment_id, $label ) {
	$engine  = spamguard_engine();
	$comment = get_comment( $comment_id, ARRAY_A );
	if ( ! $engine || ! $comment ) {
		return;
	}
	try {
		$engine->learn( spamguard_comment( $comment, $comment_id ), $label );
		add_comment_meta( $comment_id, 'spamguard_learned', $label . ' ' . time() );
	} catch ( SpamGuard\Exception $e ) {
		spamguard_problem( $e->getMessage() );
	}
}

/** The admin's Spam / Not spam (and any other status change to or from spam). */
function spamguard_transition( $new_status, $old_status, $comment ) {
	if ( $new_status === $old_status ) {
		return;
	}
	if ( 'spam' === $new_status ) {
		spamguard_learn( $comment->comment_ID, 'spam' );
	} elseif ( 'spam' === $old_status && in_array( $new_status, array( 'approved', 'unapproved' ), true ) ) {
		spamguard_learn( $comment->comment_ID, 'ham' );
	} elseif ( 'unapproved' === $old_status && 'approved' === $new_status ) {
		spamguard_learn( $comment->comment_ID, 'ham' );
	}
}
add_action( 'transition_comment_status', 'spamguard_transition', 10, 3 );

/* ---------------------------------------------------------------------- */
/* Admin: the verdict column, the settings page, problems.                 */

function spamguard_columns( $columns ) {
	$columns['spamguard'] = esc_html__( 'SpamGuard', 'spamguard' );
	return $columns;
}
add_filter( 'manage_edit-comments_columns', 'spamguard_columns' );

function spamguard_column( $column, $comment_id ) {
	if ( 'spamguard' !== $column ) {
		return;
	}
	$raw = get_comment_meta( $comment_id, SPAMGUARD_META, true );
	$v   = $raw ? json_decode( $raw, true ) : null;
	if ( ! is_array( $v ) ) {
		echo '<span class="spamguard-none">' . esc_html__( 'not scored', 'spamguard' ) . '</span>';
		return;
	}
	printf(
		'<div class="spamguard-verdict" data-action="%1$s" data-score="%2$s"><strong>%1$s</strong> %3$s</div>',
		esc_attr( $v['action'] ),
		esc_attr( number_format( (float) $v['score'], 2, '.', '' ) ),
		/* translators: %s: the score */
		esc_html( sprintf( __( 'score %s', 'spamguard' ), number_format( (float) $v['score'], 2, '.', '' ) ) )
	);
	if ( ! empty( $v['hits'] ) ) {
		echo '<ul class="spamguard-hits">';
		foreach ( $v['hits'] as $h ) {
			printf(
				'<li data-rule="%1$s"><code>%2$s</code> %1$s: %3$s <em>[%4$s]</em></li>',
				esc_attr( $h['rule'] ),
				esc_html( sprintf( '%+.2f', $h['points'] ) ),
				esc_html( $h['description'] ),
				esc_html( mb_substr( (string) $h['match'], 0, 80 ) )
			);
		}
		echo '</ul>';
	}
	$learned = get_comment_meta( $comment_id, 'spamguard_learned' );
	if ( $learned ) {
		$last = explode( ' ', end( $learned ) );
		/* translators: %s: spam or ham */
		echo '<div class="spamguard-learned">' . esc_html( sprintf( __( 'learned as %s', 'spamguard' ), $last[0] ) ) . '</div>';
	}
}
add_action( 'manage_comments_custom_column', 'spamguard_column', 10, 2 );

function spamguard_notices() {
	$problem = get_option( 'spamguard_problem' );
	if ( $problem && current_user_can( 'moderate_comments' ) ) {
		echo '<div class="notice notice-warning spamguard-problem"><p>' . esc_html( $problem ) . '</p></div>';
	}
}
add_action( 'admin_notices', 'spamguard_notices' );

function spamguard_admin_menu() {
	add_options_page( __( 'SpamGuard', 'spamguard' ), __( 'SpamGuard', 'spamguard' ), 'manage_options', 'spamguard', 'spamguard_settings_page' );
}
add_action( 'admin_menu', 'spamguard_admin_menu' );

function spamguard_sanitize( $in ) {
	$in = is_array( $in ) ? $in : array();
	delete_option( 'spamguard_problem' ); // new settings: look again
	return array(
		'rules'    => sanitize_text_field( $in['rules'] ?? '' ),
		'database' => sanitize_text_field( $in['database'] ?? '' ),
		'discard'  => ( $in['discard'] ?? '' ) === 'drop' ? 'drop' : 'spam',
		'moderate' => ( $in['moderate'] ?? '' ) === 'wordpress' ? 'wordpress' : 'hold',
		'forms'    => ( $in['forms'] ?? '' ) === 'off' ? 'off' : 'on',
	);
}

function spamguard_admin_init() {
	register_setting( 'spamguard', SPAMGUARD_OPTION, array( 'sanitize_callback' => 'spamguard_sanitize' ) );
}
add_action( 'admin_init', 'spamguard_admin_init' );

function spamguard_settings_page() {
	$s = spamguard_settings();
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'SpamGuard', 'spamguard' ); ?></h1>
		<form method="post" action="options.php">
			<?php settings_fields( 'spamguard' ); ?>
			<table class="form-table" role="presentation">
				<tr><th scope="row"><label for="spamguard-rules"><?php esc_html_e( 'Rule file', 'spamguard' ); ?></label></th>
					<td><input id="spamguard-rules" class="regular-text" name="<?php echo esc_attr( SPAMGUARD_OPTION ); ?>[rules]" value="<?php echo esc_attr( $s['rules'] ); ?>" />
					<p class="description"><?php esc_html_e( 'Empty: $SPAMGUARD_RULES, else /etc/spamguard/spamguard.cf, else the shipped rules.', 'spamguard' ); ?></p></td></tr>
				<tr><th scope="row"><label for="spamguard-database"><?php esc_html_e( 'Database', 'spamguard' ); ?></label></th>
					<td><input id="spamguard-database" class="regular-text" name="<?php echo esc_attr( SPAMGUARD_OPTION ); ?>[database]" value="<?php echo esc_attr( $s['database'] ); ?>" />
					<p class="description"><?php esc_html_e( 'Empty: $SPAMGUARD_DB, else the rule file\'s database setting, else /var/lib/spamguard/spamguard.db. The web server\'s user must be able to write it.', 'spamguard' ); ?></p></td></tr>
				<tr><th scope="row"><?php esc_html_e( 'Discard verdicts', 'spamguard' ); ?></th>
					<td><select name="<?php echo esc_attr( SPAMGUARD_OPTION ); ?>[discard]">
						<option value="spam" <?php selected( $s['discard'], 'spam' ); ?>><?php esc_html_e( 'Keep in the Spam folder', 'spamguard' ); ?></option>
						<option value="drop" <?php selected( $s['discard'], 'drop' ); ?>><?php esc_html_e( 'Refuse without saving', 'spamguard' ); ?></option>
					</select></td></tr>
				<tr><th scope="row"><?php esc_html_e( 'Moderate verdicts', 'spamguard' ); ?></th>
					<td><select name="<?php echo esc_attr( SPAMGUARD_OPTION ); ?>[moderate]">
						<option value="hold" <?php selected( $s['moderate'], 'hold' ); ?>><?php esc_html_e( 'Hold for moderation', 'spamguard' ); ?></option>
						<option value="wordpress" <?php selected( $s['moderate'], 'wordpress' ); ?>><?php esc_html_e( 'Leave it to WordPress\'s discussion settings', 'spamguard' ); ?></option>
					</select></td></tr>
				<tr><th scope="row"><?php esc_html_e( 'Comment form', 'spamguard' ); ?></th>
					<td><select name="<?php echo esc_attr( SPAMGUARD_OPTION ); ?>[forms]">
						<option value="on" <?php selected( $s['forms'], 'on' ); ?>><?php esc_html_e( 'Sign the form and check every comment for its token and honeypot', 'spamguard' ); ?></option>
						<option value="off" <?php selected( $s['forms'], 'off' ); ?>><?php esc_html_e( 'No form checks', 'spamguard' ); ?></option>
					</select>
					<p class="description"><?php esc_html_e( 'The checks start once your theme\'s comment form has shown the fields (themes that call comment_form()). A page cache shares one token among readers: exclude pages with comment forms from it.', 'spamguard' ); ?></p></td></tr>
			</table>
			<p><?php esc_html_e( 'Throttled senders are refused with HTTP 429 and Retry-After; spam goes to the Spam folder; every verdict and its reasons are shown in the SpamGuard column of the Comments screen. Marking a comment as Spam or Not Spam teaches the filter.', 'spamguard' ); ?></p>
			<?php submit_button(); ?>
		</form>
	</div>
	<?php
}

function spamguard_load_textdomain() {
	load_plugin_textdomain( 'spamguard', false, dirname( plugin_basename( __FILE__ ) ) . '/languages' );
}
add_action( 'init', 'spamguard_load_textdomain' );
