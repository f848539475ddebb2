/* mta_policy.c — session limit, per-client sliding-window rate limit,
 * hop counting and the Received stamp (see mta_policy.h for the RFC and
 * Postfix sources of each number).
 *
 * The rate window is exact, not a bucket approximation: each client keeps
 * the times of its last rate_limit accepted events in a ring; an event is
 * accepted when the oldest of them is outside (NOW − window, NOW]. The
 * client table is a GHashTable used for lookup only; pruning removes
 * entries, which no output depends on.
 */
#include "mta_policy.h"

#include <string.h>

#include "mime_hdr.h"
#include "mime_scan.h"

typedef struct {
  int64_t *ring; /* rate_limit slots */
  unsigned n;    /* used slots */
  unsigned head; /* oldest when n == rate_limit */
  int64_t last;
} client_ent;

struct mta_policy {
  mta_policy_config cfg;
  unsigned sessions;
  GHashTable *clients; /* address → client_ent* */
};

static void client_free(gpointer v) {
  client_ent *c = v;
  g_free(c->ring);
  g_free(c);
}

void mta_policy_config_init(mta_policy_config *cfg) {
  cfg->max_sessions = 100;
  cfg->rate_limit = 0;
  cfg->rate_window = INT64_C(60000000000);
  cfg->max_hops = 50;
}

mta_policy *mta_policy_new(const mta_policy_config *cfg) {
  g_assert(cfg->rate_limit == 0 || cfg->rate_window > 0);
  mta_policy *p = g_new0(mta_policy, 1);
  p->cfg = *cfg;
  p->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, client_free);
  return p;
}

void mta_policy_free(mta_policy *p) {
  if (!p)
    return;
  g_hash_table_destroy(p->clients);
  g_free(p);
}

bool mta_policy_session_begin(mta_policy *p, mta_policy_verdict *v) {
  if (p->cfg.max_sessions && p->sessions >= p->cfg.max_sessions) {
    *v = (mta_policy_verdict){421, "4.7.0", "Error: too many connections, try again later"};
    return false;
  }
  p->sessions++;
  *v = (mta_policy_verdict){0, NULL, NULL};
  return true;
}

void mta_policy_session_end(mta_policy *p) {
  g_assert(p->sessions > 0);
  p->sessions--;
}

unsigned mta_policy_sessions(const mta_policy *p) { return p->sessions; }

/* The oldest accepted time still to leave the ring, when it is full. */
static bool ring_full(const mta_policy *p, const client_ent *c) {
  return c->n == p->cfg.rate_limit;
}

bool mta_policy_rate(mta_policy *p, const char *client, int64_t now, mta_policy_verdict *v) {
  *v = (mta_policy_verdict){0, NULL, NULL};
  if (p->cfg.rate_limit == 0)
    return true;
  client_ent *c = g_hash_table_lookup(p->clients, client);
  if (!c) {
    c = g_new0(client_ent, 1);
    c->ring = g_new(int64_t, p->cfg.rate_limit);
    c->last = now;
    g_hash_table_insert(p->clients, g_strdup(client), c);
  }
  if (now < c->last)
    g_error("mta_policy_rate: time went backwards for %s", client);
  c->last = now;
  if (ring_full(p, c) && c->ring[c->head] > now - p->cfg.rate_window) {
    *v = (mta_policy_verdict){450, "4.7.1", "Error: too much mail from this client, slow down"};
    return false;
  }
  if (ring_full(p, c)) {
    c->ring[c->head] = now;
    c->head = (c->head + 1) % p->cfg.rate_limit;
  } else {
    c->ring[(c->head + c->n) % p->cfg.rate_limit] = now;
    c->n++;
  }
  return true;
}

int64_t mta_policy_rate_next(const mta_policy *p, const char *client, int64_t now) {
  if (p->cfg.rate_limit == 0)
    return now;
  const client_ent *c = g_hash_table_lookup(p->clients, client);
  if (!c || !ring_full(p, c) || c->ring[c->head] <= now - p->cfg.rate_window)
    return now;
  return c->ring[c->head] + p->cfg.rate_window;
}

static gboolean idle_client(gpointer key, gpointer value, gpointer ud) {
  (void)key;
  const mta_policy *p = ((void **)ud)[0];
  int64_t now = *(const int64_t *)((void **)ud)[1];
  const client_ent *c = value;
  return c->last <= now - p->cfg.rate_window;
}

void mta_policy_prune(mta_policy *p, int64_t now) {
  void *ud[2] = {p, &now};
  g_hash_table_foreach_remove(p->clients, idle_client, ud);
}

