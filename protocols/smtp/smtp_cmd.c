/* smtp_cmd.c — SMTP command-line syntax: verbs, paths, ESMTP parameters.
 *
 * Follows RFC 5321 §4.1.1 (commands), §4.1.2 (Path, Mailbox, Local-part,
 * Domain, address literals), §4.5.3.1 (size limits), RFC 1870 §3 (SIZE),
 * RFC 6152 §2 (BODY), RFC 3461 §4 (RET, ENVID, NOTIFY, ORCPT, xtext),
 * RFC 4954 §4-5 (base64 responses, AUTH= on MAIL) and RFC 4616 §2 (PLAIN).
 * Lenient where Postfix is by default: spaces after "FROM:"/"TO:" and a
 * source route before the mailbox (ignored, §4.1.2 and Appendix C). Strict
 * about characters: only printable ASCII (no SMTPUTF8).
 */
#include "smtp_cmd.h"

#include <string.h>

static const char *const verb_names[SMTP_VERB__COUNT] = {
    [SMTP_VERB_UNKNOWN] = "?", [SMTP_VERB_HELO] = "HELO", [SMTP_VERB_EHLO] = "EHLO",
    [SMTP_VERB_MAIL] = "MAIL", [SMTP_VERB_RCPT] = "RCPT", [SMTP_VERB_DATA] = "DATA",
    [SMTP_VERB_RSET] = "RSET", [SMTP_VERB_NOOP] = "NOOP", [SMTP_VERB_QUIT] = "QUIT",
    [SMTP_VERB_VRFY] = "VRFY", [SMTP_VERB_HELP] = "HELP", [SMTP_VERB_STARTTLS] = "STARTTLS",
    [SMTP_VERB_AUTH] = "AUTH", [SMTP_VERB_EXPN] = "EXPN", [SMTP_VERB_ETRN] = "ETRN",
    [SMTP_VERB_TURN] = "TURN", [SMTP_VERB_BDAT] = "BDAT",
};

const char *smtp_cmd_verb_name(smtp_verb v) {
  g_assert((unsigned)v < SMTP_VERB__COUNT);
  return verb_names[v];
}

/* The four octets at S with ASCII letters in upper case (bit 5 cleared:
 * exact for comparing with upper-case letters, whose only other preimage
 * is their lower case), S[0] in the low octet whatever the byte order. */
static uint32_t upper4(const char *s) {
  const uint8_t *u = (const uint8_t *)s;
  uint32_t w = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
  return w & UINT32_C(0xDFDFDFDF);
}

/* upper4() of the upper-case name ABCD, as a constant. */
#define W4(a, b, c, d)                                                                             \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

void smtp_cmd_parse(const char *line, smtp_cmd *out) {
  size_t n = 0;
  while (line[n] && line[n] != ' ')
    n++;
  out->verb = SMTP_VERB_UNKNOWN;
  /* Every name is four upper-case letters but STARTTLS: compared as words
   * (RFC 5321 §2.4: verbs are case-insensitive), one switch on the word. */
  if (n == 4) {
    switch (upper4(line)) {
    case W4('H', 'E', 'L', 'O'):
      out->verb = SMTP_VERB_HELO;
      break;
    case W4('E', 'H', 'L', 'O'):
      out->verb = SMTP_VERB_EHLO;
      break;
    case W4('M', 'A', 'I', 'L'):
      out->verb = SMTP_VERB_MAIL;
      break;
    case W4('R', 'C', 'P', 'T'):
      out->verb = SMTP_VERB_RCPT;
      break;
    case W4('D', 'A', 'T', 'A'):
      out->verb = SMTP_VERB_DATA;
      break;
    case W4('R', 'S', 'E', 'T'):
      out->verb = SMTP_VERB_RSET;
      break;
    case W4('N', 'O', 'O', 'P'):
      out->verb = SMTP_VERB_NOOP;
      break;
    case W4('Q', 'U', 'I', 'T'):
      out->verb = SMTP_VERB_QUIT;
      break;
    case W4('V', 'R', 'F', 'Y'):
      out->verb = SMTP_VERB_VRFY;
      break;
    case W4('H', 'E', 'L', 'P'):
      out->verb = SMTP_VERB_HELP;
      break;
    case W4('A', 'U', 'T', 'H'):
      out->verb = SMTP_VERB_AUTH;
      break;
    case W4('E', 'X', 'P', 'N'):
      out->verb = SMTP_VERB_EXPN;
      break;
    case W4('E', 'T', 'R', 'N'):
      out->verb = SMTP_VERB_ETRN;
      break;
    case W4('T', 'U', 'R', 'N'):
      out->verb = SMTP_VERB_TURN;
      break;
    case W4('B', 'D', 'A', 'T'):
      out->verb = SMTP_VERB_BDAT;
      break;
    default:
      break;
    }
  } else if (n == 8 && upper4(line) == W4('S', 'T', 'A', 'R') &&
             upper4(line + 4) == W4('T', 'T', 'L', 'S')) {
    out->verb = SMTP_VERB_STARTTLS;
  }
  const char *a = line + n;
  while (*a == ' ')
    a++;
  out->arg = a;
}

