/* spamguard for PHP: SpamGuard\Engine over the spamguard C ABI.
 *
 *   $e = new SpamGuard\Engine();  // the installed rules (SpamGuard\Engine::defaultRules()); or a .cf path, options
 *   $v = $e->score(['body' => $text, 'ip' => $_SERVER['REMOTE_ADDR'], 'author' => $name]);
 *   // ['action' => 'spam', 'score' => 7.5, 'retry_after' => 0, 'flags' => [...],
 *   //  'hits' => [['rule' => ..., 'points' => ..., 'field' => ..., 'description' => ..., 'match' => ...], ...]]
 *   $e->learn($comment, 'spam');
 *   $e->forget($comment);           // true when it had been learned
 *   $t = $e->formToken($post_id);   // for the comment form; sent back as 'form_token'
 *   $e->close();
 *
 * Errors are thrown as SpamGuard\Exception with the library's message.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "php.h"
#include "zend_exceptions.h"
#include "ext/standard/info.h"
#include "spamguard/spamguard.h"

static zend_class_entry *sg_engine_ce;
static zend_class_entry *sg_exception_ce;
static zend_object_handlers sg_engine_handlers;

typedef struct {
  sg_engine *engine;
  zend_object std;
} php_sg_engine;

static inline php_sg_engine *sg_from_obj(zend_object *obj) {
  return (php_sg_engine *)((char *)obj - XtOffsetOf(php_sg_engine, std));
}

static zend_object *sg_engine_create(zend_class_entry *ce) {
  php_sg_engine *o = zend_object_alloc(sizeof(php_sg_engine), ce);
  zend_object_std_init(&o->std, ce);
  object_properties_init(&o->std, ce);
  o->std.handlers = &sg_engine_handlers;
  o->engine = NULL;
  return &o->std;
}

static void sg_engine_free_obj(zend_object *obj) {
  php_sg_engine *o = sg_from_obj(obj);
  sg_engine_close(o->engine);
  o->engine = NULL;
  zend_object_std_dtor(obj);
}

static const struct {
  const char *key;
  int field;
} sg_fields[] = {
    {"id", SG_FIELD_ID},           {"author", SG_FIELD_AUTHOR},         {"email", SG_FIELD_EMAIL},
    {"url", SG_FIELD_URL},         {"body", SG_FIELD_BODY},             {"ip", SG_FIELD_IP},
    {"user_agent", SG_FIELD_USER_AGENT}, {"referrer", SG_FIELD_REFERRER}, {"post_id", SG_FIELD_POST_ID},
    {"permalink", SG_FIELD_PERMALINK}, {"blog_name", SG_FIELD_BLOG_NAME}, {"title", SG_FIELD_TITLE},
    {"excerpt", SG_FIELD_EXCERPT}, {"source_url", SG_FIELD_SOURCE_URL}, {"forwarded_for", SG_FIELD_FORWARDED_FOR},
    {"form_token", SG_FIELD_FORM_TOKEN}, {"honeypot", SG_FIELD_HONEYPOT},
};

/* Builds an sg_comment from a PHP array; throws and returns NULL on a bad key or value. */
static sg_comment *sg_comment_from_array(HashTable *ht) {
  sg_comment *c = NULL;
  zend_string *key;
  zval *val;
  if (sg_comment_new(&c) != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), sg_error_code());
    return NULL;
  }
  ZEND_HASH_FOREACH_STR_KEY_VAL(ht, key, val) {
    size_t i;
    int field = 0, rc = SG_OK;
    if (key == NULL) {
      zend_throw_exception(sg_exception_ce, "comment keys must be field names, not numbers", SG_EINVAL);
      sg_comment_free(c);
      return NULL;
    }
    ZVAL_DEREF(val);
    if (zend_string_equals_literal(key, "kind") || zend_string_equals_literal(key, "type")) {
      const char *k = Z_TYPE_P(val) == IS_STRING ? Z_STRVAL_P(val) : "";
      int kind = !strcmp(k, "comment") || !strcmp(k, "") ? SG_KIND_COMMENT
                 : !strcmp(k, "trackback")                ? SG_KIND_TRACKBACK
                 : !strcmp(k, "pingback")                 ? SG_KIND_PINGBACK
                                                          : 0;
      if (Z_TYPE_P(val) != IS_STRING || kind == 0) {
        zend_throw_exception(sg_exception_ce, "kind must be 'comment', 'trackback' or 'pingback'", SG_EINVAL);
        sg_comment_free(c);
        return NULL;
      }
      sg_comment_set_kind(c, kind);
      continue;
    }
    if (zend_string_equals_literal(key, "time")) {
      if (Z_TYPE_P(val) != IS_LONG) {
        zend_throw_exception(sg_exception_ce, "time must be an integer (unix seconds)", SG_EINVAL);
        sg_comment_free(c);
        return NULL;
      }
      sg_comment_set_time(c, (int64_t)Z_LVAL_P(val));
      continue;
    }
    for (i = 0; i < sizeof sg_fields / sizeof sg_fields[0]; ++i)
      if (zend_string_equals_cstr(key, sg_fields[i].key, strlen(sg_fields[i].key))) field = sg_fields[i].field;
    if (field == 0) {
      zend_throw_exception_ex(sg_exception_ce, SG_EINVAL, "unknown comment field '%s'", ZSTR_VAL(key));
      sg_comment_free(c);
      return NULL;
    }
    if (Z_TYPE_P(val) == IS_NULL) continue;
    if (Z_TYPE_P(val) == IS_STRING) {
      rc = sg_comment_set_field(c, field, Z_STRVAL_P(val), Z_STRLEN_P(val));
    } else if (Z_TYPE_P(val) == IS_LONG || Z_TYPE_P(val) == IS_DOUBLE) {
      zend_string *s = zval_get_string(val);
      rc = sg_comment_set_field(c, field, ZSTR_VAL(s), ZSTR_LEN(s));
      zend_string_release(s);
    } else {
      zend_throw_exception_ex(sg_exception_ce, SG_EINVAL, "comment field '%s' must be a string", ZSTR_VAL(key));
      sg_comment_free(c);
      return NULL;
    }
    if (rc != SG_OK) {
      zend_throw_exception(sg_exception_ce, sg_error_message(), rc);
      sg_comment_free(c);
      return NULL;
    }
  }
  ZEND_HASH_FOREACH_END();
  return c;
}

