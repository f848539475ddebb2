/* dns_wire_text.c — presentation format of records and messages (part of
 * the dns_wire module; declared in dns_wire.h).
 *
 * RFC 1035 §5.1 (master file syntax: blanks between fields, quoted
 * character-strings, \X and \DDD escapes), RFC 3597 §5 (TYPEnn, CLASSnn and
 * "\# len hex" for opaque RDATA), RFC 3596 §2.4 / RFC 5952 (AAAA text).
 * The escaping choices match dig and dnspython so our text can be compared
 * with theirs. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "dns_wire_int.h"

static const struct {
  uint16_t type;
  const char *name;
} type_names[] = {
    {DNS_T_A, "A"},     {DNS_T_NS, "NS"},   {DNS_T_CNAME, "CNAME"}, {DNS_T_SOA, "SOA"},
    {DNS_T_PTR, "PTR"}, {DNS_T_MX, "MX"},   {DNS_T_TXT, "TXT"},     {DNS_T_AAAA, "AAAA"},
    {DNS_T_SRV, "SRV"}, {DNS_T_OPT, "OPT"}, {DNS_T_ANY, "ANY"},
};

const char *dns_type_name(uint16_t type) {
  for (size_t i = 0; i < G_N_ELEMENTS(type_names); i++)
    if (type_names[i].type == type)
      return type_names[i].name;
  return NULL;
}

const char *dns_type_to_text(uint16_t type, char buf[16]) {
  const char *n = dns_type_name(type);
  if (n)
    return n;
  snprintf(buf, 16, "TYPE%u", type);
  return buf;
}

/* Parses a decimal number in [0, max]; the whole string must be digits. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out) {
  if (!*s)
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (!g_ascii_isdigit(*s))
      return false;
    v = v * 10 + (uint64_t)(*s - '0');
    if (v > max)
      return false;
  }
  *out = v;
  return true;
}

bool dns_type_from_text(const char *text, uint16_t *type) {
  for (size_t i = 0; i < G_N_ELEMENTS(type_names); i++)
    if (g_ascii_strcasecmp(type_names[i].name, text) == 0) {
      *type = type_names[i].type;
      return true;
    }
  uint64_t v;
  if (g_ascii_strncasecmp(text, "TYPE", 4) == 0 && parse_uint(text + 4, 65535, &v)) {
    *type = (uint16_t)v;
    return true;
  }
  return false;
}

const char *dns_class_to_text(uint16_t rclass, char buf[16]) {
  switch (rclass) {
  case DNS_C_IN:
    return "IN";
  case DNS_C_CH:
    return "CH";
  case 4:
    return "HS";
  case 254:
    return "NONE";
  case DNS_C_ANY:
    return "ANY";
  default:
    snprintf(buf, 16, "CLASS%u", rclass);
    return buf;
  }
}

static bool class_from_text(const char *t, uint16_t *c) {
  uint64_t v;
  if (g_ascii_strcasecmp(t, "IN") == 0)
    *c = DNS_C_IN;
  else if (g_ascii_strcasecmp(t, "CH") == 0)
    *c = DNS_C_CH;
  else if (g_ascii_strcasecmp(t, "HS") == 0)
    *c = 4;
  else if (g_ascii_strncasecmp(t, "CLASS", 5) == 0 && parse_uint(t + 5, 65535, &v))
    *c = (uint16_t)v;
  else
    return false;
  return true;
}

const char *dns_rcode_to_text(unsigned rcode, char buf[16]) {
  static const char *const n[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                  "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                  "NXRRSET", "NOTAUTH", "NOTZONE"};
  if (rcode < G_N_ELEMENTS(n))
    return n[rcode];
  if (rcode == DNS_RCODE_BADVERS)
    return "BADVERS";
  snprintf(buf, 16, "RCODE%u", rcode);
  return buf;
}

const char *dns_opcode_name(unsigned opcode) {
  switch (opcode) {
  case DNS_OP_QUERY:
    return "QUERY";
  case DNS_OP_IQUERY:
    return "IQUERY";
  case DNS_OP_STATUS:
    return "STATUS";
  case DNS_OP_NOTIFY:
    return "NOTIFY";
  case DNS_OP_UPDATE:
    return "UPDATE";
  default:
    return "OPCODE?";
  }
}

const char *dns_section_name(dns_section s) {
  switch (s) {
  case DNS_SEC_ANSWER:
    return "answer";
  case DNS_SEC_AUTHORITY:
    return "authority";
  case DNS_SEC_ADDITIONAL:
    return "additional";
  default:
    return "unknown";
  }
}

static void append_hex(GString *out, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(out, "%02x", p[i]);
}

static void append_charstr(GString *out, const uint8_t *s, size_t n) {
  g_string_append_c(out, '"');
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\')
      g_string_append_printf(out, "\\%c", c);
    else if (c < 0x20 || c > 0x7e)
      g_string_append_printf(out, "\\%03u", c);
    else
      g_string_append_c(out, (char)c);
  }
  g_string_append_c(out, '"');
}

void dns_rr_append_rdata_text(const dns_rr *rr, GString *out) {
  char ip[INET6_ADDRSTRLEN];
  switch (rr->type) {
  case DNS_T_A:
    g_string_append(out, inet_ntop(AF_INET, rr->rd.a, ip, sizeof ip));
    return;
  case DNS_T_AAAA:
    g_string_append(out, inet_ntop(AF_INET6, rr->rd.aaaa, ip, sizeof ip));
    return;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    dns_name_append_text(&rr->rd.name, out);
    return;
  case DNS_T_MX:
    g_string_append_printf(out, "%u ", rr->rd.mx.pref);
    dns_name_append_text(&rr->rd.mx.exchange, out);
    return;
  case DNS_T_SOA:
    dns_name_append_text(&rr->rd.soa.mname, out);
    g_string_append_c(out, ' ');
    dns_name_append_text(&rr->rd.soa.rname, out);
    g_string_append_printf(out, " %u %u %u %u %u", rr->rd.soa.serial, rr->rd.soa.refresh,
                           rr->rd.soa.retry, rr->rd.soa.expire, rr->rd.soa.minimum);
    return;
  case DNS_T_SRV:
    g_string_append_printf(out, "%u %u %u ", rr->rd.srv.priority, rr->rd.srv.weight,
                           rr->rd.srv.port);
    dns_name_append_text(&rr->rd.srv.target, out);
    return;
  case DNS_T_TXT:
    for (size_t i = 0, k = 0; i < rr->rawlen; i += (size_t)rr->raw[i] + 1, k++) {
      if (k)
        g_string_append_c(out, ' ');
      /* Clamp: a record built through the API may hold a malformed RDATA. */
      size_t n = i + 1 + rr->raw[i] <= rr->rawlen ? rr->raw[i] : rr->rawlen - i - 1;
      append_charstr(out, rr->raw + i + 1, n);
    }
    return;
  default:
    g_string_append_printf(out, "\\# %u", rr->rawlen);
    if (rr->rawlen) {
      g_string_append_c(out, ' ');
      append_hex(out, rr->raw, rr->rawlen);
    }
    return;
  }
}