/* ---- mailbox syntax (RFC 5321 §4.1.2) ---- */

/* Octet classes, one load per octet: C_ATEXT (RFC 5322 §3.2.3: letters,
 * digits and !#$%&'*+-/=?^_`{|}~), C_LETDIG (RFC 5321 §4.1.2 Let-dig: an
 * ASCII letter or digit, as g_ascii_isalnum), C_HYPHEN, C_DOT; rows of 32
 * octets (0x00-0x1f, 0x20-0x3f, ...). */
enum { C_ATEXT = 1, C_LETDIG = 2, C_HYPHEN = 4, C_DOT = 8 };
static const uint8_t cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 5, 8, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 0, 1,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 1,
    1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool is_atext(char c) { return cls[(unsigned char)c] & C_ATEXT; }

/* Length of the Local-part at S (dot-string or quoted-string), 0 if none. */
static size_t local_part_len(const char *s) {
  size_t i = 0;
  if (s[0] == '"') {
    for (i = 1; s[i] && s[i] != '"'; i++) {
      if (s[i] == '\\') {
        if (s[i + 1] < 32 || s[i + 1] > 126)
          return 0;
        i++;
      } else if (s[i] < 32 || s[i] > 126) {
        return 0;
      }
    }
    return s[i] == '"' ? i + 1 : 0;
  }
  for (;;) {
    size_t a = i;
    while (is_atext(s[i]))
      i++;
    if (i == a)
      return 0;
    if (s[i] != '.')
      return i;
    i++;
  }
}

/* Whether S[0..N) (NUL at S[N]) is a Domain or an address literal. */
static bool domain_valid(const char *s, size_t n) {
  if (n == 0 || n > 255)
    return false;
  if (s[0] == '[') {
    if (s[n - 1] != ']' || n < 3)
      return false;
    for (size_t i = 1; i + 1 < n; i++)
      if (s[i] < 33 || s[i] > 126 || s[i] == '[' || s[i] == ']' || s[i] == '\\')
        return false;
    return true;
  }
  /* Labels of Let-dig and inner hyphens, 1-63 octets, not ending in '-';
   * S[N] (NUL) ends the last one. */
  size_t lab = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned k = cls[(unsigned char)s[i]];
    if (k & C_LETDIG) {
      lab++;
    } else if (k & C_DOT) {
      if (lab == 0 || lab > 63 || s[i - 1] == '-')
        return false;
      lab = 0;
    } else if ((k & C_HYPHEN) && lab > 0) {
      lab++;
    } else {
      return false;
    }
  }
  return lab > 0 && lab <= 63 && s[n - 1] != '-';
}

bool smtp_cmd_mailbox_valid(const char *s) {
  size_t l = local_part_len(s);
  if (l == 0 || l > 64 || s[l] != '@')
    return false;
  size_t n = l + 1 + strlen(s + l + 1);
  return n <= 254 && domain_valid(s + l + 1, n - l - 1);
}

