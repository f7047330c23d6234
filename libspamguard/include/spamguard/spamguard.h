/*
 * spamguard.h — the C ABI of spamguard, a comment/trackback/pingback spam
 * filter for blog engines.
 *
 * This header is the only stable interface of the library. If a function is
 * not declared here, it is not part of the published API.
 *
 * Conventions
 *  - Functions are named sg_<noun>_<verb>. Handles are opaque.
 *  - Every fallible function returns an int: SG_OK (0) or a negative SG_E*
 *    status. On failure a readable message is available from
 *    sg_error_message() on the same thread until the next sg_ call.
 *  - Out parameters come first; objects returned through `out` belong to the
 *    caller and are released with their own free function. On failure `*out`
 *    is set to NULL. Every free/close function accepts NULL.
 *  - Untrusted text goes in as (pointer, length) and may contain NUL bytes.
 *    Paths and short identifiers are NUL-terminated UTF-8.
 *  - Borrowed strings returned by getters live until their parent handle is
 *    freed or changed.
 *  - Nothing crosses this interface as a C++ exception.
 *
 * Threading
 *  - sg_engine: immutable after open; sg_engine_score may be called from many
 *    threads at once on one engine.
 *  - sg_config, sg_comment, sg_result: one thread at a time each.
 *  - No global initialisation is needed. The error message is thread-local.
 */
#ifndef SPAMGUARD_H
#define SPAMGUARD_H

#include <stddef.h>
#include <stdint.h>

#include "spamguard/export.h"
#include "spamguard/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes. Pinned: values are only added, never changed or reused.    */

#define SG_OK 0
#define SG_ERROR (-1)     /**< generic failure */
#define SG_EINVAL (-2)    /**< invalid argument (NULL pointer, bad key, ...) */
#define SG_ENOMEM (-3)    /**< out of memory */
#define SG_EIO (-4)       /**< a file could not be read or written */
#define SG_ERULE (-5)     /**< a rule does not compile (bad regex, meta) */
#define SG_EPARSE (-6)    /**< a configuration line does not parse */
#define SG_ENOTFOUND (-7) /**< the named thing does not exist */
#define SG_EBUSY (-8)     /**< a shared resource stayed locked */
#define SG_ELIMIT (-9)    /**< an input exceeds a configured bound */
#define SG_EINTERNAL (-99) /**< a bug in spamguard; please report it */

/* ------------------------------------------------------------------------ */
/* Enumerations. Plain ints with pinned values.                             */

/** Kinds of submission (sg_comment_set_kind). */
#define SG_KIND_COMMENT 1
#define SG_KIND_TRACKBACK 2
#define SG_KIND_PINGBACK 3

/** Actions of a verdict (sg_result_action), in increasing severity. */
#define SG_ACTION_ACCEPT 0   /**< publish */
#define SG_ACTION_MODERATE 1 /**< hold for the admin */
#define SG_ACTION_SPAM 2     /**< file as spam (kept, not published) */
#define SG_ACTION_DISCARD 3  /**< so sure it is spam that it may be dropped */
#define SG_ACTION_THROTTLE 4 /**< over a rate limit; retry after a delay */

/** Fields of a comment (sg_comment_set_field). */
#define SG_FIELD_AUTHOR 1
#define SG_FIELD_EMAIL 2
#define SG_FIELD_URL 3        /**< the author's URL */
#define SG_FIELD_BODY 4       /**< the comment text (HTML, BBCode or plain) */
#define SG_FIELD_IP 5         /**< client address, IPv4 or IPv6 text */
#define SG_FIELD_USER_AGENT 6
#define SG_FIELD_REFERRER 7
#define SG_FIELD_POST_ID 8
#define SG_FIELD_PERMALINK 9
#define SG_FIELD_BLOG_NAME 10  /**< trackback: the sending blog's name */
#define SG_FIELD_TITLE 11      /**< trackback: title of the linking entry */
#define SG_FIELD_EXCERPT 12    /**< trackback: excerpt of the linking entry */
#define SG_FIELD_SOURCE_URL 13 /**< trackback/pingback: the linking entry */
#define SG_FIELD_ID 14         /**< the blog engine's id for the comment */
/** The X-Forwarded-For header as the web server received it ("client,
 *  proxy1, proxy2"). Used only when the peer (SG_FIELD_IP) is one of the
 *  rule file's `trusted_proxy` blocks: the client is then the rightmost
 *  address of the chain that is not a trusted proxy. From any other peer it
 *  is ignored, so a client cannot choose its own address. */
#define SG_FIELD_FORWARDED_FOR 15
/** The signed token the comment form carried (sg_engine_form_token). Setting
 *  this field, even to "", says the blog puts tokens in its forms: a comment
 *  sent without one is then scored by the `check form_no_token` rule. */