void dns_rr_append_text(const dns_rr *rr, GString *out) {
  char b1[16], b2[16];
  dns_name_append_text(&rr->owner, out);
  g_string_append_printf(out, " %u %s %s ", rr->ttl, dns_class_to_text(rr->rclass, b1),
                         dns_type_to_text(rr->type, b2));
  dns_rr_append_rdata_text(rr, out);
}

/* ---- parsing ----------------------------------------------------------- */

/* Splits TEXT into blank-separated tokens; a token starting with '"' runs to
 * the closing unescaped quote and keeps its quotes. NULL if a quote is open. */
static GPtrArray *tokenize(const char *text) {
  GPtrArray *t = g_ptr_array_new_with_free_func(g_free);
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    const char *s = p;
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
          p++;
      if (*p != '"') {
        g_ptr_array_free(t, TRUE);
        return NULL;
      }
      p++;
    } else {
      while (*p && *p != ' ' && *p != '\t') {
        if (*p == '\\' && p[1])
          p++;
        p++;
      }
    }
    g_ptr_array_add(t, g_strndup(s, (gsize)(p - s)));
  }
  return t;
}

/* Decodes a character-string token (quoted or bare, with escapes). */
static bool parse_charstr(const char *tok, uint8_t *out, size_t *n) {
  size_t len = strlen(tok), k = 0;
  const char *p = tok, *end = tok + len;
  if (*p == '"') {
    if (len < 2)
      return false;
    p++;
    end--;
  }
  while (p < end) {
    uint8_t c = (uint8_t)*p++;
    if (c == '\\') {
      if (p >= end)
        return false;
      if (g_ascii_isdigit(*p)) {
        if (end - p < 3 || !g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]))
          return false;
        int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        if (v > 255)
          return false;
        c = (uint8_t)v;
        p += 3;
      } else {
        c = (uint8_t)*p++;
      }
    }
    if (k == 255)
      return false;
    out[k++] = c;
  }
  *n = k;
  return true;
}