bool smtp_cmd_xtext_valid(const char *s) {
  /* RFC 3461 §4: xchar is "!".."~" except "+" and "="; "+" HEX HEX. */
  for (; *s; s++) {
    if (*s == '+') {
      if (!g_ascii_isxdigit(s[1]) || !g_ascii_isxdigit(s[2]) || g_ascii_islower(s[1]) ||
          g_ascii_islower(s[2]))
        return false;
      s += 2;
    } else if (*s < 33 || *s > 126 || *s == '=') {
      return false;
    }
  }
  return true;
}

/* ---- paths and parameters ---- */

static const smtp_cmd_status ok = {0, NULL, NULL};

/* A copy of S[0..N): in A when given, else its own allocation. */
static char *copy_str(smtp_cmd_arena *a, const char *s, size_t n) {
  return a ? smtp_cmd_arena_strndup(a, s, n) : g_strndup(s, n);
}

/* Parses "<path>" at *P. On success *OUT is the mailbox (source route
 * dropped; "" for "<>"), copied as copy_str does, and *P points after '>'. */
static bool parse_path(const char **p, char **out, smtp_cmd_arena *a) {
  const char *s = *p;
  if (*s != '<')
    return false;
  s++;
  if (*s == '@') { /* A-d-l ":" — a source route, ignored (RFC 5321 §4.1.2, App. C) */
    const char *colon = strchr(s, ':');
    if (!colon)
      return false;
    for (const char *q = s; q < colon; q++)
      if (*q == '>' || *q == ' ' || *q == '"')
        return false;
    s = colon + 1;
  }
  size_t l = *s == '>' ? 0 : local_part_len(s);
  const char *end = s + l;
  if (*end == '@')
    end += strcspn(end, "> ");
  if (*end != '>')
    return false;
  *out = copy_str(a, s, (size_t)(end - s));
  *p = end + 1;
  return true;
}

/* Parses a decimal uint64 with no sign; false on overflow or junk. */
static bool parse_u64(const char *s, uint64_t *v) {
  if (!*s)
    return false;
  uint64_t x = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
      return false;
    x = x * 10 + (uint64_t)(*s - '0');
  }
  *v = x;
  return true;
}

/* Calls FN for each "KEY[=VALUE]" of the space-separated list at P. */
typedef smtp_cmd_status (*param_fn)(void *ud, const char *key, const char *val);

static smtp_cmd_status each_param(const char *p, param_fn fn, void *ud) {
  static const smtp_cmd_status syntax = {501, "5.5.4", "Syntax error in parameters"};
  while (*p == ' ')
    p++;
  if (!*p) /* no parameters (the usual RCPT): no copy */
    return ok;
  /* The list is cut in place in a copy: words between spaces, empty ones
   * skipped, each "KEY=VALUE" cut at its first '='. */
  size_t n = strlen(p);
  char stack[512];
  char *copy = n < sizeof stack ? stack : g_malloc(n + 1);
  memcpy(copy, p, n + 1);
  smtp_cmd_status st = ok;
  for (char *w = copy; *w && st.code == 0;) {
    char *sp = strchr(w, ' ');
    if (sp)
      *sp = 0;
    if (*w) {
      char *eq = strchr(w, '=');
      if (eq)
        *eq = 0;
      const char *key = w;
      if (!*key) {
        st = syntax;
        break;
      }
      for (const char *k = key; *k; k++)
        if (!g_ascii_isalnum(*k) && *k != '-')
          st = syntax;
      if (st.code == 0)
        st = fn(ud, key, eq ? eq + 1 : NULL);
    }
    if (!sp)
      break;
    w = sp + 1;
  }
  if (copy != stack)
    g_free(copy);
  return st;
}

static const smtp_cmd_status unknown_param = {555, "5.5.4", "Unsupported option"};
static const smtp_cmd_status bad_value = {501, "5.5.4", "Bad parameter value"};
static const smtp_cmd_status dup_param = {501, "5.5.4", "Duplicate parameter"};

typedef struct {
  smtp_cmd_mail *m;
  unsigned allowed, seen;
  uint64_t max_size;
  smtp_cmd_arena *a;
} mail_ctx;