#define SG_FIELD_FORM_TOKEN 16
/** What the form's hidden honeypot field held ("" when left empty, as
 *  people leave it); scored by `check form_honeypot`. */
#define SG_FIELD_HONEYPOT 17

/** Flags of a result (sg_result_flags): what normalization noticed. */
#define SG_FLAG_INVALID_UTF8 0x01 /**< invalid bytes replaced by U+FFFD */
#define SG_FLAG_TRUNCATED 0x02    /**< a field exceeded its cap; the rest was not scanned */
#define SG_FLAG_BAD_IP 0x04       /**< the client IP did not parse */
#define SG_FLAG_NO_IP 0x08        /**< no client IP was given */
#define SG_FLAG_LINKS_CAPPED 0x10 /**< more links than max_links; the rest were not scanned */
#define SG_FLAG_STATE_UNAVAILABLE 0x20 /**< the database could not be used: lists and reputation
                                            were skipped, the verdict comes from content rules */
#define SG_FLAG_VIA_PROXY 0x40 /**< the client address came from SG_FIELD_FORWARDED_FOR
                                    (the peer was a trusted proxy) */

/** Labels for sg_engine_learn. */
#define SG_LABEL_SPAM 1
#define SG_LABEL_HAM 2

/** Lists (sg_engine_list_*). */
#define SG_LIST_ALLOW 1
#define SG_LIST_BLOCK 2

/** Kinds of list entry (sg_engine_list_add). */
#define SG_ENTRY_IP 1           /**< an IPv4/IPv6 address or CIDR block */
#define SG_ENTRY_EMAIL 2        /**< an e-mail address */
#define SG_ENTRY_EMAIL_DOMAIN 3 /**< the domain of e-mail addresses (and its subdomains) */
#define SG_ENTRY_URL_DOMAIN 4   /**< the host of author URLs (and its subdomains) */

/** Integer configuration keys (sg_config_set_int). For every key but
 *  SG_CFG_STRICT_RULES, 0 means "the default". */
#define SG_CFG_STRICT_RULES 100   /**< 1 (default): a broken rule refuses the whole file; 0: skip the broken line and record a warning (sg_engine_warning) */
#define SG_CFG_MAX_BODY_BYTES 101 /**< bytes of body scanned (default 65536) */
#define SG_CFG_MAX_FIELD_BYTES 102 /**< bytes of any other field scanned (default 4096) */
#define SG_CFG_MAX_LINKS 103      /**< links extracted per comment (default 100) */
#define SG_CFG_RE2_MAX_MEM 104    /**< RE2 memory budget per field set, bytes (default 32 MiB) */
#define SG_CFG_EAGER_COMPILE 105  /**< 0 (default): sg_engine_open parses and checks every rule (errors
                                       are reported at open) and each field's rules compile when a
                                       comment first needs them, so a request refused by a list or a
                                       rate limit never pays for compiling. 1: compile everything at open,
                                       so that rules over the RE2 memory budget are refused at open too
                                       (otherwise the first sg_engine_score that needs such a set fails
                                       with SG_ERULE, naming the largest pattern, and so does every later
                                       one: such rules are never matched slowly, rule by rule) */
#define SG_CFG_FAIL_CLOSED 106    /**< 1: sg_engine_open fails when the database cannot be used.
                                       0 (default): the engine opens, scores from content rules and
                                       flags each result SG_FLAG_STATE_UNAVAILABLE */
#define SG_CFG_BUSY_TIMEOUT_MS 107 /**< how long a write waits for another process's lock (default
                                        5000; the .cf's busy_timeout_ms) */

#define SG_CFG_RATELIMIT_MODE 108 /**< where rate-limit state lives: SG_RATELIMIT_DATABASE (0,
                                       default: the database, shared by every process; in memory
                                       when there is none), SG_RATELIMIT_MEMORY (this engine only:
                                       replaying a dump's limits on its own timestamps without
                                       touching the database), SG_RATELIMIT_OFF */
#define SG_CFG_READ_ONLY 109 /**< 1: the engine never writes its database: the file is opened
                                  read-only and not created, auto-learning and rate-limit bans are
                                  off, and sg_engine_learn and list changes fail with SG_EIO
                                  (offline rescoring). A file that does not exist yet holds
                                  nothing: the engine has no state (sg_engine_has_state 0, the
                                  message says so) and verdicts are not flagged
                                  SG_FLAG_STATE_UNAVAILABLE. 0 (default): read-write */
#define SG_RATELIMIT_DATABASE 0
#define SG_RATELIMIT_MEMORY 1
#define SG_RATELIMIT_OFF 2

