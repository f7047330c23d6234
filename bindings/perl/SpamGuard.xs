/* SpamGuard for Perl: a thin XS shim over the spamguard C ABI. */
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include <string.h>

#include "spamguard/spamguard.h"

typedef struct {
  sg_engine *engine;
} SpamGuardObj;

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

static SpamGuardObj *sg_self(pTHX_ SV *self) {
  SpamGuardObj *o;
  if (!sv_isobject(self) || !sv_derived_from(self, "SpamGuard")) croak("SpamGuard: not a SpamGuard object");
  o = INT2PTR(SpamGuardObj *, SvIV(SvRV(self)));
  if (o == NULL || o->engine == NULL) croak("SpamGuard: engine is closed");
  return o;
}

/* A comment from a hash reference; croaks on anything else. */
static sg_comment *sg_comment_from_hv(pTHX_ SV *ref) {
  HV *hv;
  HE *he;
  sg_comment *c = NULL;
  if (!SvROK(ref) || SvTYPE(SvRV(ref)) != SVt_PVHV) croak("SpamGuard: the comment must be a hash reference");
  hv = (HV *)SvRV(ref);
  if (sg_comment_new(&c) != SG_OK) croak("SpamGuard: %s", sg_error_message());
  hv_iterinit(hv);
  while ((he = hv_iternext(hv)) != NULL) {
    I32 klen;
    const char *key = hv_iterkey(he, &klen);
    SV *val = hv_iterval(hv, he);
    size_t i;
    int field = 0;
    STRLEN len;
    const char *p;
    if (!strcmp(key, "kind") || !strcmp(key, "type")) {
      const char *k = SvOK(val) && !SvROK(val) ? SvPV_nolen(val) : "?";
      int kind = !strcmp(k, "comment") || !strcmp(k, "") ? SG_KIND_COMMENT
                 : !strcmp(k, "trackback")                ? SG_KIND_TRACKBACK
                 : !strcmp(k, "pingback")                 ? SG_KIND_PINGBACK
                                                          : 0;
      if (kind == 0) {
        sg_comment_free(c);
        croak("SpamGuard: kind must be 'comment', 'trackback' or 'pingback'");
      }
      sg_comment_set_kind(c, kind);
      continue;
    }
    if (!strcmp(key, "time")) {
      if (!SvOK(val) || SvROK(val) || !looks_like_number(val)) {
        sg_comment_free(c);
        croak("SpamGuard: time must be a number (unix seconds)");
      }
      sg_comment_set_time(c, (int64_t)SvIV(val));
      continue;
    }
    for (i = 0; i < sizeof sg_fields / sizeof sg_fields[0]; ++i)
      if (!strcmp(key, sg_fields[i].key)) field = sg_fields[i].field;
    if (field == 0) {
      sg_comment_free(c);
      croak("SpamGuard: unknown comment field '%s'", key);
    }
    if (!SvOK(val)) continue;
    if (SvROK(val)) {
      sg_comment_free(c);
      croak("SpamGuard: comment field '%s' must be a string", key);
    }
    p = SvPVbyte(val, len); /* bytes as they are: NULs and all */
    if (sg_comment_set_field(c, field, p, len) != SG_OK) {
      sg_comment_free(c);
      croak("SpamGuard: %s", sg_error_message());
    }
  }
  return c;
}

/* A verdict as a hash reference: action, score, retry_after, flags, hits. */
static SV *sg_result_to_sv(pTHX_ const sg_result *r) {
  HV *out = newHV();
  AV *hits, *flags;
  size_t i;
  int f = sg_result_flags(r);
  hv_stores(out, "action", newSVpv(sg_action_str(sg_result_action(r)), 0));
  hv_stores(out, "score", newSVnv(sg_result_score(r)));
  hv_stores(out, "retry_after", newSViv((IV)sg_result_retry_after(r)));
  flags = newAV();
  if (f & SG_FLAG_INVALID_UTF8) av_push(flags, newSVpvs("invalid_utf8"));
  if (f & SG_FLAG_TRUNCATED) av_push(flags, newSVpvs("truncated"));
  if (f & SG_FLAG_BAD_IP) av_push(flags, newSVpvs("bad_ip"));
  if (f & SG_FLAG_NO_IP) av_push(flags, newSVpvs("no_ip"));
  if (f & SG_FLAG_LINKS_CAPPED) av_push(flags, newSVpvs("links_capped"));
  if (f & SG_FLAG_STATE_UNAVAILABLE) av_push(flags, newSVpvs("state_unavailable"));
  if (f & SG_FLAG_VIA_PROXY) av_push(flags, newSVpvs("via_proxy"));
  hv_stores(out, "flags", newRV_noinc((SV *)flags));
  hits = newAV();
  for (i = 0; i < sg_result_hit_count(r); ++i) {
    HV *h = newHV();
    size_t len = 0;
    const char *m = sg_result_hit_match(r, i, &len);
    hv_stores(h, "rule", newSVpv(sg_result_hit_name(r, i), 0));
    hv_stores(h, "points", newSVnv(sg_result_hit_points(r, i)));
    hv_stores(h, "field", newSVpv(sg_result_hit_field(r, i), 0));
    hv_stores(h, "description", newSVpv(sg_result_hit_description(r, i), 0));
    hv_stores(h, "match", newSVpvn(m, len));
    av_push(hits, newRV_noinc((SV *)h));
  }
  hv_stores(out, "hits", newRV_noinc((SV *)hits));
  return newRV_noinc((SV *)out);
}

MODULE = SpamGuard    PACKAGE = SpamGuard

PROTOTYPES: DISABLE