static bool tok_u(GPtrArray *t, guint i, uint64_t max, uint64_t *v) {
  return i < t->len && parse_uint(g_ptr_array_index(t, i), max, v);
}
static bool tok_name(GPtrArray *t, guint i, dns_name *n) {
  return i < t->len && dns_name_from_text(n, g_ptr_array_index(t, i)) == DNS_OK;
}

static bool parse_rdata(dns_rr *rr, GPtrArray *t, guint i) {
  const char *first = i < t->len ? g_ptr_array_index(t, i) : "";
  uint64_t a, b, c, d;
  if (strcmp(first, "\\#") == 0) { /* RFC 3597 §5 generic form, for any type */
    if (!tok_u(t, i + 1, 65535, &a))
      return false;
    GString *hex = g_string_new(NULL);
    for (guint k = i + 2; k < t->len; k++)
      g_string_append(hex, g_ptr_array_index(t, k));
    bool ok = hex->len == a * 2;
    uint8_t *data = g_malloc(a + 1);
    for (size_t k = 0; ok && k < a; k++) {
      int hi = g_ascii_xdigit_value(hex->str[2 * k]),
          lo = g_ascii_xdigit_value(hex->str[2 * k + 1]);
      if (hi < 0 || lo < 0)
        ok = false;
      else
        data[k] = (uint8_t)(hi << 4 | lo);
    }
    g_string_free(hex, TRUE);
    if (ok && dns_type_name(rr->type) && rr->type != DNS_T_ANY) {
      /* A known type given generically: decode and validate it as if from
       * the wire; names must be uncompressed (nothing precedes them). */
      dns_rr tmp = *rr;
      tmp.raw = NULL;
      tmp.rawlen = 0;
      ok = dns__rdata_decode(data, a, 0, (uint16_t)a, &tmp) == DNS_OK;
      if (ok)
        *rr = tmp;
      else
        dns_rr_clear(&tmp);
    } else if (ok) {
      dns_rr_set_raw(rr, data, a);
    }
    g_free(data);
    return ok;
  }
  guint n = t->len - i;
  switch (rr->type) {
  case DNS_T_A:
    return n == 1 && inet_pton(AF_INET, first, rr->rd.a) == 1;
  case DNS_T_AAAA:
    return n == 1 && inet_pton(AF_INET6, first, rr->rd.aaaa) == 1;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    return n == 1 && tok_name(t, i, &rr->rd.name);
  case DNS_T_MX:
    if (n != 2 || !tok_u(t, i, 65535, &a) || !tok_name(t, i + 1, &rr->rd.mx.exchange))
      return false;
    rr->rd.mx.pref = (uint16_t)a;
    return true;
  case DNS_T_SRV:
    if (n != 4 || !tok_u(t, i, 65535, &a) || !tok_u(t, i + 1, 65535, &b) ||
        !tok_u(t, i + 2, 65535, &c) || !tok_name(t, i + 3, &rr->rd.srv.target))
      return false;
    rr->rd.srv.priority = (uint16_t)a, rr->rd.srv.weight = (uint16_t)b,
    rr->rd.srv.port = (uint16_t)c;
    return true;
  case DNS_T_SOA: {
    uint64_t e;
    if (n != 7 || !tok_name(t, i, &rr->rd.soa.mname) || !tok_name(t, i + 1, &rr->rd.soa.rname) ||
        !tok_u(t, i + 2, UINT32_MAX, &a) || !tok_u(t, i + 3, UINT32_MAX, &b) ||
        !tok_u(t, i + 4, UINT32_MAX, &c) || !tok_u(t, i + 5, UINT32_MAX, &d) ||
        !tok_u(t, i + 6, UINT32_MAX, &e))
      return false;
    rr->rd.soa.serial = (uint32_t)a, rr->rd.soa.refresh = (uint32_t)b;
    rr->rd.soa.retry = (uint32_t)c, rr->rd.soa.expire = (uint32_t)d;
    rr->rd.soa.minimum = (uint32_t)e;
    return true;
  }
  case DNS_T_TXT:
    if (n == 0)
      return false;
    for (guint k = i; k < t->len; k++) {
      uint8_t s[255];
      size_t sl;
      if (!parse_charstr(g_ptr_array_index(t, k), s, &sl) || dns_rr_txt_add(rr, s, sl) != DNS_OK)
        return false;
    }
    return true;
  default:
    return false; /* unknown types only in the generic form */
  }
}

