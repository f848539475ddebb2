/* dkim_verify.c — RFC 6376 §6 verifier actions as a sans-I/O engine.
 *
 * §6.1.1 signature checks (v=1; required tags a b bh d h s; h= includes
 * From; i= at or below d=; x= not passed; q= dns/txt), §6.1.2 key lookup
 * (TXT at <s>._domainkey.<d>; a DNS failure is temperror, no key
 * permerror) and key checks (§3.6.1: v=DKIM1 first if present, k= matches
 * the algorithm, h= allows sha256, s= allows email, empty p= = revoked,
 * t=s requires i= domain equal to d=), §6.1.3 body hash then signature.
 * RFC 8301: rsa-sha1 is refused, RSA keys under 1024 bits are refused.
 * RFC 8463: ed25519-sha256. Results are those of RFC 8601 §2.7.1: syntax
 * problems in a signature give neutral, key or policy problems permerror,
 * a hash or signature mismatch fail. */
#include "dkim_verify.h"

#include <stdarg.h>
#include <string.h>

#include "dkim_int.h"
#include "dkim_tag.h"

static const char *const result_names[DKIM_RESULT_COUNT] = {
    "none", "pass", "fail", "neutral", "temperror", "permerror",
};

const char *dkim_result_name(dkim_result r) {
  g_assert((unsigned)r < DKIM_RESULT_COUNT);
  return result_names[r];
}

static const char *const state_names[DKIM_ST_COUNT] = {"receiving", "active", "wait-dns", "done"};

const char *dkim_verify_state_name(dkim_verify_state s) {
  g_assert((unsigned)s < DKIM_ST_COUNT);
  return state_names[s];
}

const char *dkim_event_kind_name(dkim_event_kind k) {
  g_assert((unsigned)k < DKIM_EV_COUNT);
  return k == DKIM_EV_DNS_QUERY ? "dns-query" : "done";
}

typedef struct {
  dkim_sig_result pub;
  bool decided;
  /* parsed signature */
  dkim_key_type ktype;
  dkim_canon hc, bc;
  char **h; /* names, lower-cased */
  size_t nh;
  int64_t l; /* -1 none */
  GByteArray *b, *bh;
  guint field; /* index of the field in the message */
  /* DNS */
  bool asked;
  uint32_t qid;
  dns_name qname;
} sig;

struct dkim_verify {
  dkim_verify_state state;
  dkim_verify_cfg cfg;
  auth_env env;
  GString *buf;
  dkim__msg msg;
  bool have_msg;
  int64_t now;
  GArray *sigs; /* of sig */
  uint32_t next_id;
  bool done_reported;
};

static void dkim_enter(dkim_verify *v, dkim_verify_state s) {
  switch (s) {
  case DKIM_ST_RECEIVING:
  case DKIM_ST_ACTIVE:
  case DKIM_ST_WAIT_DNS:
  case DKIM_ST_DONE:
    break;
  default:
    g_assert_not_reached();
  }
  if (v->env.trace) {
    char *line = g_strdup_printf("dkim: %s -> %s", dkim_verify_state_name(v->state),
                                 dkim_verify_state_name(s));
    v->env.trace(v->env.ud, line);
    g_free(line);
  }
  v->state = s;
}

dkim_verify *dkim_verify_new(const dkim_verify_cfg *cfg, const auth_env *env) {
  dkim_verify *v = g_new0(dkim_verify, 1);
  if (cfg)
    v->cfg = *cfg;
  if (!v->cfg.max_signatures)
    v->cfg.max_signatures = 5;
  if (!v->cfg.min_rsa_bits)
    v->cfg.min_rsa_bits = 1024;
  if (env)
    v->env = *env;
  v->buf = g_string_new(NULL);
  v->sigs = g_array_new(FALSE, TRUE, sizeof(sig));
  v->state = DKIM_ST_RECEIVING;
  return v;
}