static php_sg_engine *sg_this_open(zval *this_ptr) {
  php_sg_engine *o = sg_from_obj(Z_OBJ_P(this_ptr));
  if (o->engine == NULL) zend_throw_exception(sg_exception_ce, "engine is closed", SG_EINVAL);
  return o->engine ? o : NULL;
}

PHP_METHOD(SpamGuard_Engine, __construct) {
  char *cf = NULL;
  size_t cf_len = 0;
  HashTable *opts = NULL;
  php_sg_engine *o = sg_from_obj(Z_OBJ_P(ZEND_THIS));
  sg_config *cfg = NULL;
  zval *v;
  int rc;
  ZEND_PARSE_PARAMETERS_START(0, 2)
    Z_PARAM_OPTIONAL
    Z_PARAM_PATH_OR_NULL(cf, cf_len)
    Z_PARAM_ARRAY_HT(opts)
  ZEND_PARSE_PARAMETERS_END();
  if (o->engine) {
    zend_throw_exception(sg_exception_ce, "engine already open", SG_EINVAL);
    RETURN_THROWS();
  }
  sg_config_new(&cfg);
  if (opts && (v = zend_hash_str_find(opts, "database", sizeof("database") - 1)) && Z_TYPE_P(v) == IS_STRING)
    sg_config_set_str(cfg, SG_CFG_DATABASE, Z_STRVAL_P(v));
  if (opts && (v = zend_hash_str_find(opts, "ratelimits", sizeof("ratelimits") - 1)) && Z_TYPE_P(v) == IS_STRING)
    sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE,
                      !strcmp(Z_STRVAL_P(v), "off") ? SG_RATELIMIT_OFF
                      : !strcmp(Z_STRVAL_P(v), "memory") ? SG_RATELIMIT_MEMORY : SG_RATELIMIT_DATABASE);
  /* No rule file named: the one the installation uses. */
  rc = sg_engine_open(&o->engine, cf ? cf : sg_default_rules(), cfg);
  sg_config_free(cfg);
  if (rc != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), rc);
    RETURN_THROWS();
  }
}

