/* spf_record.c — SPF record selection and syntax, RFC 7208 §4.5 (records
 * begin "v=spf1" followed by SP or end), §4.6.1 (terms separated by one or
 * more SP; mechanism names; modifier names ALPHA *(ALPHA/DIGIT/"-"/"_"/".")),
 * §5 and §6 (each mechanism's and modifier's arguments), §5.6 (CIDR lengths
 * without leading zeros, at most 32 and 128), §6 (redirect and exp at most
 * once), §7.1 (domain-spec) and §12 (collected ABNF). */
#include "spf_record.h"

#include <arpa/inet.h>
#include <string.h>

#include "spf_macro.h"

static const char *const kind_names[SPF_TERM_KIND_COUNT] = {
    "all", "include",          "a", "mx", "ptr", "ip4", "ip6", "exists", "redirect",
    "exp", "unknown-modifier",
};

const char *spf_term_kind_name(spf_term_kind k) {
  g_assert((unsigned)k < SPF_TERM_KIND_COUNT);
  return kind_names[k];
}

bool spf_record_is_spf(const char *text, size_t len) {
  return len >= 6 && g_ascii_strncasecmp(text, "v=spf1", 6) == 0 && (len == 6 || text[6] == ' ');
}

static bool is_alnum(char c) { return g_ascii_isalnum(c); }

/* toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum ) */
static bool toplabel_valid(const char *s, size_t len) {
  if (len == 0)
    return false;
  bool alpha = false, dash = false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '-')
      dash = true;
    else if (!is_alnum(s[i]))
      return false;
    else if (g_ascii_isalpha(s[i]))
      alpha = true;
  }
  if (!dash)
    return alpha;
  return is_alnum(s[0]) && is_alnum(s[len - 1]);
}

bool spf_domain_spec_valid(const char *s, size_t len) {
  bool ends_macro = false;
  if (len == 0 || !spf_macro_valid(s, len, false, &ends_macro))
    return false;
  if (ends_macro)
    return true;
  size_t end = len;
  if (s[end - 1] == '.')
    end--;
  size_t dot = end;
  while (dot > 0 && s[dot - 1] != '.')
    dot--;
  if (dot == 0)
    return false; /* domain-end needs "." toplabel */
  return toplabel_valid(s + dot, end - dot);
}

/* ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT); ip6: 0*2DIGIT, <= 128. */
static bool cidr_parse(const char *s, size_t len, int max, int *out) {
  if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
    return false;
  int v = 0;
  for (size_t i = 0; i < len; i++) {
    if (!g_ascii_isdigit(s[i]))
      return false;
    v = v * 10 + (s[i] - '0');
  }
  if (v > max)
    return false;
  *out = v;
  return true;
}

/* Strips a trailing dual-cidr-length from ARG (*LEN shortened). */
static bool strip_dual_cidr(const char *arg, size_t *len, int *c4, int *c6) {
  size_t n = *len;
  size_t d = n;
  while (d > 0 && g_ascii_isdigit(arg[d - 1]))
    d--;
  if (d < n && d >= 2 && arg[d - 1] == '/' && arg[d - 2] == '/') {
    if (!cidr_parse(arg + d, n - d, 128, c6))
      return false;
    n = d - 2;
  }
  d = n;
  while (d > 0 && g_ascii_isdigit(arg[d - 1]))
    d--;
  if (d < n && d >= 1 && arg[d - 1] == '/') {
    if (!cidr_parse(arg + d, n - d, 32, c4))
      return false;
    n = d - 1;
  }
  *len = n;
  return true;
}

static void term_clear(spf_term *t) {
  g_free(t->text);
  g_free(t->domain_spec);
}

void spf_record_free(spf_record *r) {
  if (!r)
    return;
  for (guint i = 0; i < r->terms->len; i++)
    term_clear(&g_array_index(r->terms, spf_term, i));
  g_array_free(r->terms, TRUE);
  g_free(r);
}

static const struct {
  const char *name;
  spf_term_kind kind;
} mech_table[] = {
    {"all", SPF_TERM_ALL}, {"include", SPF_TERM_INCLUDE}, {"a", SPF_TERM_A},
    {"mx", SPF_TERM_MX},   {"ptr", SPF_TERM_PTR},         {"ip4", SPF_TERM_IP4},
    {"ip6", SPF_TERM_IP6}, {"exists", SPF_TERM_EXISTS},
};