dns_err dns_rr_from_text(dns_rr *rr, const char *text) {
  memset(rr, 0, sizeof *rr);
  GPtrArray *t = tokenize(text);
  if (!t)
    return DNS_ERR_SYNTAX;
  uint64_t ttl;
  guint i = 2;
  bool ok = t->len >= 4 && tok_name(t, 0, &rr->owner) && tok_u(t, 1, UINT32_MAX, &ttl);
  rr->rclass = DNS_C_IN;
  if (ok && class_from_text(g_ptr_array_index(t, 2), &rr->rclass))
    i = 3;
  ok = ok && i < t->len && dns_type_from_text(g_ptr_array_index(t, i), &rr->type) &&
       rr->type != DNS_T_OPT && rr->type != DNS_T_ANY;
  if (ok) {
    rr->ttl = (uint32_t)ttl;
    ok = parse_rdata(rr, t, i + 1);
  }
  g_ptr_array_free(t, TRUE);
  if (!ok) {
    dns_rr_clear(rr);
    memset(rr, 0, sizeof *rr);
    return DNS_ERR_SYNTAX;
  }
  return DNS_OK;
}

void dns_msg_append_text(const dns_msg *m, GString *out) {
  char b1[16], b2[16], b3[16];
  g_string_append_printf(out,
                         ";; opcode: %s, status: %s, id: %u\n;; flags:", dns_opcode_name(m->opcode),
                         dns_rcode_to_text(m->rcode, b1), m->id);
  const struct {
    bool on;
    const char *n;
  } fl[] = {{m->qr, "qr"}, {m->aa, "aa"}, {m->tc, "tc"}, {m->rd, "rd"},
            {m->ra, "ra"}, {m->z, "z"},   {m->ad, "ad"}, {m->cd, "cd"}};
  for (size_t i = 0; i < G_N_ELEMENTS(fl); i++)
    if (fl[i].on)
      g_string_append_printf(out, " %s", fl[i].n);
  g_string_append_c(out, '\n');
  if (m->edns.present) {
    g_string_append_printf(out, ";; edns: version %u, udp %u%s", m->edns.version, m->edns.udp_size,
                           m->edns.do_bit ? ", do" : "");
    if (m->edns.options && m->edns.options->len) {
      g_string_append(out, ", options ");
      append_hex(out, m->edns.options->data, m->edns.options->len);
    }
    g_string_append_c(out, '\n');
  }
  g_string_append(out, ";; question\n");
  for (guint i = 0; i < dns_msg_qdcount(m); i++) {
    const dns_question *q =
        i == 0 ? dns_msg_question(m) : &g_array_index(m->more_questions, dns_question, i - 1);
    dns_name_append_text(&q->name, out);
    g_string_append_printf(out, " %s %s\n", dns_class_to_text(q->rclass, b2),
                           dns_type_to_text(q->type, b3));
  }
  for (int s = 0; s < DNS_SEC_COUNT; s++) {
    g_string_append_printf(out, ";; %s\n", dns_section_name((dns_section)s));
    for (guint i = 0; i < dns_msg_count(m, (dns_section)s); i++) {
      dns_rr_append_text(dns_msg_rr(m, (dns_section)s, i), out);
      g_string_append_c(out, '\n');
    }
  }
}