/** String configuration keys (sg_config_set_str). */
#define SG_CFG_DATABASE 200 /**< SQLite file of lists, reputation and learned comments; "none":
                                 no state. Default: the .cf's `database`, else
                                 /var/lib/spamguard/spamguard.db */

/* ------------------------------------------------------------------------ */
/* Opaque handles.                                                          */

/** Settings applied when an engine opens; they override the .cf file. */
typedef struct sg_config sg_config;
/** Compiled rules (and, later, the store). Thread-safe for scoring. */
typedef struct sg_engine sg_engine;
/** One submission being built. One thread at a time. */
typedef struct sg_comment sg_comment;
/** The verdict on one submission, with every hit. One thread at a time. */
typedef struct sg_result sg_result;

/* ------------------------------------------------------------------------ */
/* Version, errors, memory.                                                 */

/** The runtime library's SG_VERSION_NUMBER. Never fails. */
SG_API int sg_version_number(void);
/** The runtime library's version, e.g. "1.0.0". Static storage; never NULL. */
SG_API const char *sg_version_string(void);

/** Static text naming a status code, e.g. "invalid argument". Never NULL. */
SG_API const char *sg_status_str(int status);
/** The message of the last failed sg_ call on this thread, or "" when the
 *  last call succeeded. Valid until the next sg_ call on this thread; copy it
 *  at once. Never NULL. */
SG_API const char *sg_error_message(void);
/** The status of the last sg_ call on this thread (SG_OK after success). */
SG_API int sg_error_code(void);

/** Release memory the library returned as a copy (sg_result_to_json).
 *  Accepts NULL. */
SG_API void sg_free(void *p);

/* ------------------------------------------------------------------------ */
/* Configuration.                                                           */

/** Create a configuration with every key at its default.
 *  @return SG_OK, SG_EINVAL (out is NULL), SG_ENOMEM. */
SG_API int sg_config_new(sg_config **out);
/** Free a configuration. Accepts NULL. Engines opened with it are unaffected. */
SG_API void sg_config_free(sg_config *config);
/** Set an integer key; 0 restores the default (except SG_CFG_STRICT_RULES,
 *  where 0 means lenient).
 *  @return SG_OK, SG_EINVAL (NULL config, unknown key), SG_ELIMIT (value
 *  outside sg_config_param_bounds). */
SG_API int sg_config_set_int(sg_config *config, int key, int64_t value);
/** Read an integer key as set (0 when at its default; SG_CFG_STRICT_RULES
 *  reads 1 by default).
 *  @return SG_OK, SG_EINVAL (NULL argument, unknown key). */
SG_API int sg_config_get_int(int64_t *out, const sg_config *config, int key);
/** Set a string key (SG_CFG_DATABASE) to a copy of `value`; NULL or ""
 *  restores the default.
 *  @return SG_OK, SG_EINVAL (NULL config, unknown key). */
SG_API int sg_config_set_str(sg_config *config, int key, const char *value);
/** The accepted range of a non-zero value for `key`.
 *  @return SG_OK, SG_EINVAL (NULL argument, unknown key). */
SG_API int sg_config_param_bounds(int64_t *lo, int64_t *hi, int key);

/* ------------------------------------------------------------------------ */
/* Engine.                                                                  */

/** Open an engine from a rule file (spamguard .cf syntax; `include` lines
 *  are resolved relative to the including file). A file with any error is
 *  refused as a whole and the message names "file:line: reason".
 *  @param config NULL for defaults; not retained.
 *  @return SG_OK, SG_EINVAL (NULL out/path), SG_EIO (unreadable file),
 *  SG_EPARSE (syntax), SG_ERULE (a rule does not compile), SG_ENOMEM. */
SG_API int sg_engine_open(sg_engine **out, const char *cf_path,
                          const sg_config *config);
/** Open an engine from rule text held in memory. `name` is used in messages
 *  ("name:line: reason") and may be NULL ("<string>"); `include` lines are
 *  resolved relative to the working directory.
 *  @return as sg_engine_open. */
SG_API int sg_engine_open_string(sg_engine **out, const char *cf_text,
                                 size_t cf_len, const char *name,
                                 const sg_config *config);
/** The rule file to open when the caller names none: the admin's
 *  SYSCONFDIR/spamguard/spamguard.cf (/etc/spamguard/spamguard.cf in the
 *  packages; it includes the shipped rules) if it exists, else the shipped
 *  DATADIR/spamguard/spamguard.cf. Both are looked for relative to where
 *  this library is installed first, then where it was configured to go, so
 *  a --prefix or moved install finds its own files; a library in its build
 *  tree gives the source tree's data/spamguard.cf. Reads no environment
 *  variable (SPAMGUARD_RULES is the callers' convention). Static storage;
 *  never NULL; the path may not exist (sg_engine_open then says so). */
