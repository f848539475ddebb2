/* spam.c — a small SpamAssassin-like scorer: fixed named rules with
 * integer weights (tenths), a tag and a reject threshold, and the
 * X-Spam-Status / X-Spam-Score / X-Spam-Flag header values.
 *
 * What each rule looks at (SpamAssassin's rule of the same name unless
 * noted; weights and their sources are listed in spam.h):
 *  - GTUBE: the GTUBE string anywhere in the body, raw or after undoing
 *    the transfer encoding of a text part (SpamAssassin's "body GTUBE" rule
 *    matches decoded body text);
 *  - SPF_FAIL / SPF_SOFTFAIL: the RFC 7208 result for MAIL FROM;
 *  - DKIM_INVALID: a signature was present but failed (fail, permerror);
 *  - DMARC_POLICY_*: rspamd's rules — DMARC failed, by the policy asked;
 *  - MISSING_DATE / MISSING_MID: no Date / Message-ID in the header
 *    (RFC 5322 §3.6.1 makes Date mandatory, §3.6.4 Message-ID a SHOULD);
 *  - FORGED_SENDER (rspamd): the first From: address differs from the
 *    envelope sender (not for the null sender);
 *  - MIME_HTML_ONLY: text/html parts and no text/plain part;
 *  - SUBJECT_KEYWORD: a configured keyword in the decoded Subject;
 *  - DNSBL listings: the dnsbl verdict's scoring hits, with their names.
 * Scores are summed in tenths; no floating point is used anywhere, so the
 * same message gives the same bytes in every build. */
#include "spam.h"

#include <string.h>

#include "mime_addr.h"
#include "mime_ew.h"

static const char *const spf_names[SPAM_SPF_COUNT] = {"none",     "neutral",   "pass",     "fail",
                                                      "softfail", "temperror", "permerror"};
static const char *const dkim_names[SPAM_DKIM_COUNT] = {"none",    "pass",      "fail",
                                                        "neutral", "temperror", "permerror"};
static const char *const dmarc_names[SPAM_DMARC_COUNT] = {"none", "pass", "fail", "temperror",
                                                          "permerror"};
static const char *const policy_names[SPAM_DMARC_P_COUNT] = {"none", "quarantine", "reject"};
static const char *const rule_names[SPAM_RULE_COUNT] = {"GTUBE",
                                                        "SPF_FAIL",
                                                        "SPF_SOFTFAIL",
                                                        "DKIM_INVALID",
                                                        "DMARC_POLICY_REJECT",
                                                        "DMARC_POLICY_QUARANTINE",
                                                        "DMARC_POLICY_SOFTFAIL",
                                                        "MISSING_DATE",
                                                        "MISSING_MID",
                                                        "FORGED_SENDER",
                                                        "MIME_HTML_ONLY",
                                                        "SUBJECT_KEYWORD"};
static const char *const decision_names[SPAM_DECISION_COUNT] = {"ham", "tag", "reject"};

#define NAME_FN(fn, type, table, count)                                                            \
  const char *fn(type v) { return (unsigned)v < (count) ? table[v] : "?"; }
NAME_FN(spam_spf_name, spam_spf, spf_names, SPAM_SPF_COUNT)
NAME_FN(spam_dkim_name, spam_dkim, dkim_names, SPAM_DKIM_COUNT)
NAME_FN(spam_dmarc_name, spam_dmarc, dmarc_names, SPAM_DMARC_COUNT)
NAME_FN(spam_dmarc_policy_name, spam_dmarc_policy, policy_names, SPAM_DMARC_P_COUNT)
NAME_FN(spam_rule_name, spam_rule, rule_names, SPAM_RULE_COUNT)
NAME_FN(spam_decision_name, spam_decision, decision_names, SPAM_DECISION_COUNT)

static int find_name(const char *const *table, int n, const char *s, gboolean icase) {
  for (int i = 0; s && i < n; i++)
    if (icase ? g_ascii_strcasecmp(table[i], s) == 0 : strcmp(table[i], s) == 0)
      return i;
  return -1;
}

#define PARSE_FN(fn, type, table, count)                                                           \
  gboolean fn(const char *s, type *out) {                                                          \
    int i = find_name(table, count, s, TRUE);                                                      \
    if (i < 0)                                                                                     \
      return FALSE;                                                                                \
    *out = (type)i;                                                                                \
    return TRUE;                                                                                   \
  }
PARSE_FN(spam_spf_parse, spam_spf, spf_names, SPAM_SPF_COUNT)
PARSE_FN(spam_dkim_parse, spam_dkim, dkim_names, SPAM_DKIM_COUNT)
PARSE_FN(spam_dmarc_parse, spam_dmarc, dmarc_names, SPAM_DMARC_COUNT)
PARSE_FN(spam_dmarc_policy_parse, spam_dmarc_policy, policy_names, SPAM_DMARC_P_COUNT)

gboolean spam_rule_parse(const char *name, spam_rule *out) {
  int i = find_name(rule_names, SPAM_RULE_COUNT, name, FALSE);
  if (i < 0)
    return FALSE;
  *out = (spam_rule)i;
  return TRUE;
}