/* A verdict as a PHP array: action, score, retry_after, flags, hits. */
static void sg_result_to_zval(const sg_result *r, zval *out) {
  size_t i;
  zval hits, flags;
  int f = sg_result_flags(r);
  array_init(out);
  add_assoc_string(out, "action", (char *)sg_action_str(sg_result_action(r)));
  add_assoc_double(out, "score", sg_result_score(r));
  add_assoc_long(out, "retry_after", (zend_long)sg_result_retry_after(r));
  array_init(&flags);
  if (f & SG_FLAG_INVALID_UTF8) add_next_index_string(&flags, "invalid_utf8");
  if (f & SG_FLAG_TRUNCATED) add_next_index_string(&flags, "truncated");
  if (f & SG_FLAG_BAD_IP) add_next_index_string(&flags, "bad_ip");
  if (f & SG_FLAG_NO_IP) add_next_index_string(&flags, "no_ip");
  if (f & SG_FLAG_LINKS_CAPPED) add_next_index_string(&flags, "links_capped");
  if (f & SG_FLAG_STATE_UNAVAILABLE) add_next_index_string(&flags, "state_unavailable");
  if (f & SG_FLAG_VIA_PROXY) add_next_index_string(&flags, "via_proxy");
  add_assoc_zval(out, "flags", &flags);
  array_init(&hits);
  for (i = 0; i < sg_result_hit_count(r); ++i) {
    zval h;
    size_t len = 0;
    const char *m = sg_result_hit_match(r, i, &len);
    array_init(&h);
    add_assoc_string(&h, "rule", (char *)sg_result_hit_name(r, i));
    add_assoc_double(&h, "points", sg_result_hit_points(r, i));
    add_assoc_string(&h, "field", (char *)sg_result_hit_field(r, i));
    add_assoc_string(&h, "description", (char *)sg_result_hit_description(r, i));
    add_assoc_stringl(&h, "match", (char *)m, len);
    add_next_index_zval(&hits, &h);
  }
  add_assoc_zval(out, "hits", &hits);
}

PHP_METHOD(SpamGuard_Engine, score) {
  HashTable *ht;
  php_sg_engine *o;
  sg_comment *c;
  sg_result *r = NULL;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_ARRAY_HT(ht)
  ZEND_PARSE_PARAMETERS_END();
  if (!(o = sg_this_open(ZEND_THIS))) RETURN_THROWS();
  if (!(c = sg_comment_from_array(ht))) RETURN_THROWS();
  if (sg_engine_score(&r, o->engine, c) != SG_OK) {
    sg_comment_free(c);
    zend_throw_exception(sg_exception_ce, sg_error_message(), sg_error_code());
    RETURN_THROWS();
  }
  sg_comment_free(c);
  sg_result_to_zval(r, return_value);
  sg_result_free(r);
}