SG_API const char *sg_default_rules(void);

/** Close an engine. Accepts NULL. No sg_engine_score call on it may be in
 *  progress. Results it produced stay valid. */
SG_API void sg_engine_close(sg_engine *engine);

/** Number of rules the engine holds (sub-rules named __* included). */
SG_API size_t sg_engine_rule_count(const sg_engine *engine);
/** Name of rule i, or NULL when engine is NULL or i is out of range. */
SG_API const char *sg_engine_rule_name(const sg_engine *engine, size_t i);
/** Field rule i looks at ("body", "uri", "meta", ...), or NULL. */
SG_API const char *sg_engine_rule_field(const sg_engine *engine, size_t i);
/** Description of rule i ("" when it has none), or NULL. */
SG_API const char *sg_engine_rule_description(const sg_engine *engine,
                                              size_t i);
/** Points rule i adds when it hits (0 when engine is NULL / i out of range). */
SG_API double sg_engine_rule_score(const sg_engine *engine, size_t i);
/** Score at which `action` starts (SG_ACTION_MODERATE, _SPAM, _DISCARD);
 *  0 for other actions or a NULL engine. */
SG_API double sg_engine_threshold(const sg_engine *engine, int action);
/** Number of rules skipped with a warning (only with SG_CFG_STRICT_RULES=0). */
SG_API size_t sg_engine_warning_count(const sg_engine *engine);
/** Warning i ("file:line: reason"), or NULL. */
SG_API const char *sg_engine_warning(const sg_engine *engine, size_t i);

/** Score one submission. Thread-safe: many threads may score on one engine.
 *  Never changes `comment`. The pipeline: allow list (accept at once),
 *  block list (spam or discard at once), content rules, IP reputation. A
 *  database error never fails the call: the result is flagged
 *  SG_FLAG_STATE_UNAVAILABLE and comes from the content rules.
 *  @return SG_OK, SG_EINVAL (NULL argument), SG_ENOMEM. */
SG_API int sg_engine_score(sg_result **out, sg_engine *engine,
                           const sg_comment *comment);

/** 1 when the engine has a usable database, else 0 (also for NULL). */
SG_API int sg_engine_has_state(const sg_engine *engine);
/** Why the database could not be used ("" when it is, or none was wanted).
 *  Lives as long as the engine; never NULL. */
SG_API const char *sg_engine_state_message(const sg_engine *engine);

/** Teach the engine that a comment is spam or ham (SG_LABEL_*). Updates the
 *  spam/ham counts of its client address and network, and the content
 *  learner's counts of the comment's tokens (words, word pairs, link hosts
 *  and domains, author words, e-mail domain, shape), which the rule file's
 *  `learned` rules turn into points once learn_min_spam and learn_min_ham
 *  comments have been learned. Idempotent per comment
 *  (its SG_FIELD_ID, else a hash of its content): learning it again with the
 *  same label changes nothing; with the other label, its weight moves.
 *  Thread-safe; safe across processes sharing the database.
 *  @return SG_OK, SG_EINVAL (NULL argument, bad label), SG_EBUSY (the
 *  database stayed locked past the busy timeout), SG_EIO (database
 *  unavailable or read-only), SG_ENOTFOUND (engine opened with database
 *  none). */
SG_API int sg_engine_learn(sg_engine *engine, const sg_comment *comment,
                           int label);

/** Take back what sg_engine_learn added for a comment (found by its
 *  SG_FIELD_ID, else by a hash of its content, as when learned): its
 *  reputation counts, as decayed since, and its tokens. *forgotten (may be
 *  NULL) is set to 1 when the comment had been learned, else 0 (and nothing
 *  changes). Thread-safe; safe across processes sharing the database.
 *  @return SG_OK, SG_EINVAL, SG_EBUSY, SG_EIO, SG_ENOTFOUND (as
 *  sg_engine_learn). */
SG_API int sg_engine_forget(int *forgotten, sg_engine *engine,
                            const sg_comment *comment);

/** For bulk jobs (learning a dump, replaying one with learning): on (1),
 *  the learns, forgets and list changes that follow are grouped into
 *  transactions of up to 256 writes or 100 ms, whichever comes first,
 *  instead of one each -- several times faster. Scores made meanwhile see
 *  the batch's writes. The price: the database's write lock is held for up
 *  to 100 ms at a time (other processes' writes wait, within their busy
 *  timeout), and a crash loses the writes of the open transaction. Off (0)
 *  commits; so does sg_engine_close. A failed write inside a batch is
 *  undone alone.
 *  @return SG_OK, SG_EINVAL, SG_EBUSY, SG_EIO (read-only, or the commit
 *  failed: the writes since the last commit are lost), SG_ENOTFOUND (no
 *  database). */
