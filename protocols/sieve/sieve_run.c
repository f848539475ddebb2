/* sieve_run.c — the Sieve interpreter (RFC 5228 §2.10, §3–§5) and the
 * match types and comparators (§2.7, RFC 4790 §9.2–§9.3).
 *
 *  - header (§5.7): each named field of the message header, unfolded,
 *    trimmed of leading and trailing whitespace, RFC 2047 words decoded
 *    (§2.7.2: values are compared as UTF-8 text); absent → false;
 *  - address (§5.1): each mailbox of each named field (group names and
 *    display names are never compared), :all = local@domain, :localpart,
 *    :domain; :all is the default;
 *  - envelope (§5.4): "from" is MAIL FROM, "to" the recipient being
 *    delivered; the null reverse path is matched as "" whatever the part;
 *  - exists (§5.5): every named field is present;
 *  - size (§5.9): the message's octets, strictly over / under;
 *  - :is, :contains ("" is in every value), :matches with "*" (any run)
 *    and "?" (one character, and both i;octet and i;ascii-casemap define
 *    a character as one octet, §2.7.1), "\" taking the next key
 *    character literally; i;ascii-casemap folds A–Z only (RFC 4790 §9.2).
 * Actions (§2.10.1–§2.10.3, §4): keep, fileinto, redirect and discard all
 * cancel the implicit keep; a duplicate folder or address is done once;
 * "keep" and fileinto "INBOX" are one. stop ends the script (§3.3).
 * Redirects are capped (Pigeonhole's sieve_max_redirects, 4); going over
 * is a run-time error: the script's actions are dropped and the implicit
 * keep done (§2.10.6). */
#include "sieve_int.h"

#include <string.h>

#include "mime_addr.h"
#include "mime_ew.h"

const char *sieve_action_kind_name(sieve_action_kind k) {
  static const char *const n[SIEVE_ACTION_COUNT] = {"keep", "fileinto", "redirect", "discard"};
  return (unsigned)k < SIEVE_ACTION_COUNT ? n[k] : "?";
}

/* ---- matching ---- */

static gboolean eq_char(char a, char b, gboolean fold) {
  return fold ? g_ascii_tolower(a) == g_ascii_tolower(b) : a == b;
}

/* Wildcard match with one backtracking point (the last "*"), which is
 * enough for "*" and "?" and keeps the cost at O(len(value) * len(key)). */
static gboolean glob(const char *v, gsize vn, const char *k, gsize kn, gboolean fold) {
  gsize vi = 0, ki = 0;
  gsize star_k = G_MAXSIZE, star_v = 0;
  while (vi < vn) {
    if (ki < kn && k[ki] == '*') {
      star_k = ++ki;
      star_v = vi;
      continue;
    }
    if (ki < kn && k[ki] == '?') {
      ki++;
      vi++;
      continue;
    }
    if (ki < kn) {
      char kc = k[ki];
      gsize step = 1;
      if (kc == '\\' && ki + 1 < kn) {
        kc = k[ki + 1];
        step = 2;
      }
      if (eq_char(kc, v[vi], fold)) {
        ki += step;
        vi++;
        continue;
      }
    }
    if (star_k == G_MAXSIZE)
      return FALSE;
    star_v++;
    vi = star_v;
    ki = star_k;
  }
  while (ki < kn && k[ki] == '*')
    ki++;
  return ki == kn;
}

gboolean sieve_match_value(sieve_match m, sieve_cmp c, const char *value, const char *key) {
  gboolean fold = c == SIEVE_CMP_ASCII_CASEMAP;
  gsize vn = strlen(value), kn = strlen(key);
  switch (m) {
  case SIEVE_MATCH_IS:
    if (vn != kn)
      return FALSE;
    for (gsize i = 0; i < vn; i++)
      if (!eq_char(value[i], key[i], fold))
        return FALSE;
    return TRUE;
  case SIEVE_MATCH_CONTAINS:
    if (kn == 0)
      return TRUE;
    for (gsize i = 0; i + kn <= vn; i++) {
      gsize j = 0;
      while (j < kn && eq_char(value[i + j], key[j], fold))
        j++;
      if (j == kn)
        return TRUE;
    }
    return FALSE;
  case SIEVE_MATCH_MATCHES:
    return glob(value, vn, key, kn, fold);
  default:
    g_assert_not_reached();
  }
  return FALSE;
}

static gboolean any_key(const sieve_test *t, const char *value) {
  for (guint i = 0; i < t->keys->len; i++)
    if (sieve_match_value(t->match, t->cmp, value, t->keys->pdata[i]))
      return TRUE;
  return FALSE;
}

