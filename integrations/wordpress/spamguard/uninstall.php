<?php
/**
 * Removes what the plugin stored in WordPress: its settings and the verdicts
 * kept as comment meta. The spamguard database (lists, reputation, what was
 * learned) is spamguard's and stays; `spamguard` on the command line manages it.
 */
if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}
delete_option( 'spamguard_settings' );
delete_option( 'spamguard_problem' );
delete_option( 'spamguard_forms_seen' );
delete_metadata( 'comment', 0, 'spamguard_verdict', '', true );
delete_metadata( 'comment', 0, 'spamguard_learned', '', true );
delete_metadata( 'comment', 0, 'spamguard_forwarded_for', '', true );