SG_API int sg_engine_batch(sg_engine *engine, int on);

/** Bytes of a buffer that holds any form token and its NUL. */
#define SG_FORM_TOKEN_SIZE 64

/** A signed token for the comment form of a post, to put in the form as a
 *  hidden field and hand back with the comment as SG_FIELD_FORM_TOKEN. It
 *  is an HMAC-SHA-256 over the post id (post_id_len bytes), the time the
 *  form is shown (`now`, unix seconds; 0 for the clock) and a random nonce,
 *  60 characters of base64url, written NUL-terminated into buf (buf_size at
 *  least SG_FORM_TOKEN_SIZE). Signed with the rule file's form_secret if
 *  it gives one, else with the database's newest secret (made, 32 random
 *  bytes, on the first call). Thread-safe; safe across processes.
 *  @return SG_OK, SG_EINVAL (NULL pointer, small buffer, time out of
 *  range), SG_EIO (no secret to sign with: no database and no form_secret,
 *  or a read-only database that holds none yet), SG_EBUSY. */
SG_API int sg_engine_form_token(const sg_engine *engine, const char *post_id,
                                size_t post_id_len, int64_t now, char *buf,
                                size_t buf_size);

/** Make a new form secret that signs from now on. Tokens signed with the
 *  one before stay valid for their lifetime (the rule file's
 *  form_max_seconds); older secrets are forgotten.
 *  @return SG_OK, SG_EINVAL (the secret is set in the rule file:
 *  form_secret), SG_ENOTFOUND (no database), SG_EIO, SG_EBUSY. */
SG_API int sg_engine_form_rotate(sg_engine *engine);

/** Formats of sg_engine_list_export. */
#define SG_EXPORT_PLAIN 1    /**< one address or CIDR block per line */
#define SG_EXPORT_NFT 2      /**< an `nft -f` script: table inet NAME, interval
                                  sets block4 and block6 with timeouts and a
                                  chain hooked into input (priority filter - 1)
                                  dropping their addresses on `ports`, flushed
                                  and refilled in one transaction */
#define SG_EXPORT_IPSET 3    /**< an `ipset restore` script: hash:net sets NAME4
                                  and NAME6 with timeouts, refilled aside and
                                  swapped in */
#define SG_EXPORT_IPTABLES 4 /**< an `iptables-restore --noflush` (family 4) or
                                  `ip6tables-restore --noflush` (family 6)
                                  table: chain NAME, one DROP per block */
#define SG_EXPORT_HTACCESS 5 /**< Apache 2.4 `Require not ip` lines inside a
                                  RequireAll block */

/** Receives an export in pieces; returns 0 to go on, anything else to stop
 *  it (sg_engine_list_export then fails with SG_EIO). */
typedef int (*sg_write_fn)(void *ctx, const char *data, size_t len);

/** Write the block list's address entries active at `now` (unix seconds,
 *  0 for the clock) -- imported lists, admin entries, rate-limit bans --
 *  for a firewall or a web server, in `format` (SG_EXPORT_*). Nested
 *  entries are merged into disjoint ranges, each kept as long as its
 *  longest-lived entry (nft and ipset elements carry the seconds left).
 *  `name` names the table, sets or chain (NULL: "spamguard"; 1-24 letters,
 *  digits, '-', '_'); `family` is 4, 6 or 0 for both (iptables needs 4 or
 *  6); `ports` (nft) the TCP ports closed to listed addresses, as "80,443"
 *  (NULL: "80,443"; "": all traffic). The entries are read in one transaction (an import running meanwhile
 *  is seen whole or not at all) and streamed: memory does not grow with the
 *  list. *ranges (may be NULL) is set to the ranges or blocks written.
 *  @return SG_OK, SG_EINVAL, SG_EIO (a database error, or `write` stopped
 *  it), SG_EBUSY, SG_ENOTFOUND (no database). */
SG_API int sg_engine_list_export(int64_t *ranges, const sg_engine *engine,
                                 int format, const char *name, int family,
                                 const char *ports, int64_t now,
                                 sg_write_fn write, void *ctx);

/** Add an entry to the allow or block list (SG_LIST_*). `kind` is
 *  SG_ENTRY_*; `entry` is an address or CIDR ("203.0.113.0/24"), an e-mail
 *  address or a domain. `source` (required) names who or what added it;
 *  `reason` may be NULL. `expires` is a unix time after which the entry no
 *  longer matches, 0 for never.
 *  @return SG_OK, SG_EINVAL (NULL argument, malformed entry: the message
 *  says why), SG_EBUSY, SG_EIO, SG_ENOTFOUND (no database). */