static smtp_cmd_status mail_param(void *ud, const char *key, const char *val) {
  mail_ctx *c = ud;
  static const char *const keys[] = {"SIZE", "BODY", "RET", "ENVID", "AUTH"};
  static const unsigned need[] = {SMTP_CMD_P_SIZE, SMTP_CMD_P_BODY, SMTP_CMD_P_DSN, SMTP_CMD_P_DSN,
                                  SMTP_CMD_P_AUTH};
  size_t k = 0;
  while (k < G_N_ELEMENTS(keys) && !smtp_cmd_ieq(key, keys[k]))
    k++;
  if (k == G_N_ELEMENTS(keys) || !(c->allowed & need[k]))
    return unknown_param;
  if (c->seen & (1u << k))
    return dup_param;
  c->seen |= 1u << k;
  if (!val || !*val)
    return bad_value;
  switch (k) {
  case 0:
    if (!parse_u64(val, &c->m->size))
      return bad_value;
    c->m->has_size = true;
    if (c->max_size && c->m->size > c->max_size) /* RFC 1870 §6.1 */
      return (smtp_cmd_status){552, "5.3.4", "Message size exceeds fixed limit"};
    break;
  case 1:
    if (smtp_cmd_ieq(val, "7BIT"))
      c->m->body = SMTP_BODY_7BIT;
    else if (smtp_cmd_ieq(val, "8BITMIME"))
      c->m->body = SMTP_BODY_8BITMIME;
    else
      return bad_value;
    break;
  case 2:
    if (smtp_cmd_ieq(val, "FULL"))
      c->m->ret = SMTP_RET_FULL;
    else if (smtp_cmd_ieq(val, "HDRS"))
      c->m->ret = SMTP_RET_HDRS;
    else
      return bad_value;
    break;
  case 3: /* RFC 3461 §4.4: at most 100 characters */
    if (strlen(val) > 100 || !smtp_cmd_xtext_valid(val))
      return bad_value;
    c->m->envid = copy_str(c->a, val, strlen(val));
    break;
  default: /* AUTH=: "<>" or an xtext mailbox (RFC 4954 §5) */
    if (strcmp(val, "<>") != 0 && !smtp_cmd_xtext_valid(val))
      return bad_value;
    c->m->auth = copy_str(c->a, val, strlen(val));
    break;
  }
  return ok;
}

/* Skips KW[0..N) ("FROM:" / "TO:", case-insensitive) and the spaces after it. */
static bool skip_keyword(const char **p, const char *kw, size_t n) {
  if (!smtp_cmd_ieqn(*p, kw, n))
    return false;
  *p += n;
  while (**p == ' ')
    (*p)++;
  return true;
}

void smtp_cmd_mail_clear(smtp_cmd_mail *m) {
  g_free(m->from);
  g_free(m->envid);
  g_free(m->auth);
  memset(m, 0, sizeof *m);
}

void smtp_cmd_rcpt_clear(smtp_cmd_rcpt *r) {
  g_free(r->to);
  g_free(r->orcpt);
  memset(r, 0, sizeof *r);
}

/* Forgets what OUT holds: freed, or only dropped when in an arena. */
static void drop_mail(smtp_cmd_mail *out, smtp_cmd_arena *a) {
  if (a)
    memset(out, 0, sizeof *out);
  else
    smtp_cmd_mail_clear(out);
}

static void drop_rcpt(smtp_cmd_rcpt *out, smtp_cmd_arena *a) {
  if (a)
    memset(out, 0, sizeof *out);
  else
    smtp_cmd_rcpt_clear(out);
}

smtp_cmd_status smtp_cmd_parse_mail_in(const char *arg, unsigned allowed, uint64_t max_size,
                                       smtp_cmd_mail *out, smtp_cmd_arena *a) {
  memset(out, 0, sizeof *out);
  const char *p = arg;
  if (!skip_keyword(&p, "FROM:", 5) || !parse_path(&p, &out->from, a) || (*p && *p != ' ')) {
    drop_mail(out, a);
    return (smtp_cmd_status){501, "5.5.4", "Syntax: MAIL FROM:<address>"};
  }
  if (*out->from && !smtp_cmd_mailbox_valid(out->from)) {
    drop_mail(out, a);
    return (smtp_cmd_status){501, "5.1.7", "Bad sender address syntax"};
  }
  mail_ctx c = {out, allowed, 0, max_size, a};
  smtp_cmd_status st = each_param(p, mail_param, &c);
  if (st.code)
    drop_mail(out, a);
  return st;
}