void spam_config_default(spam_config *c) {
  memset(c, 0, sizeof *c);
  static const int w[SPAM_RULE_COUNT] = {10000, 9, 10, 1, 20, 15, 1, 14, 1, 3, 1, 10};
  memcpy(c->weight, w, sizeof w);
  c->tag_threshold = 50;
  c->reject_threshold = SPAM_NO_REJECT;
  c->junk_folder = "Junk";
}

gboolean spam_config_set_weight(spam_config *c, const char *name, int tenths) {
  spam_rule r;
  if (!spam_rule_parse(name, &r))
    return FALSE;
  c->weight[r] = tenths;
  return TRUE;
}

void spam_input_init(spam_input *in, const mime_msg *msg, const char *mail_from) {
  memset(in, 0, sizeof *in);
  in->msg = msg;
  in->mail_from = mail_from;
}

char *spam_format_tenths(int tenths) {
  long long v = tenths;
  const char *sign = v < 0 ? "-" : "";
  if (v < 0)
    v = -v;
  return g_strdup_printf("%s%lld.%lld", sign, v / 10, v % 10);
}

static void hit_free(gpointer p) {
  spam_hit *h = p;
  g_free(h->name);
  g_free(h->desc);
  g_free(h);
}

void spam_result_clear(spam_result *r) {
  if (!r)
    return;
  if (r->hits)
    g_ptr_array_free(r->hits, TRUE);
  g_free(r->text);
  g_free(r->flag_header);
  g_free(r->score_header);
  g_free(r->status_header);
  memset(r, 0, sizeof *r);
}

static void add_hit(spam_result *r, const char *name, int score, char *desc) {
  spam_hit *h = g_new0(spam_hit, 1);
  h->name = g_strdup(name);
  h->score = score;
  h->desc = desc;
  g_ptr_array_add(r->hits, h);
  r->score = (int)CLAMP((gint64)r->score + score, -G_MAXINT / 2, G_MAXINT / 2);
}

static void rule(const spam_config *c, spam_result *r, spam_rule id, const char *desc) {
  if (c->weight[id] != 0)
    add_hit(r, rule_names[id], c->weight[id], g_strdup(desc));
}

static gboolean contains(const guint8 *hay, gsize n, const char *needle) {
  gsize m = strlen(needle);
  if (m == 0 || n < m)
    return m == 0;
  for (gsize i = 0; i + m <= n; i++)
    if (hay[i] == (guint8)needle[0] && memcmp(hay + i, needle, m) == 0)
      return TRUE;
  return FALSE;
}

typedef struct {
  const mime_msg *m;
  gboolean gtube;
  guint html, plain;
} walk_state;

static gboolean walk(const mime_part *p, void *ud) {
  walk_state *w = ud;
  if (mime_part_is_multipart(p) || mime_part_is_message(p))
    return TRUE;
  gboolean text = p->type && g_str_equal(p->type, "text");
  if (text && p->subtype && g_str_equal(p->subtype, "html"))
    w->html++;
  else if (text && p->subtype && g_str_equal(p->subtype, "plain"))
    w->plain++;
  if (text && !w->gtube) {
    GBytes *b = mime_part_decode(w->m, p, NULL);
    gsize n = 0;
    const guint8 *d = g_bytes_get_data(b, &n);
    w->gtube = contains(d, n, SPAM_GTUBE);
    g_bytes_unref(b);
  }
  return TRUE;
}

static char *first_from(const mime_hdr *h) {
  const char *from = mime_hdr_get(h, "From");
  if (!from)
    return NULL;
  GPtrArray *list = mime_addr_parse(from, NULL);
  char *spec = NULL;
  for (guint i = 0; i < list->len && !spec; i++) {
    const mime_addr *a = list->pdata[i];
    if (a->kind == MIME_ADDR_MAILBOX && a->local)
      spec = mime_addr_spec(a);
  }
  g_ptr_array_unref(list);
  return spec;
}

static gboolean ascii_icontains(const char *hay, const char *needle) {
  gsize n = strlen(hay), m = strlen(needle);
  if (m == 0)
    return FALSE;
  for (gsize i = 0; i + m <= n; i++)
    if (g_ascii_strncasecmp(hay + i, needle, m) == 0)
      return TRUE;
  return FALSE;
}

static gint hit_cmp(gconstpointer a, gconstpointer b) {
  const spam_hit *x = *(const spam_hit *const *)a, *y = *(const spam_hit *const *)b;
  return strcmp(x->name, y->name);
}