SG_API int sg_engine_list_add(sg_engine *engine, int list, int kind,
                              const char *entry, const char *source,
                              const char *reason, int64_t expires);

/** Remove the entries of a list written as `entry` (an address/CIDR, an
 *  e-mail address or a domain); how many went to *removed (may be NULL).
 *  @return SG_OK (also when none matched), SG_EINVAL, SG_EBUSY, SG_EIO,
 *  SG_ENOTFOUND (no database). */
SG_API int sg_engine_list_remove(size_t *removed, sg_engine *engine, int list,
                                 const char *entry);

/** A report of sg_engine_list_import: counts and the first 100 problems. */
typedef struct sg_import_report sg_import_report;

/** Import an address list file into a list, replacing every address entry
 *  of the same `source` atomically (re-importing a source swaps it whole).
 *  Reads one IP or CIDR per line, Spamhaus DROP ("CIDR ; SBLnnn") and its
 *  JSON lines, Stop Forum Spam listed_ip (bare or CSV), FireHOL netsets;
 *  '#' and ';' comments. Malformed lines are counted and reported with their
 *  line numbers; the rest imports. `reason` (may be NULL) is used where a
 *  line has none.
 *  @return SG_OK, SG_EINVAL, SG_EIO (unreadable file, database error),
 *  SG_EBUSY, SG_ENOTFOUND (no database). On failure nothing changed. */
SG_API int sg_engine_list_import(sg_import_report **out, sg_engine *engine,
                                 int list, const char *path,
                                 const char *source, const char *reason,
                                 int64_t expires);
/** Kinds of keyword list (sg_engine_keywords_import). */
#define SG_KEYWORDS_PHRASES 1       /**< WordPress's Disallowed Comment Keys: one phrase per line */
#define SG_KEYWORDS_LINK_PATTERNS 2 /**< MT-Blacklist: one regex of spam domains per line, '#' comments */

/** Import a keyword list, replacing the keyword source `source` whole in
 *  one transaction (an empty file removes it). Phrases match, case folded,
 *  anywhere in the author, e-mail, URL, body, address or user agent, as
 *  WordPress matches its list; link patterns match (case-insensitively) the
 *  comment's links and the author's URL. A comment that holds one gets the
 *  hit LIST_KEYWORD (`keyword_points` in the rule file, 6 by default),
 *  naming the entry and its source. Lines with a NUL byte, longer than
 *  1024 bytes, or patterns RE2 cannot run are reported ("file:line:
 *  reason") and skipped; duplicates are kept once; CRLF, a UTF-8 BOM and
 *  UTF-16 files are read.
 *  @return SG_OK, SG_EINVAL, SG_EIO, SG_EBUSY, SG_ENOTFOUND (no database).
 *  On failure nothing changed. */
SG_API int sg_engine_keywords_import(sg_import_report **out, sg_engine *engine,
                                     int kind, const char *path,
                                     const char *source);
/** Copy everything the engine's database holds -- list entries,
 *  reputation, learned comments and the learner's tokens, rate-limit state,
 *  form secrets, keyword lists -- into `to_database` (an SQLite file, or a
 *  Redis address "redis://host:port/N" / "redis+unix:///path", with the rule
 *  file's redis_* settings), which must hold nothing yet. The report counts
 *  records copied, with one message per kind ("12 list entries").
 *  @return SG_OK, SG_EINVAL (the target holds state already), SG_EIO,
 *  SG_ENOTFOUND (no database). */
SG_API int sg_engine_copy(sg_import_report **out, sg_engine *engine,
                          const char *to_database);
/** Free a report. Accepts NULL. */
SG_API void sg_import_report_free(sg_import_report *report);
/** Entries imported; 0 for NULL. */
SG_API size_t sg_import_report_imported(const sg_import_report *report);
/** Lines skipped as malformed; 0 for NULL. */
SG_API size_t sg_import_report_skipped(const sg_import_report *report);
/** Number of messages kept (at most 100). */
SG_API size_t sg_import_report_message_count(const sg_import_report *report);
/** Message i ("file:line: reason"), or NULL. */
SG_API const char *sg_import_report_message(const sg_import_report *report,
                                            size_t i);