/* An address's list entries, reputation and rate limits, as a verdict. */
PHP_METHOD(SpamGuard_Engine, explainIp) {
  zend_string *ip;
  php_sg_engine *o;
  sg_result *r = NULL;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_STR(ip)
  ZEND_PARSE_PARAMETERS_END();
  if (!(o = sg_this_open(ZEND_THIS))) RETURN_THROWS();
  if (memchr(ZSTR_VAL(ip), '\0', ZSTR_LEN(ip)) != NULL) {
    zend_throw_exception(sg_exception_ce, "the address contains a NUL byte", SG_EINVAL);
    RETURN_THROWS();
  }
  if (sg_engine_explain_ip(&r, o->engine, ZSTR_VAL(ip), 0) != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), sg_error_code());
    RETURN_THROWS();
  }
  sg_result_to_zval(r, return_value);
  sg_result_free(r);
}

PHP_METHOD(SpamGuard_Engine, learn) {
  HashTable *ht;
  zend_string *label;
  php_sg_engine *o;
  sg_comment *c;
  int l, rc;
  ZEND_PARSE_PARAMETERS_START(2, 2)
    Z_PARAM_ARRAY_HT(ht)
    Z_PARAM_STR(label)
  ZEND_PARSE_PARAMETERS_END();
  l = zend_string_equals_literal(label, "spam") ? SG_LABEL_SPAM : zend_string_equals_literal(label, "ham") ? SG_LABEL_HAM : 0;
  if (l == 0) {
    zend_throw_exception(sg_exception_ce, "label must be 'spam' or 'ham'", SG_EINVAL);
    RETURN_THROWS();
  }
  if (!(o = sg_this_open(ZEND_THIS))) RETURN_THROWS();
  if (!(c = sg_comment_from_array(ht))) RETURN_THROWS();
  rc = sg_engine_learn(o->engine, c, l);
  sg_comment_free(c);
  if (rc != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), rc);
    RETURN_THROWS();
  }
}

/* Takes back what learning the comment added; true when it had been learned. */
PHP_METHOD(SpamGuard_Engine, forget) {
  HashTable *ht;
  php_sg_engine *o;
  sg_comment *c;
  int forgotten = 0, rc;
  ZEND_PARSE_PARAMETERS_START(1, 1)
    Z_PARAM_ARRAY_HT(ht)
  ZEND_PARSE_PARAMETERS_END();
  if (!(o = sg_this_open(ZEND_THIS))) RETURN_THROWS();
  if (!(c = sg_comment_from_array(ht))) RETURN_THROWS();
  rc = sg_engine_forget(&forgotten, o->engine, c);
  sg_comment_free(c);
  if (rc != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), rc);
    RETURN_THROWS();
  }
  RETURN_BOOL(forgotten);
}

/* A signed token for the comment form of a post (shown now, or at $now). */
PHP_METHOD(SpamGuard_Engine, formToken) {
  zend_string *post;
  zend_long now = 0;
  php_sg_engine *o;
  char token[SG_FORM_TOKEN_SIZE];
  ZEND_PARSE_PARAMETERS_START(1, 2)
    Z_PARAM_STR(post)
    Z_PARAM_OPTIONAL
    Z_PARAM_LONG(now)
  ZEND_PARSE_PARAMETERS_END();
  if (!(o = sg_this_open(ZEND_THIS))) RETURN_THROWS();
  if (sg_engine_form_token(o->engine, ZSTR_VAL(post), ZSTR_LEN(post), (int64_t)now, token, sizeof token) != SG_OK) {
    zend_throw_exception(sg_exception_ce, sg_error_message(), sg_error_code());
    RETURN_THROWS();
  }
  RETURN_STRING(token);
}

/* Why the database could not be used ("" when it is, or none was wanted). */
PHP_METHOD(SpamGuard_Engine, stateMessage) {
  php_sg_engine *o;
  ZEND_PARSE_PARAMETERS_NONE();
  if ((o = sg_this_open(ZEND_THIS)) == NULL) RETURN_THROWS();
  RETURN_STRING(sg_engine_state_message(o->engine));
}

/* The rule file the installation uses when none is named. */
PHP_METHOD(SpamGuard_Engine, defaultRules) {
  ZEND_PARSE_PARAMETERS_NONE();
  RETURN_STRING(sg_default_rules());
}