/* ---- tests ---- */

typedef struct {
  const sieve_input *in;
  const mime_hdr *hdr;
  gsize size;
  GPtrArray *actions;
  guint redirects;
  guint max_redirects;
  gboolean stopped;
  gboolean cancel_implicit;
  char *error;
} runner;

static gboolean test_header(const runner *r, const sieve_test *t) {
  guint n = mime_hdr_count(r->hdr);
  for (guint h = 0; h < t->names->len; h++) {
    const char *name = t->names->pdata[h];
    for (guint i = 0; i < n; i++) {
      const mime_hdr_field *f = mime_hdr_nth(r->hdr, i);
      if (g_ascii_strcasecmp(f->name, name) != 0)
        continue;
      char *dec = mime_ew_decode(f->value ? f->value : "");
      gboolean hit = any_key(t, g_strstrip(dec));
      g_free(dec);
      if (hit)
        return TRUE;
    }
  }
  return FALSE;
}

static gboolean match_part(const sieve_test *t, const char *local, const char *domain) {
  const char *v;
  char *all = NULL;
  switch (t->part) {
  case SIEVE_PART_LOCAL:
    v = local;
    break;
  case SIEVE_PART_DOMAIN:
    v = domain ? domain : "";
    break;
  default:
    all = domain ? g_strdup_printf("%s@%s", local, domain) : g_strdup(local);
    v = all;
    break;
  }
  gboolean hit = any_key(t, v);
  g_free(all);
  return hit;
}

static gboolean test_address(const runner *r, const sieve_test *t) {
  guint n = mime_hdr_count(r->hdr);
  for (guint h = 0; h < t->names->len; h++) {
    for (guint i = 0; i < n; i++) {
      const mime_hdr_field *f = mime_hdr_nth(r->hdr, i);
      if (g_ascii_strcasecmp(f->name, t->names->pdata[h]) != 0)
        continue;
      GPtrArray *list = mime_addr_parse(f->value ? f->value : "", NULL);
      gboolean hit = FALSE;
      for (guint k = 0; k < list->len && !hit; k++) {
        const mime_addr *a = list->pdata[k];
        if (a->kind == MIME_ADDR_MAILBOX && a->local)
          hit = match_part(t, a->local, a->domain);
      }
      g_ptr_array_unref(list);
      if (hit)
        return TRUE;
    }
  }
  return FALSE;
}

static gboolean test_envelope(const runner *r, const sieve_test *t) {
  for (guint h = 0; h < t->names->len; h++) {
    const char *part = t->names->pdata[h];
    const char *v = g_str_equal(part, "from") ? r->in->env_from : r->in->env_to;
    if (!v)
      continue;
    if (!*v) { /* §5.4: the null reverse path is "" whatever the part */
      if (any_key(t, ""))
        return TRUE;
      continue;
    }
    const char *at = strrchr(v, '@');
    char *local = at ? g_strndup(v, (gsize)(at - v)) : g_strdup(v);
    gboolean hit = match_part(t, local, at ? at + 1 : NULL);
    g_free(local);
    if (hit)
      return TRUE;
  }
  return FALSE;
}

static gboolean eval(const runner *r, const sieve_test *t) {
  switch (t->kind) {
  case SIEVE_T_TRUE:
    return TRUE;
  case SIEVE_T_FALSE:
    return FALSE;
  case SIEVE_T_NOT:
    return !eval(r, t->sub->pdata[0]);
  case SIEVE_T_ALLOF:
    for (guint i = 0; i < t->sub->len; i++)
      if (!eval(r, t->sub->pdata[i]))
        return FALSE;
    return TRUE;
  case SIEVE_T_ANYOF:
    for (guint i = 0; i < t->sub->len; i++)
      if (eval(r, t->sub->pdata[i]))
        return TRUE;
    return FALSE;
  case SIEVE_T_HEADER:
    return test_header(r, t);
  case SIEVE_T_ADDRESS:
    return test_address(r, t);
  case SIEVE_T_ENVELOPE:
    return test_envelope(r, t);
  case SIEVE_T_EXISTS:
    for (guint i = 0; i < t->names->len; i++)
      if (!mime_hdr_find(r->hdr, t->names->pdata[i], 0))
        return FALSE;
    return TRUE;
  case SIEVE_T_SIZE:
    return t->over ? (guint64)r->size > t->limit : (guint64)r->size < t->limit;
  default:
    g_assert_not_reached();
  }
  return FALSE;
}

/* ---- actions ---- */