BOOT:
  if (sg_version_number() / 10000 != SG_VERSION_MAJOR)
    croak("SpamGuard: library %s does not match the headers %s", sg_version_string(), SG_VERSION_STRING);

SV *
_open(class, cf, database, ratelimits)
    const char *class
    const char *cf
    SV *database
    SV *ratelimits
  PREINIT:
    SpamGuardObj *o;
    sg_config *cfg = NULL;
    int rc;
  CODE:
    sg_config_new(&cfg);
    if (SvOK(database)) sg_config_set_str(cfg, SG_CFG_DATABASE, SvPV_nolen(database));
    if (SvOK(ratelimits)) {
      const char *m = SvPV_nolen(ratelimits);
      sg_config_set_int(cfg, SG_CFG_RATELIMIT_MODE, !strcmp(m, "off") ? SG_RATELIMIT_OFF
                                                    : !strcmp(m, "memory") ? SG_RATELIMIT_MEMORY : SG_RATELIMIT_DATABASE);
    }
    Newxz(o, 1, SpamGuardObj);
    rc = sg_engine_open(&o->engine, cf, cfg);
    sg_config_free(cfg);
    if (rc != SG_OK) {
      Safefree(o);
      croak("SpamGuard: %s", sg_error_message());
    }
    RETVAL = sv_setref_pv(newSV(0), class, (void *)o);
  OUTPUT:
    RETVAL

SV *
score(self, comment)
    SV *self
    SV *comment
  PREINIT:
    SpamGuardObj *o;
    sg_comment *c;
    sg_result *r = NULL;
  CODE:
    o = sg_self(aTHX_ self);
    c = sg_comment_from_hv(aTHX_ comment);
    if (sg_engine_score(&r, o->engine, c) != SG_OK) {
      sg_comment_free(c);
      croak("SpamGuard: %s", sg_error_message());
    }
    sg_comment_free(c);
    RETVAL = sg_result_to_sv(aTHX_ r);
    sg_result_free(r);
  OUTPUT:
    RETVAL

SV *
explain_ip(self, ip)
    SV *self
    SV *ip
  PREINIT:
    SpamGuardObj *o;
    sg_result *r = NULL;
    STRLEN len;
    const char *text;
  CODE:
    o = sg_self(aTHX_ self);
    text = SvPV(ip, len);
    if (memchr(text, '\0', len) != NULL) croak("SpamGuard: the address contains a NUL byte");
    if (sg_engine_explain_ip(&r, o->engine, text, 0) != SG_OK) croak("SpamGuard: %s", sg_error_message());
    RETVAL = sg_result_to_sv(aTHX_ r);
    sg_result_free(r);
  OUTPUT:
    RETVAL

void
learn(self, comment, label)
    SV *self
    SV *comment
    const char *label
  PREINIT:
    SpamGuardObj *o;
    sg_comment *c;
    int l, rc;
  CODE:
    l = !strcmp(label, "spam") ? SG_LABEL_SPAM : !strcmp(label, "ham") ? SG_LABEL_HAM : 0;
    if (l == 0) croak("SpamGuard: label must be 'spam' or 'ham'");
    o = sg_self(aTHX_ self);
    c = sg_comment_from_hv(aTHX_ comment);
    rc = sg_engine_learn(o->engine, c, l);
    sg_comment_free(c);
    if (rc != SG_OK) croak("SpamGuard: %s", sg_error_message());

int
forget(self, comment)
    SV *self
    SV *comment
  PREINIT:
    SpamGuardObj *o;
    sg_comment *c;
    int forgotten = 0, rc;
  CODE:
    o = sg_self(aTHX_ self);
    c = sg_comment_from_hv(aTHX_ comment);
    rc = sg_engine_forget(&forgotten, o->engine, c);
    sg_comment_free(c);
    if (rc != SG_OK) croak("SpamGuard: %s", sg_error_message());
    RETVAL = forgotten;
  OUTPUT:
    RETVAL

SV *
form_token(self, post_id, now = 0)
    SV *self
    SV *post_id
    IV now
  PREINIT:
    SpamGuardObj *o;
    char token[SG_FORM_TOKEN_SIZE];
    STRLEN len;
    const char *text;
  CODE:
    o = sg_self(aTHX_ self);
    text = SvPV(post_id, len);
    if (sg_engine_form_token(o->engine, text, len, (int64_t)now, token, sizeof token) != SG_OK)
      croak("SpamGuard: %s", sg_error_message());
    RETVAL = newSVpv(token, 0);
  OUTPUT:
    RETVAL

void
close(self)
    SV *self
  PREINIT:
    SpamGuardObj *o;
  CODE:
    if (!sv_isobject(self) || !sv_derived_from(self, "SpamGuard")) croak("SpamGuard: not a SpamGuard object");
    o = INT2PTR(SpamGuardObj *, SvIV(SvRV(self)));
    if (o) {
      sg_engine_close(o->engine);
      o->engine = NULL;
    }

void
DESTROY(self)
    SV *self
  PREINIT:
    SpamGuardObj *o;
  CODE:
    o = INT2PTR(SpamGuardObj *, SvIV(SvRV(self)));
    if (o) {
      sg_engine_close(o->engine);
      Safefree(o);
      sv_setiv(SvRV(self), 0);
    }

const char *
default_rules(...)
  CODE:
    RETVAL = sg_default_rules();
  OUTPUT:
    RETVAL

const char *
state_message(self)
    SV *self
  CODE:
    RETVAL = sg_engine_state_message(sg_self(aTHX_ self)->engine);
  OUTPUT:
    RETVAL

const char *
library_version()
  CODE:
    RETVAL = sg_version_string();
  OUTPUT:
    RETVAL
