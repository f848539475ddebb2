/* dnsbl.c — DNS blocklist queries and answers (RFC 5782), as a sans-I/O
 * check that asks its host for lookups and is answered later.
 *
 * RFC 5782 §2.1: an IPv4 address is looked up as its four octets in
 * reverse order, as labels under the list's zone; an A record means
 * "listed", conventionally 127.0.0.2, other 127.0.0.x values carry
 * list-specific codes; a TXT record at the same name gives the reason.
 * §2.4: an IPv6 address is looked up as 32 reversed nibbles. NXDOMAIN (or
 * no A record) means "not listed". §5: every list contains the test entry
 * 127.0.0.2 (::FFFF:7F00:2 for IPv6 lists) and never 127.0.0.1, so
 * 127.0.0.1 — and any answer outside 127/8, which is what a wildcarding
 * resolver returns — is no listing. A failed lookup is not a listing
 * either (mail is not refused because a list is down); the verdict keeps
 * it visible as "error". The reject text follows Postfix's
 * reject_rbl_client: "Service unavailable; Client host [IP] blocked using
 * ZONE; REASON". */
#include "dnsbl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_name.h"

const char *dnsbl_answer_name(dnsbl_answer a) {
  static const char *const n[DNSBL_ANSWER_COUNT] = {"listed", "not-listed", "bogus", "error"};
  return (unsigned)a < DNSBL_ANSWER_COUNT ? n[a] : "?";
}

const char *dnsbl_action_name(dnsbl_action a) {
  static const char *const n[DNSBL_ACTION_COUNT] = {"reject", "score"};
  return (unsigned)a < DNSBL_ACTION_COUNT ? n[a] : "?";
}

const char *dnsbl_qtype_name(dnsbl_qtype t) {
  static const char *const n[DNSBL_QTYPE_COUNT] = {"A", "TXT"};
  return (unsigned)t < DNSBL_QTYPE_COUNT ? n[t] : "?";
}

const char *dnsbl_rcode_name(dnsbl_rcode r) {
  static const char *const n[DNSBL_RCODE_COUNT] = {"answer", "nodata", "nxdomain", "fail"};
  return (unsigned)r < DNSBL_RCODE_COUNT ? n[r] : "?";
}

const char *dnsbl_check_state_name(dnsbl_check_state s) {
  static const char *const n[DNSBL_CHECK_STATE_COUNT] = {"querying", "done"};
  return (unsigned)s < DNSBL_CHECK_STATE_COUNT ? n[s] : "?";
}

void dnsbl_zone_default(dnsbl_zone *z, const char *zone) {
  memset(z, 0, sizeof *z);
  z->zone = zone;
  z->action = DNSBL_SCORE;
  z->weight = 26;
  z->rule = "RCVD_IN_DNSBL";
  z->ipv4 = TRUE;
  z->ipv6 = TRUE;
  z->want_txt = TRUE;
}

char *dnsbl_query_name(const char *ip, const char *zone) {
  guint8 a[16];
  GString *s = g_string_new(NULL);
  if (ip && inet_pton(AF_INET, ip, a) == 1) {
    g_string_printf(s, "%u.%u.%u.%u.", a[3], a[2], a[1], a[0]);
  } else if (ip && inet_pton(AF_INET6, ip, a) == 1) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
      g_string_append_c(s, hex[a[i] & 15]);
      g_string_append_c(s, '.');
      g_string_append_c(s, hex[a[i] >> 4]);
      g_string_append_c(s, '.');
    }
  } else {
    g_string_free(s, TRUE);
    return NULL;
  }
  g_string_append(s, zone ? zone : "");
  if (s->str[s->len - 1] != '.')
    g_string_append_c(s, '.');
  dns_name n;
  if (dns_name_from_text(&n, s->str) != DNS_OK) {
    g_string_free(s, TRUE);
    return NULL;
  }
  g_string_free(s, TRUE);
  return dns_name_to_text(&n);
}