/** An address's standing, explained: the allow or block list entries that
 *  hold it (the allow list wins, as when scoring), the reputation of the
 *  address and of its network, and its address and network rate limits as
 *  they stand ("1 of 3 left"), each as a hit of a result. The result's
 *  action, score and retry-after are what lists, rate limits and reputation
 *  alone decide for a comment from that address now (content aside); hits
 *  with 0 points are information (counts under the minimum evidence, a
 *  block entry the allow list overrides, limit state). Reads only: looking
 *  charges no limit. `now`: unix seconds for expiry and decay, 0 for the clock.
 *  @return SG_OK, SG_EINVAL (NULL argument, `ip` not an IPv4/IPv6 address),
 *  SG_EIO, SG_EBUSY, SG_ENOTFOUND (no database). */
SG_API int sg_engine_explain_ip(sg_result **out, sg_engine *engine,
                                const char *ip, int64_t now);

/** A snapshot of list entries (sg_engine_list_entries). One thread at a
 *  time; strings live until it is freed. */
typedef struct sg_list_entries sg_list_entries;

/** The entries of `list` (SG_LIST_*, or 0 for both) added by `source`
 *  (NULL for any), newest first, at most `limit`. Expired entries are
 *  included (see sg_list_entries_expires).
 *  @return SG_OK, SG_EINVAL, SG_EIO, SG_EBUSY, SG_ENOTFOUND (no database). */
SG_API int sg_engine_list_entries(sg_list_entries **out, sg_engine *engine,
                                  int list, const char *source, size_t limit);
/** Free a snapshot. Accepts NULL. */
SG_API void sg_list_entries_free(sg_list_entries *entries);
/** Number of entries; 0 for NULL. */
SG_API size_t sg_list_entries_count(const sg_list_entries *entries);
/** List of entry i (SG_LIST_*); 0 when out of range. */
SG_API int sg_list_entries_list(const sg_list_entries *entries, size_t i);
/** Kind of entry i (SG_ENTRY_*); 0 when out of range. */
SG_API int sg_list_entries_kind(const sg_list_entries *entries, size_t i);
/** Entry i as written ("203.0.113.0/24", "spam@example.com",
 *  "example.com"), or NULL. */
SG_API const char *sg_list_entries_value(const sg_list_entries *entries,
                                         size_t i);
/** Who or what added entry i, or NULL. */
SG_API const char *sg_list_entries_source(const sg_list_entries *entries,
                                          size_t i);
/** Why ("" when not given), or NULL. */
SG_API const char *sg_list_entries_reason(const sg_list_entries *entries,
                                          size_t i);
/** When entry i was added (unix seconds); 0 when out of range. */
SG_API int64_t sg_list_entries_added(const sg_list_entries *entries, size_t i);
/** When entry i stops matching (unix seconds), 0 for never or out of range. */
SG_API int64_t sg_list_entries_expires(const sg_list_entries *entries,
                                       size_t i);
/** Static name of an entry kind ("ip", "email", "email-domain",
 *  "url-domain"), or "unknown". Never NULL. */
SG_API const char *sg_entry_kind_str(int kind);

/** What the database holds, counted, as one JSON object (UTF-8,
 *  NUL-terminated): {"database":path,"schema_version":n,"file_bytes":n,
 *  "read_only":bool,"lists":[{"list":"allow"|"block","kind":"ip"|...,
 *  "active":n,"expired":n}],"sources":[{"list":..,"source":..,"entries":n}]
 *  (largest 50),"reputation":{"keys":n,"spam":x,"ham":x} (raw counts, before
 *  decay),"learned":{"spam":n,"ham":n},"learner":{"spam":n,"ham":n,
 *  "tokens":n,"max_tokens":n,"min_spam":n,"min_ham":n,"rules":n,
 *  "scoring":bool} (the content learner: comments counted per label, token
 *  rows, its settings, the number of `learned` rules, whether they fire
 *  yet),"ratelimit_keys":n,"ratelimits":
 *  {"file":path,"keys":n,"unavailable":reason|null,"when_unavailable":
 *  "allow"|"throttle"}}. Keys may be
 *  added in later versions. Release *out with sg_free; `len` may be NULL.
 *  @return SG_OK, SG_EINVAL, SG_EIO, SG_EBUSY, SG_ENOTFOUND (no database). */
SG_API int sg_engine_stats(char **out, size_t *len, sg_engine *engine);

/** Forget commenters' old traces (the rule file's `retention_days`, default
 *  365; 0 keeps them): learned comments learned longer ago, reputation of
 *  addresses and networks not updated since, list entries that expired
 *  longer ago; and rate-limit keys whose allowance has been whole for a day
 *  (no limit changes by that). One write transaction. `now` 0: the clock.
 *  Reports what went as JSON: {"retention_days":n,"learned":n,
 *  "reputation":n,"ratelimit":n,"list_entries":n}. Release *out with sg_free;
 *  `out` and `len` may be NULL.
 *  @return SG_OK, SG_EINVAL, SG_EIO (read-only), SG_EBUSY, SG_ENOTFOUND (no
 *  database). */