smtp_cmd_status smtp_cmd_parse_mail(const char *arg, unsigned allowed, uint64_t max_size,
                                    smtp_cmd_mail *out) {
  return smtp_cmd_parse_mail_in(arg, allowed, max_size, out, NULL);
}

typedef struct {
  smtp_cmd_rcpt *r;
  unsigned allowed, seen;
  smtp_cmd_arena *a;
} rcpt_ctx;

static smtp_cmd_status rcpt_param(void *ud, const char *key, const char *val) {
  rcpt_ctx *c = ud;
  bool notify = smtp_cmd_ieq(key, "NOTIFY");
  if ((!notify && !smtp_cmd_ieq(key, "ORCPT")) || !(c->allowed & SMTP_CMD_P_DSN))
    return unknown_param;
  unsigned bit = notify ? 1 : 2;
  if (c->seen & bit)
    return dup_param;
  c->seen |= bit;
  if (!val || !*val)
    return bad_value;
  if (!notify) { /* RFC 3461 §4.2: addr-type ";" xtext */
    const char *semi = strchr(val, ';');
    if (!semi || semi == val || !smtp_cmd_xtext_valid(semi + 1) || strlen(val) > 500)
      return bad_value;
    for (const char *q = val; q < semi; q++)
      if (!g_ascii_isalnum(*q) && *q != '-')
        return bad_value;
    c->r->orcpt = copy_str(c->a, val, strlen(val));
    return ok;
  }
  /* RFC 3461 §4.1: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY */
  gchar **items = g_strsplit(val, ",", -1);
  unsigned bits = 0;
  bool bad = false;
  for (gchar **q = items; *q; q++) {
    if (g_ascii_strcasecmp(*q, "NEVER") == 0)
      bits |= SMTP_NOTIFY_NEVER;
    else if (g_ascii_strcasecmp(*q, "SUCCESS") == 0)
      bits |= SMTP_NOTIFY_SUCCESS;
    else if (g_ascii_strcasecmp(*q, "FAILURE") == 0)
      bits |= SMTP_NOTIFY_FAILURE;
    else if (g_ascii_strcasecmp(*q, "DELAY") == 0)
      bits |= SMTP_NOTIFY_DELAY;
    else
      bad = true;
  }
  g_strfreev(items);
  if (bad || ((bits & SMTP_NOTIFY_NEVER) && bits != SMTP_NOTIFY_NEVER))
    return bad_value;
  c->r->notify = bits;
  return ok;
}

smtp_cmd_status smtp_cmd_parse_rcpt_in(const char *arg, unsigned allowed, smtp_cmd_rcpt *out,
                                       smtp_cmd_arena *a) {
  memset(out, 0, sizeof *out);
  const char *p = arg;
  if (!skip_keyword(&p, "TO:", 3) || !parse_path(&p, &out->to, a) || (*p && *p != ' ') || !*out->to) {
    drop_rcpt(out, a);
    return (smtp_cmd_status){501, "5.5.4", "Syntax: RCPT TO:<address>"};
  }
  if (!smtp_cmd_ieq(out->to, "postmaster") && !smtp_cmd_mailbox_valid(out->to)) {
    drop_rcpt(out, a);
    return (smtp_cmd_status){501, "5.1.3", "Bad recipient address syntax"};
  }
  rcpt_ctx c = {out, allowed, 0, a};
  smtp_cmd_status st = each_param(p, rcpt_param, &c);
  if (st.code)
    drop_rcpt(out, a);
  return st;
}

smtp_cmd_status smtp_cmd_parse_rcpt(const char *arg, unsigned allowed, smtp_cmd_rcpt *out) {
  return smtp_cmd_parse_rcpt_in(arg, allowed, out, NULL);
}

