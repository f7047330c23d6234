/* comment.cgi — a blog's comment handler as a C CGI program.
 *
 * GET comment.cgi?post_id=N answers the comment form of post N, with
 * spamguard's signed token and a honeypot field in it. A POSTed comment form
 * (application/x-www-form-urlencoded: author, email, url, comment, post_id,
 * spamguard_token, spamguard_website) is scored with spamguard, kept with
 * its verdict, and answered:
 *
 *   200  accepted and published          202  held for moderation
 *   403  rejected as spam                429  too many comments, Retry-After: N
 *   400  malformed form                  405/411/413/415 not a comment POST
 *
 * The form carries a token, so every POST is checked for one: a program
 * posting straight to this URL without showing the form (no token, within a
 * second, the honeypot filled) is scored by the rules' SG_FORM_* checks.
 *
 * Every comment that is not throttled is appended, with its verdict, to the
 * spool file (SPAMGUARD_SPOOL): the verdict is advice, the comment is kept.
 * Environment: SPAMGUARD_RULES (rule file), SPAMGUARD_DB (database),
 * SPAMGUARD_SPOOL (where comments go), plus the CGI variables REMOTE_ADDR,
 * HTTP_X_FORWARDED_FOR (believed only from the rules' trusted_proxy blocks),
 * HTTP_USER_AGENT, HTTP_REFERER, CONTENT_LENGTH, CONTENT_TYPE.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* (madvise, sbrk: warm_heap.h) */
#include <spamguard/spamguard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "warm_heap.h"

/* What opening the engine and scoring one comment write to the heap, and
 * some room: populated in one call (warm_heap.h). */
#define WARM_HEAP_KB 512

#define MAX_BODY (1024 * 1024)

static void respond(const char *status, const char *extra_headers, const char *text) {
  printf("Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\n%s\r\n%s\n", status, extra_headers, text);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes in place; returns the new length, or -1 on a bad escape. */
static long url_decode(char *s, size_t n) {
  size_t i = 0, o = 0;
  while (i < n) {
    if (s[i] == '+') {
      s[o++] = ' ';
      i++;
    } else if (s[i] == '%') {
      int hi, lo;
      if (i + 2 >= n) return -1; /* '%' needs two hex digits */
      hi = hexval((unsigned char)s[i + 1]);
      lo = hexval((unsigned char)s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      s[o++] = (char)(hi * 16 + lo);
      i += 3;
    } else {
      s[o++] = s[i++];
    }
  }
  return (long)o;
}

static void html_str(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c == '&') fputs("&amp;", stdout);
    else if (c == '<') fputs("&lt;", stdout);
    else if (c == '>') fputs("&gt;", stdout);
    else if (c == '"') fputs("&quot;", stdout);
    else if (c == '\'') fputs("&#39;", stdout);
    else if (c != '\0') fputc(c, stdout);
  }
}

/* GET: the comment form of the post named in the query string, with its
 * signed token and the honeypot (hidden from people, filled by programs). */
static int form_page(const char *rules, const char *db) {
  const char *q = getenv("QUERY_STRING");
  char post[256] = "1", token[SG_FORM_TOKEN_SIZE] = "";
  long n = -1;
  sg_config *cfg = NULL;
  sg_engine *engine = NULL;
  if (q && strncmp(q, "post_id=", 8) == 0 && strlen(q + 8) < sizeof post) {
    size_t l = strcspn(q + 8, "&");
    memcpy(post, q + 8, l);
    post[l] = '\0';
    n = url_decode(post, l);
    if (n < 0) return respond("400 Bad Request", "", "malformed post_id"), 0;
    post[n] = '\0';
  }
  warm_heap(WARM_HEAP_KB);
  sg_config_new(&cfg);
  if (db) sg_config_set_str(cfg, SG_CFG_DATABASE, db);
  if (sg_engine_open(&engine, rules ? rules : sg_default_rules(), cfg) != SG_OK ||
      sg_engine_form_token(engine, post, strlen(post), 0, token, sizeof token) != SG_OK)
    fprintf(stderr, "comment.cgi: no form token: %s\n", sg_error_message());
  sg_config_free(cfg);
  sg_engine_close(engine);
  printf("Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\r\n");
  printf("<form method=\"post\" action=\"comment.cgi\">\n<input type=\"hidden\" name=\"post_id\" value=\"");
  html_str(post, strlen(post));
  printf("\">\n<input type=\"hidden\" name=\"spamguard_token\" value=\"%s\">\n", token);
  printf("<p aria-hidden=\"true\" style=\"position:absolute;left:-10000px\"><label>Leave this field empty "
         "<input type=\"text\" name=\"spamguard_website\" value=\"\" tabindex=\"-1\" autocomplete=\"off\"></label></p>\n"
         "<p><label>Name <input name=\"author\"></label></p>\n<p><label>E-mail <input name=\"email\"></label></p>\n"
         "<p><label>Web site <input name=\"url\"></label></p>\n<p><textarea name=\"comment\"></textarea></p>\n"
         "<p><button>Post the comment</button></p>\n</form>\n");
  return 0;
}