void spam_score(const spam_config *cfg, const spam_input *in, spam_result *out) {
  spam_config def;
  if (!cfg) {
    spam_config_default(&def);
    cfg = &def;
  }
  g_assert(in && in->msg);
  memset(out, 0, sizeof *out);
  out->hits = g_ptr_array_new_with_free_func(hit_free);
  out->required = cfg->tag_threshold;
  const mime_part *root = mime_msg_root(in->msg);
  const mime_hdr *h = root->hdr;

  /* GTUBE: raw body, then each text part decoded. */
  walk_state w = {.m = in->msg};
  gsize len = 0;
  const guint8 *data = mime_msg_data(in->msg, &len);
  if (root->body_off <= len)
    w.gtube = contains(data + root->body_off, len - root->body_off, SPAM_GTUBE);
  mime_msg_walk(in->msg, walk, &w);
  if (w.gtube)
    rule(cfg, out, SPAM_RULE_GTUBE, "GTUBE test string in the body");

  if (in->spf == SPAM_SPF_FAIL)
    rule(cfg, out, SPAM_RULE_SPF_FAIL, "SPF: sender does not match SPF record (fail)");
  if (in->spf == SPAM_SPF_SOFTFAIL)
    rule(cfg, out, SPAM_RULE_SPF_SOFTFAIL, "SPF: sender does not match SPF record (softfail)");
  if (in->dkim == SPAM_DKIM_FAIL || in->dkim == SPAM_DKIM_PERMERROR)
    rule(cfg, out, SPAM_RULE_DKIM_INVALID, "DKIM signature exists, but is not valid");
  if (in->dmarc == SPAM_DMARC_FAIL) {
    spam_rule r = in->dmarc_policy == SPAM_DMARC_P_REJECT       ? SPAM_RULE_DMARC_REJECT
                  : in->dmarc_policy == SPAM_DMARC_P_QUARANTINE ? SPAM_RULE_DMARC_QUARANTINE
                                                                : SPAM_RULE_DMARC_SOFTFAIL;
    char *d = g_strdup_printf("DMARC failed, policy %s", spam_dmarc_policy_name(in->dmarc_policy));
    rule(cfg, out, r, d);
    g_free(d);
  }
  if (!mime_hdr_get(h, "Date"))
    rule(cfg, out, SPAM_RULE_MISSING_DATE, "Missing Date: header");
  if (!mime_hdr_get(h, "Message-ID"))
    rule(cfg, out, SPAM_RULE_MISSING_MID, "Missing Message-Id: header");

  if (in->mail_from && in->mail_from[0]) {
    char *from = first_from(h);
    if (from && g_ascii_strcasecmp(from, in->mail_from) != 0) {
      char *d = g_strdup_printf("From: %s differs from MAIL FROM %s", from, in->mail_from);
      rule(cfg, out, SPAM_RULE_FORGED_SENDER, d);
      g_free(d);
    }
    g_free(from);
  }
  if (w.html > 0 && w.plain == 0)
    rule(cfg, out, SPAM_RULE_HTML_ONLY, "Message only has text/html MIME parts");

  const char *subj = mime_hdr_get(h, "Subject");
  if (subj && cfg->subject_keywords) {
    char *dec = mime_ew_decode(subj);
    for (const char *const *k = cfg->subject_keywords; *k; k++) {
      if (ascii_icontains(dec, *k)) {
        char *d = g_strdup_printf("Subject contains \"%s\"", *k);
        rule(cfg, out, SPAM_RULE_SUBJECT_KEYWORD, d);
        g_free(d);
        break;
      }
    }
    g_free(dec);
  }

  if (in->dnsbl && in->dnsbl->hits) {
    for (guint i = 0; i < in->dnsbl->hits->len; i++) {
      const dnsbl_hit *d = in->dnsbl->hits->pdata[i];
      if (d->action != DNSBL_SCORE)
        continue;
      add_hit(out, d->rule, d->weight,
              g_strdup_printf("Listed in %s (%s)%s%s", d->zone, d->codes ? d->codes : "",
                              d->reason ? ": " : "", d->reason ? d->reason : ""));
    }
  }

  g_ptr_array_sort(out->hits, hit_cmp);
  out->decision = out->score >= cfg->reject_threshold ? SPAM_REJECT
                  : out->score >= cfg->tag_threshold  ? SPAM_TAG
                                                      : SPAM_HAM;
  char *sc = spam_format_tenths(out->score);
  char *rq = spam_format_tenths(cfg->tag_threshold);
  GString *tests = g_string_new(NULL);
  for (guint i = 0; i < out->hits->len; i++) {
    const spam_hit *x = out->hits->pdata[i];
    if (i)
      g_string_append_c(tests, ',');
    g_string_append(tests, x->name);
  }
  gboolean spam = out->decision != SPAM_HAM;
  out->score_header = g_strdup(sc);
  out->status_header = g_strdup_printf("%s, score=%s required=%s tests=%s", spam ? "Yes" : "No", sc,
                                       rq, tests->len ? tests->str : "none");
  out->flag_header = spam ? g_strdup("YES") : NULL;
  if (out->decision == SPAM_REJECT) {
    char *rj = spam_format_tenths(cfg->reject_threshold);
    out->code = 550;
    out->esc = "5.7.1";
    out->text = g_strdup_printf("Message refused as spam (score=%s, reject at %s)", sc, rj);
    g_free(rj);
  } else if (out->decision == SPAM_TAG) {
    out->folder = cfg->junk_folder;
  }
  g_string_free(tests, TRUE);
  g_free(sc);
  g_free(rq);
}