SG_API int sg_engine_prune(char **out, size_t *len, sg_engine *engine, int64_t now);

/* ------------------------------------------------------------------------ */
/* Comment builder.                                                         */

/** Create an empty comment (kind SG_KIND_COMMENT, no fields, time 0).
 *  @return SG_OK, SG_EINVAL (out is NULL), SG_ENOMEM. */
SG_API int sg_comment_new(sg_comment **out);
/** Free a comment. Accepts NULL. */
SG_API void sg_comment_free(sg_comment *comment);
/** Clear every field so the handle can be reused. Accepts NULL. */
SG_API void sg_comment_reset(sg_comment *comment);
/** Set the kind (SG_KIND_*).
 *  @return SG_OK, SG_EINVAL (NULL comment, unknown kind). */
SG_API int sg_comment_set_kind(sg_comment *comment, int kind);
/** Set a field (SG_FIELD_*) to a copy of `len` bytes at `value`. The bytes
 *  are data: NUL bytes and invalid UTF-8 are kept and handled when scored.
 *  `value` may be NULL only when len is 0 (clears the field). The whole value
 *  is kept; caps apply when scoring.
 *  @return SG_OK, SG_EINVAL (NULL comment, unknown field, NULL value with
 *  len > 0), SG_ENOMEM. */
SG_API int sg_comment_set_field(sg_comment *comment, int field,
                                const char *value, size_t len);
/** The latest time sg_comment_set_time accepts: 9999-12-31 23:59:59 UTC. */
#define SG_TIME_MAX INT64_C(253402300799)
/** Set the submission time, seconds since 1970-01-01 UTC (0: unknown, use
 *  the clock). Rate limits never let a time earlier than one a key has
 *  already seen, or later than the clock, reset their count.
 *  @return SG_OK, SG_EINVAL (NULL comment, a time below 0 or above
 *  SG_TIME_MAX; the comment keeps its previous time). */
SG_API int sg_comment_set_time(sg_comment *comment, int64_t unix_seconds);

/* ------------------------------------------------------------------------ */
/* Result.                                                                  */

/** Free a result. Accepts NULL. */
SG_API void sg_result_free(sg_result *result);
/** The action (SG_ACTION_*); SG_ACTION_ACCEPT for NULL. */
SG_API int sg_result_action(const sg_result *result);
/** The total score; 0 for NULL. */
SG_API double sg_result_score(const sg_result *result);
/** Seconds to wait before retrying (at least 1), for SG_ACTION_THROTTLE;
 *  else 0. A CGI answers 429 with a Retry-After header. */
SG_API int64_t sg_result_retry_after(const sg_result *result);
/** Bitwise OR of SG_FLAG_*; 0 for NULL. */
SG_API int sg_result_flags(const sg_result *result);
/** Number of hits (rules that fired and scored); 0 for NULL. */
SG_API size_t sg_result_hit_count(const sg_result *result);
/** Rule name of hit i, or NULL when out of range. */
SG_API const char *sg_result_hit_name(const sg_result *result, size_t i);
/** Points of hit i; 0 when out of range. */
SG_API double sg_result_hit_points(const sg_result *result, size_t i);
/** Field of hit i ("body", "uri", "meta", "links", "check", ...), or NULL. */
SG_API const char *sg_result_hit_field(const sg_result *result, size_t i);
/** Description of hit i ("" when the rule has none), or NULL. */
SG_API const char *sg_result_hit_description(const sg_result *result,
                                             size_t i);
/** What hit i matched (text for regex rules, e.g. "7 links" for counts).
 *  May contain NUL bytes; its length goes to *len when len is not NULL.
 *  NULL when out of range. A regex rule's match is looked for at the first
 *  call (in the text the result keeps), so a caller that never asks does
 *  not pay for it; valid until the result is freed. */
SG_API const char *sg_result_hit_match(const sg_result *result, size_t i,
                                       size_t *len);
/** The whole verdict as one JSON object (UTF-8, NUL-terminated):
 *  {"action":..,"score":..,"retry_after":..,"flags":[..],"hits":[{"rule":..,
 *  "points":..,"field":..,"description":..,"match":..}]}. Release *out with
 *  sg_free. `len` may be NULL.
 *  @return SG_OK, SG_EINVAL (NULL out/result), SG_ENOMEM. */
SG_API int sg_result_to_json(char **out, size_t *len, const sg_result *result);

/** Static name of an action ("accept", "moderate", "spam", "discard",
 *  "throttle"), or "unknown". Never NULL. */
SG_API const char *sg_action_str(int action);

#ifdef __cplusplus
}
#endif

#endif /* SPAMGUARD_H */