/* ---- the arena ---- */

/* A block of the arena: its text room follows. */
struct smtp_cmd_block {
  struct smtp_cmd_block *next; /* older blocks */
  size_t cap;
};

#define ARENA_BLOCK 256

char *smtp_cmd_arena_strndup(smtp_cmd_arena *a, const char *s, size_t n) {
  if (n + 1 > a->room) { /* a new block: the older ones stay where they are */
    size_t cap = MAX(n + 1, a->head ? 4 * ARENA_BLOCK : ARENA_BLOCK);
    smtp_cmd_block *b = g_malloc(sizeof *b + cap);
    b->next = a->head;
    b->cap = cap;
    a->head = b;
    a->w = (char *)(b + 1);
    a->room = cap;
  }
  char *r = a->w;
  memcpy(r, s, n);
  r[n] = 0;
  a->w += n + 1;
  a->room -= n + 1;
  return r;
}

void smtp_cmd_arena_reset(smtp_cmd_arena *a) {
  smtp_cmd_block *b = a->head;
  if (!b)
    return;
  while (b->next) { /* all but the first block made */
    smtp_cmd_block *older = b->next;
    g_free(b);
    b = older;
  }
  a->head = b;
  a->w = (char *)(b + 1);
  a->room = b->cap;
}

void smtp_cmd_arena_clear(smtp_cmd_arena *a) {
  while (a->head) {
    smtp_cmd_block *b = a->head;
    a->head = b->next;
    g_free(b);
  }
  a->w = NULL;
  a->room = 0;
}

/* ---- AUTH data ---- */

bool smtp_cmd_b64_decode_append(const char *s, GString *out) {
  size_t n = strlen(s);
  if (n == 1 && s[0] == '=') /* RFC 4954 §4: "=" is an empty initial response */
    return true;
  if (n == 0 || n % 4 != 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool pad_ok = c == '=' && (i == n - 1 || (i == n - 2 && s[n - 1] == '='));
    if (!g_ascii_isalnum(c) && c != '+' && c != '/' && !pad_ok)
      return false;
  }
  size_t at = out->len;
  g_string_set_size(out, at + n / 4 * 3 + 3);
  gint state = 0;
  guint save = 0;
  gsize got = g_base64_decode_step(s, n, (guchar *)out->str + at, &state, &save);
  out->str[out->len = at + got] = 0;
  return true;
}

guchar *smtp_cmd_b64_decode(const char *s, gsize *len) {
  GString *out = g_string_new(NULL);
  if (!smtp_cmd_b64_decode_append(s, out)) {
    g_string_free(out, TRUE);
    return NULL;
  }
  *len = out->len;
  return (guchar *)g_string_free(out, FALSE);
}

bool smtp_cmd_plain_parts(const guchar *buf, gsize len, gsize *authcid, gsize *passwd) {
  const guchar *nul1 = memchr(buf, 0, len);
  if (!nul1)
    return false;
  const guchar *rest = nul1 + 1;
  gsize rlen = len - (gsize)(rest - buf);
  const guchar *nul2 = memchr(rest, 0, rlen);
  if (!nul2)
    return false;
  const guchar *pw = nul2 + 1;
  gsize pwlen = len - (gsize)(pw - buf);
  gsize zlen = (gsize)(nul1 - buf), clen = (gsize)(nul2 - rest);
  if (memchr(pw, 0, pwlen) || clen == 0 || pwlen == 0 || zlen > 255 || clen > 255 || pwlen > 255)
    return false;
  *authcid = (gsize)(rest - buf);
  *passwd = (gsize)(pw - buf);
  return true;
}

bool smtp_cmd_plain_split(const guchar *buf, gsize len, char **authzid, char **authcid,
                          char **passwd) {
  gsize c, p;
  if (!smtp_cmd_plain_parts(buf, len, &c, &p))
    return false;
  *authzid = g_strndup((const char *)buf, c - 1);
  *authcid = g_strndup((const char *)buf + c, p - c - 1);
  *passwd = g_strndup((const char *)buf + p, len - p);
  return true;
}