static void json_str(FILE *f, const char *s, size_t n) {
  size_t i;
  fputc('"', f);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

int main(void) {
  const char *method = getenv("REQUEST_METHOD"), *ctype = getenv("CONTENT_TYPE"), *clen = getenv("CONTENT_LENGTH");
  const char *rules = getenv("SPAMGUARD_RULES"), *db = getenv("SPAMGUARD_DB"), *spool = getenv("SPAMGUARD_SPOOL");
  const char *ip = getenv("REMOTE_ADDR"), *ua = getenv("HTTP_USER_AGENT"), *ref = getenv("HTTP_REFERER");
  const char *fwd = getenv("HTTP_X_FORWARDED_FOR");
  static const char *names[] = {"author", "email", "url", "comment", "post_id", "spamguard_token", "spamguard_website"};
  static const int fields[] = {SG_FIELD_AUTHOR, SG_FIELD_EMAIL,      SG_FIELD_URL,     SG_FIELD_BODY,
                               SG_FIELD_POST_ID, SG_FIELD_FORM_TOKEN, SG_FIELD_HONEYPOT};
  char *body = NULL, *raw = NULL, *p, *end;
  const char *vals[7] = {0};
  size_t lens[7] = {0};
  long len;
  size_t got;
  sg_config *cfg = NULL;
  sg_engine *engine = NULL;
  sg_comment *c = NULL;
  sg_result *r = NULL;
  int action;
  char hdr[64];

  if (method && strcmp(method, "GET") == 0) return form_page(rules, db);
  if (!method || strcmp(method, "POST") != 0)
    return respond("405 Method Not Allowed", "Allow: GET, POST\r\n", "GET the form, POST a comment"), 0;
  if (!ctype || strncmp(ctype, "application/x-www-form-urlencoded", 33) != 0)
    return respond("415 Unsupported Media Type", "", "send application/x-www-form-urlencoded"), 0;
  if (!clen || !*clen) return respond("411 Length Required", "", "Content-Length missing"), 0;
  len = strtol(clen, &end, 10);
  if (*end || len < 0) return respond("400 Bad Request", "", "bad Content-Length"), 0;
  if (len > MAX_BODY) return respond("413 Payload Too Large", "", "comment too large"), 0;
  body = malloc((size_t)len + 1);
  raw = malloc((size_t)len + 1); /* kept as sent, for the spool */
  if (!body || !raw) {
    respond("500 Internal Server Error", "", "out of memory");
    goto done;
  }
  got = fread(body, 1, (size_t)len, stdin);
  if ((long)got != len) {
    respond("400 Bad Request", "", "body shorter than Content-Length");
    goto done;
  }
  body[len] = '\0';

  memcpy(raw, body, (size_t)len + 1);

  /* The form first: a malformed request costs no engine. */
  for (p = body; p < body + len;) {
    char *amp = memchr(p, '&', (size_t)(body + len - p)), *eq;
    size_t plen = amp ? (size_t)(amp - p) : (size_t)(body + len - p);
    long klen, vlen;
    size_t i;
    eq = memchr(p, '=', plen);
    klen = eq ? url_decode(p, (size_t)(eq - p)) : -1;
    vlen = eq ? url_decode(eq + 1, plen - (size_t)(eq - p) - 1) : -1;
    if (klen < 0 || vlen < 0) {
      respond("400 Bad Request", "", "malformed form body");
      goto done;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if ((size_t)klen == strlen(names[i]) && !memcmp(p, names[i], (size_t)klen)) {
        vals[i] = eq + 1;
        lens[i] = (size_t)vlen;
      }
    p += plen + 1;
  }

  warm_heap(WARM_HEAP_KB);
  sg_config_new(&cfg);
  if (db) sg_config_set_str(cfg, SG_CFG_DATABASE, db);
  if (sg_engine_open(&engine, rules ? rules : sg_default_rules(), cfg) != SG_OK) {
    /* Without rules there is no verdict; the comment is still kept below. */
    fprintf(stderr, "comment.cgi: %s\n", sg_error_message());
  }
  sg_config_free(cfg);
  sg_comment_new(&c);
  {
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
      if (vals[i]) sg_comment_set_field(c, fields[i], vals[i], lens[i]);
    /* This handler's forms carry a token: one that came back without it
     * was not sent from the form. */
    if (!vals[5]) sg_comment_set_field(c, SG_FIELD_FORM_TOKEN, "", 0);
  }
  if (ip) sg_comment_set_field(c, SG_FIELD_IP, ip, strlen(ip));
  if (fwd) sg_comment_set_field(c, SG_FIELD_FORWARDED_FOR, fwd, strlen(fwd));
  if (ua) sg_comment_set_field(c, SG_FIELD_USER_AGENT, ua, strlen(ua));
  if (ref) sg_comment_set_field(c, SG_FIELD_REFERRER, ref, strlen(ref));

  action = SG_ACTION_MODERATE; /* no engine: hold it for the admin */
  if (engine && sg_engine_score(&r, engine, c) == SG_OK) action = sg_result_action(r);
  /* Without its database there are no lists, reputation or rate limits: the
   * web server's error log says why (e.g. the state folder's permissions). */
  if (r && (sg_result_flags(r) & SG_FLAG_STATE_UNAVAILABLE)) {
    if (*sg_engine_state_message(engine)) {
      fprintf(stderr, "comment.cgi: database not used, content rules only: %s\n", sg_engine_state_message(engine));
    } else { /* the database opened, but a check could not be made (rate limits, the form's token) */
      size_t i;
      for (i = 0; i < sg_result_hit_count(r); i++) {
        const char *name = sg_result_hit_name(r, i);
        size_t n = strlen(name);
        if (n > 10 && strcmp(name + n - 10, "_UNCHECKED") == 0)
          fprintf(stderr, "comment.cgi: %s: %s\n", sg_result_hit_description(r, i),
                  sg_result_hit_match(r, i, NULL));
      }
    }
  }
  if (action == SG_ACTION_THROTTLE) {
    snprintf(hdr, sizeof hdr, "Retry-After: %lld\r\n", (long long)sg_result_retry_after(r));
    respond("429 Too Many Requests", hdr, "too many comments; please try again later");
  } else {
    if (spool) {
      FILE *f = fopen(spool, "a");
      if (f) {
        char *json = NULL;
        flock(fileno(f), LOCK_EX);
        fputs("{\"verdict\":", f);
        if (r && sg_result_to_json(&json, NULL, r) == SG_OK) fputs(json, f);
        else fputs("null", f);
        sg_free(json);
        fputs(",\"form\":", f);
        json_str(f, raw, (size_t)len);
        fputs("}\n", f);
        fclose(f);
      }
    }
    if (action == SG_ACTION_ACCEPT) respond("200 OK", "", "comment accepted");
    else if (action == SG_ACTION_MODERATE) respond("202 Accepted", "", "comment held for moderation");
    else respond("403 Forbidden", "", "comment rejected as spam");
  }
done:
  sg_result_free(r);
  sg_comment_free(c);
  sg_engine_close(engine);
  free(body);
  free(raw);
  return 0;
}