static void sig_clear(sig *s) {
  g_free(s->pub.domain);
  g_free(s->pub.selector);
  g_free(s->pub.identity);
  g_free(s->pub.algorithm);
  g_free(s->pub.b_prefix);
  g_strfreev(s->h);
  if (s->b)
    g_byte_array_free(s->b, TRUE);
  if (s->bh)
    g_byte_array_free(s->bh, TRUE);
}

void dkim_verify_free(dkim_verify *v) {
  if (!v)
    return;
  for (guint i = 0; i < v->sigs->len; i++)
    sig_clear(&g_array_index(v->sigs, sig, i));
  g_array_free(v->sigs, TRUE);
  g_string_free(v->buf, TRUE);
  if (v->have_msg)
    dkim__msg_clear(&v->msg);
  g_free(v);
}

dkim_verify_state dkim_verify_state_get(const dkim_verify *v) { return v->state; }

void dkim_verify_feed(dkim_verify *v, const void *data, size_t len) {
  if (v->state != DKIM_ST_RECEIVING)
    g_error("dkim_verify_feed: called in state %s", dkim_verify_state_name(v->state));
  g_string_append_len(v->buf, data, (gssize)len);
}

static void decide(sig *s, dkim_result r, const char *reason) {
  s->pub.result = r;
  s->pub.reason = reason;
  s->decided = true;
}

/* Strict base64 (with FWS removed): true and the octets in OUT. */
static bool b64_decode(const char *v, GByteArray **out) {
  char *s = dkim_tag_strip_fws(v);
  size_t n = strlen(s);
  bool ok = n % 4 == 0;
  for (size_t i = 0; i < n && ok; i++) {
    char c = s[i];
    ok = g_ascii_isalnum(c) || c == '+' || c == '/' || (c == '=' && i >= n - 2);
  }
  if (ok) {
    gsize len = 0;
    guchar *d = n ? g_base64_decode(s, &len) : g_malloc0(1);
    *out = g_byte_array_new_take(d, len);
  }
  g_free(s);
  return ok;
}