static void action_free(gpointer p) {
  sieve_action *a = p;
  g_free(a->arg);
  g_free(a);
}

static gboolean is_inbox(const sieve_action *a) {
  return a->kind == SIEVE_KEEP ||
         (a->kind == SIEVE_FILEINTO && g_ascii_strcasecmp(a->arg, "INBOX") == 0);
}

static gboolean same_action(const sieve_action *a, const sieve_action *b) {
  if (is_inbox(a) || is_inbox(b))
    return is_inbox(a) && is_inbox(b);
  if (a->kind != b->kind)
    return FALSE;
  if (a->kind == SIEVE_FILEINTO)
    return g_str_equal(a->arg, b->arg);
  if (a->kind == SIEVE_REDIRECT)
    return g_ascii_strcasecmp(a->arg, b->arg) == 0;
  return TRUE; /* discard */
}

static void add_action(runner *r, sieve_action_kind k, const char *arg, guint line) {
  sieve_action a = {k, (char *)arg, FALSE, line};
  for (guint i = 0; i < r->actions->len; i++)
    if (same_action(r->actions->pdata[i], &a))
      return;
  if (k == SIEVE_REDIRECT && ++r->redirects > r->max_redirects) {
    r->error = g_strdup_printf("line %u: more than %u redirect actions", line, r->max_redirects);
    r->stopped = TRUE;
    return;
  }
  sieve_action *n = g_new0(sieve_action, 1);
  *n = a;
  n->arg = g_strdup(arg);
  g_ptr_array_add(r->actions, n);
}

static void exec_block(runner *r, const GPtrArray *cmds) {
  for (guint i = 0; i < cmds->len && !r->stopped; i++) {
    const sieve_cmd *c = cmds->pdata[i];
    switch (c->kind) {
    case SIEVE_C_IF: {
      gboolean done = FALSE;
      for (guint k = 0; k < c->conds->len && !done; k++) {
        if (eval(r, c->conds->pdata[k])) {
          exec_block(r, c->blocks->pdata[k]);
          done = TRUE;
        }
      }
      if (!done && c->else_block)
        exec_block(r, c->else_block);
      break;
    }
    case SIEVE_C_KEEP:
      add_action(r, SIEVE_KEEP, NULL, c->line);
      r->cancel_implicit = TRUE;
      break;
    case SIEVE_C_DISCARD:
      add_action(r, SIEVE_DISCARD, NULL, c->line);
      r->cancel_implicit = TRUE;
      break;
    case SIEVE_C_FILEINTO:
      add_action(r, SIEVE_FILEINTO, c->arg, c->line);
      r->cancel_implicit = TRUE;
      break;
    case SIEVE_C_REDIRECT:
      add_action(r, SIEVE_REDIRECT, c->arg, c->line);
      r->cancel_implicit = TRUE;
      break;
    case SIEVE_C_STOP:
      r->stopped = TRUE;
      break;
    default:
      g_assert_not_reached();
    }
  }
}

void sieve_result_clear(sieve_result *r) {
  if (!r)
    return;
  if (r->actions)
    g_ptr_array_free(r->actions, TRUE);
  g_free(r->error);
  memset(r, 0, sizeof *r);
}

void sieve_run(const sieve_script *s, const sieve_input *in, sieve_result *out) {
  g_assert(s && in && in->msg);
  memset(out, 0, sizeof *out);
  runner r = {0};
  r.in = in;
  r.hdr = mime_msg_root(in->msg)->hdr;
  mime_msg_data(in->msg, &r.size);
  r.actions = g_ptr_array_new_with_free_func(action_free);
  r.max_redirects = in->max_redirects ? in->max_redirects : 4;
  exec_block(&r, s->cmds);
  if (r.error) {
    g_ptr_array_set_size(r.actions, 0);
    r.cancel_implicit = FALSE;
  }
  if (!r.cancel_implicit) {
    sieve_action *k = g_new0(sieve_action, 1);
    k->kind = SIEVE_KEEP;
    k->implicit = TRUE;
    g_ptr_array_add(r.actions, k);
  }
  out->actions = r.actions;
  out->error = r.error;
}

char *sieve_result_describe(const sieve_result *r) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < r->actions->len; i++) {
    const sieve_action *a = r->actions->pdata[i];
    if (i)
      g_string_append(s, "; ");
    if (a->implicit)
      g_string_append(s, "implicit ");
    g_string_append(s, sieve_action_kind_name(a->kind));
    if (a->arg)
      g_string_append_printf(s, " \"%s\"", a->arg);
  }
  return g_string_free(s, FALSE);
}