/* Parses one mechanism: NAME (NLEN) then ARG (ALEN: ":..." and/or "/..."). */
static const char *parse_mechanism(const char *name, size_t nlen, const char *arg, size_t alen,
                                   spf_term *t) {
  t->kind = SPF_TERM_KIND_COUNT;
  for (size_t i = 0; i < G_N_ELEMENTS(mech_table); i++)
    if (strlen(mech_table[i].name) == nlen &&
        g_ascii_strncasecmp(name, mech_table[i].name, nlen) == 0)
      t->kind = mech_table[i].kind;
  switch (t->kind) {
  case SPF_TERM_ALL:
    return alen == 0 ? NULL : "\"all\" takes no argument";
  case SPF_TERM_INCLUDE:
  case SPF_TERM_EXISTS:
  case SPF_TERM_PTR:
    if (alen == 0)
      return t->kind == SPF_TERM_PTR ? NULL : "missing domain-spec";
    if (arg[0] != ':' || !spf_domain_spec_valid(arg + 1, alen - 1))
      return "bad domain-spec";
    t->domain_spec = g_strndup(arg + 1, alen - 1);
    return NULL;
  case SPF_TERM_A:
  case SPF_TERM_MX:
    if (!strip_dual_cidr(arg, &alen, &t->cidr4, &t->cidr6))
      return "bad CIDR length";
    if (alen == 0)
      return NULL;
    if (arg[0] != ':' || !spf_domain_spec_valid(arg + 1, alen - 1))
      return "bad domain-spec";
    t->domain_spec = g_strndup(arg + 1, alen - 1);
    return NULL;
  case SPF_TERM_IP4:
  case SPF_TERM_IP6: {
    if (alen < 2 || arg[0] != ':')
      return "missing network";
    const char *net = arg + 1;
    size_t netlen = alen - 1;
    const char *slash = memchr(net, '/', netlen);
    bool v6 = t->kind == SPF_TERM_IP6;
    if (slash) {
      int *c = v6 ? &t->cidr6 : &t->cidr4;
      if (!cidr_parse(slash + 1, netlen - (size_t)(slash + 1 - net), v6 ? 128 : 32, c))
        return "bad CIDR length";
      netlen = (size_t)(slash - net);
    }
    char buf[64];
    if (netlen == 0 || netlen >= sizeof buf)
      return "bad network";
    memcpy(buf, net, netlen);
    buf[netlen] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, t->addr) != 1)
      return "bad network";
    return NULL;
  }
  default:
    return "unknown mechanism";
  }
}

static const char *parse_term(const char *s, size_t len, spf_term *t) {
  memset(t, 0, sizeof *t);
  t->cidr4 = t->cidr6 = -1;
  t->qualifier = '+';
  t->text = g_strndup(s, len);
  size_t i = 0;
  bool has_q = false;
  if (strchr("+-~?", s[0])) {
    t->qualifier = s[0];
    has_q = true;
    i++;
  }
  size_t n0 = i;
  if (i >= len || !g_ascii_isalpha(s[i]))
    return "term does not start with a name";
  while (i < len && (is_alnum(s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
    i++;
  size_t nlen = i - n0;
  if (i < len && s[i] == '=') {
    /* §4.6.1 modifier = name "=" macro-string; no qualifier. */
    if (has_q)
      return "qualifier on a modifier";
    const char *v = s + i + 1;
    size_t vlen = len - i - 1;
    if (nlen == 8 && g_ascii_strncasecmp(s + n0, "redirect", 8) == 0)
      t->kind = SPF_TERM_REDIRECT;
    else if (nlen == 3 && g_ascii_strncasecmp(s + n0, "exp", 3) == 0)
      t->kind = SPF_TERM_EXP;
    else
      t->kind = SPF_TERM_UNKNOWN_MOD;
    if (t->kind == SPF_TERM_UNKNOWN_MOD) {
      if (!spf_macro_valid(v, vlen, false, NULL))
        return "bad macro-string in modifier";
      return NULL;
    }
    if (!spf_domain_spec_valid(v, vlen))
      return "bad domain-spec in modifier";
    t->domain_spec = g_strndup(v, vlen);
    return NULL;
  }
  return parse_mechanism(s + n0, nlen, s + i, len - i, t);
}

spf_record *spf_record_parse(const char *text, size_t len, const char **problem) {
  const char *dummy;
  if (!problem)
    problem = &dummy;
  *problem = NULL;
  g_assert(spf_record_is_spf(text, len));
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c > 0x7e) {
      *problem = c > 0x7e ? "non-ASCII octet in record" : "control character in record";
      return NULL;
    }
  }
  spf_record *r = g_new0(spf_record, 1);
  r->terms = g_array_new(FALSE, TRUE, sizeof(spf_term));
  r->redirect_idx = r->exp_idx = -1;
  size_t i = 6;
  while (i < len) {
    while (i < len && text[i] == ' ')
      i++;
    if (i >= len)
      break;
    size_t s = i;
    while (i < len && text[i] != ' ')
      i++;
    spf_term t;
    const char *err = parse_term(text + s, i - s, &t);
    if (!err && t.kind == SPF_TERM_REDIRECT) {
      if (r->redirect_idx >= 0)
        err = "two redirect modifiers";
      r->redirect_idx = (int)r->terms->len;
    }
    if (!err && t.kind == SPF_TERM_EXP) {
      if (r->exp_idx >= 0)
        err = "two exp modifiers";
      r->exp_idx = (int)r->terms->len;
    }
    if (err) {
      term_clear(&t);
      spf_record_free(r);
      *problem = err;
      return NULL;
    }
    g_array_append_val(r->terms, t);
  }
  return r;
}