PHP_METHOD(SpamGuard_Engine, close) {
  php_sg_engine *o = sg_from_obj(Z_OBJ_P(ZEND_THIS));
  ZEND_PARSE_PARAMETERS_NONE();
  sg_engine_close(o->engine);
  o->engine = NULL;
}

ZEND_BEGIN_ARG_INFO_EX(arginfo_construct, 0, 0, 0)
  ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, cf, IS_STRING, 1, "null")
  ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_score, 0, 1, IS_ARRAY, 0)
  ZEND_ARG_TYPE_INFO(0, comment, IS_ARRAY, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_explain_ip, 0, 1, IS_ARRAY, 0)
  ZEND_ARG_TYPE_INFO(0, ip, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_learn, 0, 2, IS_VOID, 0)
  ZEND_ARG_TYPE_INFO(0, comment, IS_ARRAY, 0)
  ZEND_ARG_TYPE_INFO(0, label, IS_STRING, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_forget, 0, 1, _IS_BOOL, 0)
  ZEND_ARG_TYPE_INFO(0, comment, IS_ARRAY, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_form_token, 0, 1, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, post_id, IS_STRING, 0)
  ZEND_ARG_TYPE_INFO(0, now, IS_LONG, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_close, 0, 0, IS_VOID, 0)
ZEND_END_ARG_INFO()
ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_string, 0, 0, IS_STRING, 0)
ZEND_END_ARG_INFO()

static const zend_function_entry sg_engine_methods[] = {
    PHP_ME(SpamGuard_Engine, __construct, arginfo_construct, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, score, arginfo_score, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, explainIp, arginfo_explain_ip, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, learn, arginfo_learn, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, forget, arginfo_forget, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, formToken, arginfo_form_token, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, close, arginfo_close, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, stateMessage, arginfo_string, ZEND_ACC_PUBLIC)
    PHP_ME(SpamGuard_Engine, defaultRules, arginfo_string, ZEND_ACC_PUBLIC | ZEND_ACC_STATIC)
    PHP_FE_END};

PHP_MINIT_FUNCTION(spamguard) {
  zend_class_entry ce;
  if (sg_version_number() / 10000 != SG_VERSION_MAJOR) {
    php_error_docref(NULL, E_WARNING, "spamguard: library %s does not match the headers %s", sg_version_string(),
                     SG_VERSION_STRING);
    return FAILURE;
  }
  INIT_NS_CLASS_ENTRY(ce, "SpamGuard", "Exception", NULL);
  sg_exception_ce = zend_register_internal_class_ex(&ce, zend_ce_exception);
  INIT_NS_CLASS_ENTRY(ce, "SpamGuard", "Engine", sg_engine_methods);
  sg_engine_ce = zend_register_internal_class(&ce);
  sg_engine_ce->create_object = sg_engine_create;
  memcpy(&sg_engine_handlers, zend_get_std_object_handlers(), sizeof sg_engine_handlers);
  sg_engine_handlers.offset = XtOffsetOf(php_sg_engine, std);
  sg_engine_handlers.free_obj = sg_engine_free_obj;
  sg_engine_handlers.clone_obj = NULL;
  return SUCCESS;
}

PHP_MINFO_FUNCTION(spamguard) {
  php_info_print_table_start();
  php_info_print_table_row(2, "spamguard support", "enabled");
  php_info_print_table_row(2, "library version", sg_version_string());
  php_info_print_table_row(2, "default rules", sg_default_rules());
  php_info_print_table_end();
}

zend_module_entry spamguard_module_entry = {
    STANDARD_MODULE_HEADER, "spamguard", NULL, PHP_MINIT(spamguard), NULL, NULL, NULL, PHP_MINFO(spamguard),
    SG_VERSION_STRING, STANDARD_MODULE_PROPERTIES};

#ifdef COMPILE_DL_SPAMGUARD
ZEND_GET_MODULE(spamguard)
#endif