size_t mta_policy_clients(const mta_policy *p) { return g_hash_table_size(p->clients); }

unsigned mta_policy_count_received(const uint8_t *msg, size_t len) {
  mta_policy_header hd;
  mta_policy_scan_header(msg, len, &hd); /* the one walk of the header's lines */
  return hd.received;
}

bool mta_policy_hops(const mta_policy *p, const uint8_t *msg, size_t len, mta_policy_verdict *v) {
  return mta_policy_hops_of(p, p->cfg.max_hops ? mta_policy_count_received(msg, len) : 0, v);
}

bool mta_policy_hops_of(const mta_policy *p, unsigned received, mta_policy_verdict *v) {
  if (p->cfg.max_hops && received > p->cfg.max_hops) {
    *v = (mta_policy_verdict){554, "5.4.0", "Error: too many hops"};
    return false;
  }
  *v = (mta_policy_verdict){0, NULL, NULL};
  return true;
}

/* Is the line S[0..EOL) a field "name:" as mime_hdr_scan reads one (ftext,
 * RFC 5322 §3.6.8, then WSP, §4.5.1, then the colon)? Its name's length
 * into *NL and the colon's place into *COLON. */
static bool field_line(const uint8_t *s, size_t eol, size_t *nl, size_t *colon) {
  size_t ne = mime_scan_name_end((const char *)s, 0, eol);
  size_t c = ne;
  while (c < eol && (s[c] == ' ' || s[c] == '\t'))
    c++;
  if (ne == 0 || c == eol || s[c] != ':')
    return false;
  *nl = ne;
  *colon = c;
  return true;
}

void mta_policy_scan_header(const uint8_t *msg, size_t len, mta_policy_header *out) {
  unsigned n = 0;
  size_t i = 0, id_start = 0, id_end = 0;
  bool fields = true; /* mime's scan still reads fields (no line that is not one yet) */
  bool found = false, in_id = false;
  while (i < len) {
    const uint8_t *lf = (const uint8_t *)mime_scan_lf((const char *)msg + i, len - i);
    size_t e = lf ? (size_t)(lf - msg) : len;
    size_t l = e - i;
    if (l > 0 && msg[i + l - 1] == '\r')
      l--;
    if (l == 0) /* the empty line ends the header */
      break;
    /* mime_hdr_scan's line end: a CR is dropped only before an LF */
    size_t eol = lf ? i + l : len;
    if (msg[i] == ' ' || msg[i] == '\t') { /* a folded continuation */
      if (in_id)
        id_end = eol;
    } else {
      if (l >= 9 && (msg[i] | 0x20) == 'r' &&
          g_ascii_strncasecmp((const char *)msg + i, "Received:", 9) == 0)
        n++;
      in_id = false;
      if (fields && !found) {
        size_t nl, colon;
        if (!field_line(msg + i, eol - i, &nl, &colon))
          fields = false; /* the body starts here, for mime's scan */
        else if (mime_hdr_name_is((const char *)msg + i, nl, "Message-ID", 10)) {
          found = in_id = true;
          id_start = i + colon + 1;
          id_end = eol;
        }
      }
    }
    i = e + 1;
  }
  out->received = n;
  out->msgid = found ? (const char *)msg + id_start : NULL;
  out->msgid_len = found ? id_end - id_start : 0;
}

const char *mta_policy_with(bool lmtp, bool ehlo, bool tls, bool auth) {
  /* RFC 3848 §1-2; LMTP sessions always say LHLO, so EHLO is implied. */
  static const char *const smtp[] = {"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"};
  static const char *const lm[] = {"LMTP", "LMTPA", "LMTPS", "LMTPSA"};
  unsigned k = (tls ? 2u : 0u) | (auth ? 1u : 0u);
  if (lmtp)
    return lm[k];
  if (!ehlo)
    return "SMTP"; /* HELO: no extensions, hence neither TLS nor AUTH */
  return smtp[k];
}

char *mta_policy_received(const mime_received *r, bool lmtp, bool ehlo, bool tls, bool auth) {
  return mta_policy_received_buf(r, lmtp, ehlo, tls, auth, NULL, 0);
}

char *mta_policy_received_buf(const mime_received *r, bool lmtp, bool ehlo, bool tls, bool auth,
                              char *buf, size_t bufsz) {
  mime_received copy = *r;
  copy.with = mta_policy_with(lmtp, ehlo, tls, auth);
  return mime_trace_received_buf(&copy, buf, bufsz);
}