static bool parse_uint(const char *s, int64_t *out) {
  if (!s || !*s || strlen(s) > 18)
    return false;
  int64_t v = 0;
  for (; *s; s++) {
    if (!g_ascii_isdigit(*s))
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return true;
}

/* §6.1.1 checks; leaves S undecided when a key is needed. */
static void parse_sig(dkim_verify *v, sig *s, const char *field, size_t flen) {
  s->l = -1;
  const char *colon = memchr(field, ':', flen);
  dkim_tag_list tl;
  if (!dkim_tag_list_parse(&tl, colon + 1, flen - (size_t)(colon + 1 - field), false)) {
    dkim_tag_list_clear(&tl);
    decide(s, DKIM_NEUTRAL, "signature syntax error");
    return;
  }
  const char *d = dkim_tag_get(&tl, "d"), *sel = dkim_tag_get(&tl, "s");
  const char *a = dkim_tag_get(&tl, "a"), *b = dkim_tag_get(&tl, "b");
  const char *bh = dkim_tag_get(&tl, "bh"), *h = dkim_tag_get(&tl, "h");
  const char *ver = dkim_tag_get(&tl, "v"), *c = dkim_tag_get(&tl, "c");
  const char *i = dkim_tag_get(&tl, "i"), *l = dkim_tag_get(&tl, "l");
  const char *q = dkim_tag_get(&tl, "q"), *t = dkim_tag_get(&tl, "t");
  const char *x = dkim_tag_get(&tl, "x");
  s->pub.domain = d ? g_ascii_strdown(d, -1) : NULL;
  s->pub.selector = g_strdup(sel);
  s->pub.algorithm = g_strdup(a);
  if (b) {
    char *bs = dkim_tag_strip_fws(b);
    s->pub.b_prefix = g_strndup(bs, 8);
    g_free(bs);
  }
  s->pub.identity = i ? g_strdup(i) : d ? g_strdup_printf("@%s", d) : NULL;
  int64_t tv = -1, xv = -1;
  const char *at = i ? strrchr(i, '@') : NULL;
  if (!ver || strcmp(ver, "1") != 0)
    decide(s, DKIM_NEUTRAL, "incompatible version");
  else if (!d || !sel || !a || !b || !bh || !h)
    decide(s, DKIM_NEUTRAL, "signature lacks a required tag");
  else if (strcmp(a, "rsa-sha1") == 0)
    decide(s, DKIM_PERMERROR, "policy: rsa-sha1 is refused (RFC 8301)");
  else if (strcmp(a, "rsa-sha256") != 0 && strcmp(a, "ed25519-sha256") != 0)
    decide(s, DKIM_NEUTRAL, "unknown signing algorithm");
  else if (!b64_decode(b, &s->b) || !b64_decode(bh, &s->bh) || s->bh->len != 32)
    decide(s, DKIM_NEUTRAL, "bad base64 in b= or bh=");
  else if (i && (!at || !(g_ascii_strcasecmp(at + 1, d) == 0 ||
                          (strlen(at + 1) > strlen(d) &&
                           g_ascii_strcasecmp(at + 1 + strlen(at + 1) - strlen(d), d) == 0 &&
                           at[1 + strlen(at + 1) - strlen(d) - 1] == '.'))))
    decide(s, DKIM_NEUTRAL, "i= is not within d=");
  else if (l && !parse_uint(l, &s->l))
    decide(s, DKIM_NEUTRAL, "bad l= value");
  else if ((t && !parse_uint(t, &tv)) || (x && !parse_uint(x, &xv)))
    decide(s, DKIM_NEUTRAL, "bad t= or x= value");
  else if (xv >= 0 && tv >= 0 && xv < tv)
    decide(s, DKIM_NEUTRAL, "x= is before t=");
  else if (xv >= 0 && xv < v->now)
    decide(s, DKIM_FAIL, "signature expired");
  else if (q && !strstr(q, "dns/txt"))
    decide(s, DKIM_NEUTRAL, "unsupported q= method");
  if (s->decided) {
    dkim_tag_list_clear(&tl);
    return;
  }
  s->ktype = strcmp(a, "rsa-sha256") == 0 ? DKIM_KEY_RSA : DKIM_KEY_ED25519;
  s->hc = s->bc = DKIM_CANON_SIMPLE;
  if (c) {
    const char *slash = strchr(c, '/');
    size_t hl = slash ? (size_t)(slash - c) : strlen(c);
    if (!dkim_canon_from_name(c, hl, &s->hc) ||
        (slash && !dkim_canon_from_name(slash + 1, strlen(slash + 1), &s->bc))) {
      dkim_tag_list_clear(&tl);
      decide(s, DKIM_NEUTRAL, "unknown canonicalization");
      return;
    }
  }
  char *hs = dkim_tag_strip_fws(h);
  s->h = g_strsplit(hs, ":", -1);
  g_free(hs);
  bool from = false, empty = false;
  for (s->nh = 0; s->h[s->nh]; s->nh++) {
    char *low = g_ascii_strdown(s->h[s->nh], -1);
    g_free(s->h[s->nh]);
    s->h[s->nh] = low;
    from |= strcmp(low, "from") == 0;
    empty |= low[0] == '\0';
  }
  char *qn = g_strdup_printf("%s._domainkey.%s", sel, d);
  bool nameok = auth_dns_name_from_domain(qn, &s->qname);
  g_free(qn);
  dkim_tag_list_clear(&tl);
  if (empty)
    decide(s, DKIM_NEUTRAL, "empty name in h=");
  else if (!from)
    decide(s, DKIM_NEUTRAL, "From is not signed");
  else if (!nameok)
    decide(s, DKIM_PERMERROR, "selector or domain is not a DNS name");
}

void dkim_verify_end(dkim_verify *v, int64_t now_unix) {
  if (v->state != DKIM_ST_RECEIVING)
    g_error("dkim_verify_end: called in state %s", dkim_verify_state_name(v->state));
  v->now = now_unix;
  dkim__msg_init(&v->msg, v->buf->str, v->buf->len);
  v->have_msg = true;
  for (guint i = 0; i < v->msg.fields->len && v->sigs->len < v->cfg.max_signatures; i++) {
    size_t len;
    const char *f = dkim__field_ptr(&v->msg, i, &len);
    if (dkim__field_name_len(f, len) != 14 || g_ascii_strncasecmp(f, "DKIM-Signature", 14) != 0)
      continue;
    sig s;
    memset(&s, 0, sizeof s);
    s.field = i;
    parse_sig(v, &s, f, len);
    g_array_append_val(v->sigs, s);
  }
  dkim_enter(v, DKIM_ST_ACTIVE);
}

bool dkim_verify_next(dkim_verify *v, dkim_event *ev) {
  memset(ev, 0, sizeof *ev);
  if (v->state != DKIM_ST_ACTIVE)
    return false;
  bool waiting = false;
  for (guint i = 0; i < v->sigs->len; i++) {
    sig *s = &g_array_index(v->sigs, sig, i);
    if (s->decided)
      continue;
    if (!s->asked) {
      s->asked = true;
      s->qid = ++v->next_id;
      ev->kind = DKIM_EV_DNS_QUERY;
      ev->query.id = s->qid;
      ev->query.name = s->qname;
      ev->query.type = DNS_T_TXT;
      return true;
    }
    waiting = true;
  }
  if (waiting) {
    dkim_enter(v, DKIM_ST_WAIT_DNS);
    return false;
  }
  dkim_enter(v, DKIM_ST_DONE);
  ev->kind = DKIM_EV_DONE;
  return true;
}

/* §3.6.1 key record and §6.1.3 verification of S with record TEXT. */
static void check_with_key(dkim_verify *v, sig *s, const char *text, size_t len) {
  dkim_tag_list tl;
  if (strlen(text) != len || !dkim_tag_list_parse(&tl, text, len, false)) {
    dkim_tag_list_clear(&tl);
    decide(s, DKIM_PERMERROR, "key record syntax error");
    return;
  }
  const char *kv = dkim_tag_get(&tl, "v"), *k = dkim_tag_get(&tl, "k");
  const char *p = dkim_tag_get(&tl, "p"), *hh = dkim_tag_get(&tl, "h");
  const char *sv = dkim_tag_get(&tl, "s"), *tf = dkim_tag_get(&tl, "t");
  const char *first = dkim_tag_first(&tl);
  dkim_key_type kt = DKIM_KEY_RSA;
  GByteArray *pk = NULL;
  dkim_key *key = NULL;
  if (kv && (strcmp(first, "v") != 0 || strcmp(kv, "DKIM1") != 0))
    decide(s, DKIM_PERMERROR, "key record version is not DKIM1");
  else if (!p)
    decide(s, DKIM_PERMERROR, "key record without p=");
  else if (k && strcmp(k, "rsa") != 0 && strcmp(k, "ed25519") != 0)
    decide(s, DKIM_PERMERROR, "unknown key type");
  else if ((kt = (k && strcmp(k, "ed25519") == 0) ? DKIM_KEY_ED25519 : DKIM_KEY_RSA) != s->ktype)
    decide(s, DKIM_PERMERROR, "key type does not match the algorithm");
  else if (hh && !strstr(hh, "sha256"))
    decide(s, DKIM_PERMERROR, "key does not allow sha256");
  else if (sv && !strstr(sv, "*") && !strstr(sv, "email"))
    decide(s, DKIM_PERMERROR, "key is not for email");
  else if (!b64_decode(p, &pk))
    decide(s, DKIM_PERMERROR, "bad base64 in p=");
  else if (pk->len == 0)
    decide(s, DKIM_PERMERROR, "key revoked");
  else if (!(key = dkim_key_from_public(kt, pk->data, pk->len)))
    decide(s, DKIM_PERMERROR, "unusable public key");
  else if ((s->pub.key_bits = dkim_key_bits(key)) < v->cfg.min_rsa_bits && kt == DKIM_KEY_RSA)
    decide(s, DKIM_PERMERROR, "policy: RSA key too short (RFC 8301)");
  else if (tf && strchr(tf, 's') && s->pub.identity &&
           g_ascii_strcasecmp(strrchr(s->pub.identity, '@') + 1, s->pub.domain) != 0)
    decide(s, DKIM_PERMERROR, "key is strict (t=s) and i= is a subdomain");
  dkim_tag_list_clear(&tl);
  if (pk)
    g_byte_array_free(pk, TRUE);
  if (s->decided) {
    dkim_key_free(key);
    return;
  }
  uint8_t bh[32];
  int64_t total = 0;
  dkim__body_hash(&v->msg, s->bc, s->l, bh, &total);
  if (s->l >= 0 && s->l > total)
    decide(s, DKIM_FAIL, "l= is longer than the body");
  else if (memcmp(bh, s->bh->data, 32) != 0)
    decide(s, DKIM_FAIL, "body hash did not verify");
  else {
    GString *data = g_string_new(NULL);
    dkim__header_data(&v->msg, s->hc, s->h, s->nh, data);
    size_t flen;
    const char *f = dkim__field_ptr(&v->msg, s->field, &flen);
    GString *stripped = g_string_new(NULL);
    dkim__strip_b(f, flen, stripped);
    dkim_canon_header(s->hc, stripped->str, stripped->len, true, data);
    g_string_free(stripped, TRUE);
    if (dkim__verify(key, data, s->b->data, s->b->len))
      decide(s, DKIM_PASS, NULL);
    else
      decide(s, DKIM_FAIL, "signature did not verify");
    g_string_free(data, TRUE);
  }
  dkim_key_free(key);
}

void dkim_verify_answer(dkim_verify *v, uint32_t id, auth_dns_status status, const dns_rr *rrs,
                        size_t n) {
  sig *s = NULL;
  for (guint i = 0; i < v->sigs->len; i++) {
    sig *c = &g_array_index(v->sigs, sig, i);
    if (c->asked && !c->decided && c->qid == id)
      s = c;
  }
  if (!s || (v->state != DKIM_ST_WAIT_DNS && v->state != DKIM_ST_ACTIVE))
    g_error("dkim_verify_answer: no outstanding query %u (state %s)", id,
            dkim_verify_state_name(v->state));
  const dns_rr *txt = NULL;
  for (size_t i = 0; i < n && status == AUTH_DNS_OK; i++)
    if (rrs[i].type == DNS_T_TXT && !txt)
      txt = &rrs[i];
  if (status == AUTH_DNS_TIMEOUT || status == AUTH_DNS_SERVFAIL) {
    decide(s, DKIM_TEMPERROR, "key lookup failed");
  } else if (!txt) {
    decide(s, DKIM_PERMERROR, "no key for signature");
  } else {
    size_t len;
    char *text = auth_dns_txt_join(txt, &len);
    check_with_key(v, s, text, len);
    g_free(text);
  }
  if (v->state == DKIM_ST_WAIT_DNS)
    dkim_enter(v, DKIM_ST_ACTIVE);
}

size_t dkim_verify_count(const dkim_verify *v) { return v->sigs->len; }

const dkim_sig_result *dkim_verify_get(const dkim_verify *v, size_t i) {
  if (v->state != DKIM_ST_DONE || i >= v->sigs->len)
    g_error("dkim_verify_get: no result %zu (state %s)", i, dkim_verify_state_name(v->state));
  return &g_array_index(v->sigs, sig, i).pub;
}

dkim_result dkim_verify_summary(const dkim_verify *v) {
  if (v->state != DKIM_ST_DONE)
    g_error("dkim_verify_summary: not done (state %s)", dkim_verify_state_name(v->state));
  if (v->sigs->len == 0)
    return DKIM_NONE;
  for (guint i = 0; i < v->sigs->len; i++)
    if (g_array_index(v->sigs, sig, i).pub.result == DKIM_PASS)
      return DKIM_PASS;
  return g_array_index(v->sigs, sig, 0).pub.result;
}