static gboolean code_wanted(const guint8 a[4], const char *const *codes) {
  if (!codes)
    return TRUE;
  for (const char *const *c = codes; *c; c++) {
    guint8 b[4];
    if (inet_pton(AF_INET, *c, b) == 1 && memcmp(a, b, 4) == 0)
      return TRUE;
  }
  return FALSE;
}

dnsbl_answer dnsbl_classify(dnsbl_rcode rc, const char *const *answers, guint n,
                            const char *const *codes, char **matched) {
  if (matched)
    *matched = NULL;
  if (rc == DNSBL_RCODE_FAIL)
    return DNSBL_ANSWER_ERROR;
  if (rc != DNSBL_RCODE_ANSWER || n == 0)
    return DNSBL_ANSWER_NOT_LISTED;
  GString *m = g_string_new(NULL);
  gboolean bogus = FALSE;
  for (guint i = 0; i < n; i++) {
    guint8 a[4];
    if (!answers[i] || inet_pton(AF_INET, answers[i], a) != 1 || a[0] != 127 ||
        (a[1] == 0 && a[2] == 0 && a[3] == 1)) {
      bogus = TRUE;
      continue;
    }
    if (!code_wanted(a, codes))
      continue;
    if (m->len)
      g_string_append_c(m, ',');
    g_string_append_printf(m, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
  }
  if (m->len) {
    if (matched)
      *matched = g_string_free(m, FALSE);
    else
      g_string_free(m, TRUE);
    return DNSBL_ANSWER_LISTED;
  }
  g_string_free(m, TRUE);
  return bogus ? DNSBL_ANSWER_BOGUS : DNSBL_ANSWER_NOT_LISTED;
}

/* ---- the check ---- */

/* Per list; transitions: SKIP (family not covered) | NEED_A → WAIT_A →
 * (NEED_TXT → WAIT_TXT →) DONE. */
typedef enum { Z_SKIP, Z_NEED_A, Z_WAIT_A, Z_NEED_TXT, Z_WAIT_TXT, Z_DONE } zstate;

typedef struct {
  zstate st;
  char *name;
  guint a_id, txt_id;
  dnsbl_answer answer;
  char *codes;
  char *reason;
} zcheck;

struct dnsbl_check {
  dnsbl_check_state state;
  const dnsbl_zone *zones;
  guint n;
  zcheck *z;
  guint next_id;
  char *ip;
  dnsbl_verdict verdict;
};

static void hit_free(gpointer p) {
  dnsbl_hit *h = p;
  g_free(h->codes);
  g_free(h->reason);
  g_free(h);
}

static void finish(dnsbl_check *c) {
  dnsbl_verdict *v = &c->verdict;
  v->hits = g_ptr_array_new_with_free_func(hit_free);
  v->answers = g_array_new(FALSE, FALSE, sizeof(dnsbl_answer));
  for (guint i = 0; i < c->n; i++) {
    const dnsbl_zone *zc = &c->zones[i];
    zcheck *z = &c->z[i];
    dnsbl_answer a = z->st == Z_SKIP ? DNSBL_ANSWER_NOT_LISTED : z->answer;
    g_array_append_val(v->answers, a);
    if (a != DNSBL_ANSWER_LISTED)
      continue;
    dnsbl_hit *h = g_new0(dnsbl_hit, 1);
    h->zone = zc->zone;
    h->rule = zc->rule ? zc->rule : "RCVD_IN_DNSBL";
    h->action = zc->action;
    h->weight = zc->weight;
    h->codes = g_strdup(z->codes);
    h->reason = g_strdup(z->reason);
    g_ptr_array_add(v->hits, h);
    if (zc->action == DNSBL_SCORE) {
      v->score += zc->weight;
    } else if (!v->reject) { /* the first rejecting list gives the text */
      v->reject = TRUE;
      v->code = 554;
      v->esc = "5.7.1";
      v->text = g_strdup_printf("Service unavailable; Client host [%s] blocked using %s%s%s", c->ip,
                                zc->zone, h->reason ? "; " : "", h->reason ? h->reason : "");
    }
  }
  c->state = DNSBL_CHECK_DONE;
}

static void maybe_finish(dnsbl_check *c) {
  for (guint i = 0; i < c->n; i++)
    if (c->z[i].st != Z_SKIP && c->z[i].st != Z_DONE)
      return;
  finish(c);
}

dnsbl_check *dnsbl_check_new(const dnsbl_zone *zones, guint n_zones, const char *client_ip) {
  g_assert(zones || n_zones == 0);
  dnsbl_check *c = g_new0(dnsbl_check, 1);
  c->zones = zones;
  c->n = n_zones;
  c->z = g_new0(zcheck, n_zones ? n_zones : 1);
  c->next_id = 1;
  c->ip = g_strdup(client_ip ? client_ip : "");
  guint8 a[16];
  gboolean v4 = inet_pton(AF_INET, c->ip, a) == 1;
  gboolean v6 = !v4 && inet_pton(AF_INET6, c->ip, a) == 1;
  for (guint i = 0; i < n_zones; i++) {
    zcheck *z = &c->z[i];
    z->st = Z_SKIP;
    if ((v4 && zones[i].ipv4) || (v6 && zones[i].ipv6)) {
      z->name = dnsbl_query_name(c->ip, zones[i].zone);
      if (z->name)
        z->st = Z_NEED_A;
    }
  }
  maybe_finish(c);
  return c;
}

void dnsbl_check_free(dnsbl_check *c) {
  if (!c)
    return;
  for (guint i = 0; i < c->n; i++) {
    g_free(c->z[i].name);
    g_free(c->z[i].codes);
    g_free(c->z[i].reason);
  }
  g_free(c->z);
  g_free(c->ip);
  g_free(c->verdict.text);
  if (c->verdict.hits)
    g_ptr_array_free(c->verdict.hits, TRUE);
  if (c->verdict.answers)
    g_array_free(c->verdict.answers, TRUE);
  g_free(c);
}

dnsbl_check_state dnsbl_check_state_get(const dnsbl_check *c) { return c->state; }

gboolean dnsbl_check_next_query(dnsbl_check *c, dnsbl_query *q) {
  for (guint i = 0; i < c->n; i++) {
    zcheck *z = &c->z[i];
    if (z->st == Z_NEED_A) {
      z->a_id = c->next_id++;
      z->st = Z_WAIT_A;
      q->id = z->a_id;
      q->qtype = DNSBL_QTYPE_A;
      q->name = z->name;
      return TRUE;
    }
    if (z->st == Z_NEED_TXT) {
      z->txt_id = c->next_id++;
      z->st = Z_WAIT_TXT;
      q->id = z->txt_id;
      q->qtype = DNSBL_QTYPE_TXT;
      q->name = z->name;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean dnsbl_check_answer(dnsbl_check *c, guint id, dnsbl_rcode rc, const char *const *records,
                            guint n) {
  g_assert(records || n == 0);
  for (guint i = 0; i < c->n; i++) {
    zcheck *z = &c->z[i];
    if (z->st == Z_WAIT_A && z->a_id == id) {
      z->answer = dnsbl_classify(rc, records, n, c->zones[i].codes, &z->codes);
      z->st = z->answer == DNSBL_ANSWER_LISTED && c->zones[i].want_txt ? Z_NEED_TXT : Z_DONE;
      maybe_finish(c);
      return TRUE;
    }
    if (z->st == Z_WAIT_TXT && z->txt_id == id) {
      if (rc == DNSBL_RCODE_ANSWER && n > 0) {
        GString *s = g_string_new(NULL);
        for (guint k = 0; k < n; k++)
          if (records[k])
            g_string_append(s, records[k]);
        /* The reason goes into a reply line: keep printable ASCII only. */
        for (gsize k = 0; k < s->len; k++)
          if ((guint8)s->str[k] < 0x20 || (guint8)s->str[k] > 0x7e)
            s->str[k] = '?';
        z->reason = g_string_free(s, FALSE);
      }
      z->st = Z_DONE;
      maybe_finish(c);
      return TRUE;
    }
  }
  return FALSE;
}

const dnsbl_verdict *dnsbl_check_verdict(const dnsbl_check *c) {
  return c->state == DNSBL_CHECK_DONE ? &c->verdict : NULL;
}
