/* Tests for SPF (RFC 7208): macro expansion (§7), record syntax (§4.6, §5,
 * §12), the check_host() engine against an in-memory DNS (results, limits,
 * explanation, trace of states, determinism, Received-SPF §9.1) and, with
 * --rfc7208, the OpenSPF RFC 7208 conformance suite
 * (../shared/conformance/spf/rfc7208-tests.yml; skipped, exit 77, when the
 * folder is missing). The suite's YAML is read by a small reader written for
 * exactly the constructs that file uses (see yaml_* below). */
#include <arpa/inet.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_fakedns.h"
#include "spf_check.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "testutil.h"

/* ---- running a check against a fake DNS ---- */

typedef struct {
  spf_result result;
  char *explanation;
  char *header;
  GString *queries; /* "TYPE name;" in the order asked */
  GString *trace;
} run_out;

static void trace_cb(void *ud, const char *line) {
  g_string_append_printf((GString *)ud, "%s\n", line);
}

static void run_clear(run_out *o) {
  g_free(o->explanation);
  g_free(o->header);
  g_string_free(o->queries, TRUE);
  g_string_free(o->trace, TRUE);
}

static void run_check(auth_fakedns *dns, const spf_request *req, run_out *o) {
  memset(o, 0, sizeof *o);
  o->queries = g_string_new(NULL);
  o->trace = g_string_new(NULL);
  auth_env env = {.trace = trace_cb, .ud = o->trace};
  spf_check *c = spf_check_new(req, &env);
  ck_assert_msg(c != NULL, "bad ip %s", req->ip);
  spf_event ev;
  int guard = 0;
  while (spf_check_next(c, &ev)) {
    ck_assert_int_lt(++guard, 1000);
    if (ev.kind == SPF_EV_DONE)
      break;
    GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
    auth_dns_status st = auth_fakedns_lookup(dns, &ev.query.name, ev.query.type, rrs);
    char *n = dns_name_to_text(&ev.query.name);
    char tb[16];
    g_string_append_printf(o->queries, "%s %s;", dns_type_to_text(ev.query.type, tb), n);
    g_free(n);
    ck_assert_int_eq(spf_check_state(c), SPF_ST_WAIT_DNS);
    spf_check_answer(c, ev.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
    auth_fakedns_rrs_free(rrs);
  }
  ck_assert_int_eq(spf_check_state(c), SPF_ST_DONE);
  ck_assert(!spf_check_next(c, &ev)); /* done is reported once */
  o->result = spf_check_result(c);
  o->explanation = g_strdup(spf_check_explanation(c));
  o->header = spf_check_received_spf(c);
  spf_check_free(c);
}

/* ---- the YAML subset of rfc7208-tests.yml ---- */

typedef struct {
  char *name;
  char *helo, *host, *mailfrom, *explanation;
  GPtrArray *results; /* of char*, first preferred */
} yaml_test;

typedef struct {
  GPtrArray *tests; /* of yaml_test* */
  auth_fakedns *dns;
  /* zone data being read: name -> items */
  char *cur_name;
  GPtrArray *items; /* of char* "TYPE\tvalue" encoded, value items \x1f-separated */
} yaml_doc;

/* Reads a scalar at *P: "double" (with \x, \\, \", \0, \n, \t), 'single',
 * or plain up to END_CHARS (or the end). Returns a new string (may hold NUL
 * octets as \0: the length in *LEN). */
static char *yaml_scalar(const char **p, const char *end_chars, size_t *len) {
  const char *s = *p;
  GString *o = g_string_new(NULL);
  while (*s == ' ')
    s++;
  if (*s == '"') {
    s++;
    while (*s && *s != '"') {
      if (*s == '\\') {
        s++;
        switch (*s) {
        case 'x': {
          char h[3] = {s[1], s[2], 0};
          g_string_append_c(o, (char)strtol(h, NULL, 16));
          s += 3;
          continue;
        }
        case '0':
          g_string_append_c(o, '\0');
          break;
        case 'n':
          g_string_append_c(o, '\n');
          break;
        case 't':
          g_string_append_c(o, '\t');
          break;
        case 'r':
          g_string_append_c(o, '\r');
          break;
        default:
          g_string_append_c(o, *s);
        }
        s++;
        continue;
      }
      g_string_append_c(o, *s++);
    }
    if (*s == '"')
      s++;
  } else if (*s == '\'') {
    s++;
    while (*s) {
      if (s[0] == '\'' && s[1] == '\'') {
        g_string_append_c(o, '\'');
        s += 2;
      } else if (*s == '\'') {
        s++;
        break;
      } else {
        g_string_append_c(o, *s++);
      }
    }
  } else {
    while (*s && !strchr(end_chars, *s))
      g_string_append_c(o, *s++);
    while (o->len && o->str[o->len - 1] == ' ')
      g_string_truncate(o, o->len - 1);
  }
  while (*s == ' ')
    s++;
  *p = s;
  *len = o->len;
  return g_string_free(o, FALSE);
}

/* A value: a flow sequence "[a, 'b', "c"]" or a scalar. Items go to OUT
 * (GBytes, so NUL octets survive); returns true if it was a sequence. */
static bool yaml_value(const char *s, GPtrArray *out) {
  while (*s == ' ')
    s++;
  if (*s == '[') {
    s++;
    while (*s == ' ')
      s++;
    while (*s && *s != ']') {
      size_t len;
      char *v = yaml_scalar(&s, ",]", &len);
      g_ptr_array_add(out, g_bytes_new_take(v, len));
      if (*s == ',')
        s++;
      while (*s == ' ')
        s++;
    }
    return true;
  }
  size_t len;
  char *v = yaml_scalar(&s, "", &len);
  g_ptr_array_add(out, g_bytes_new_take(v, len));
  return false;
}

static char *bytes_str(GBytes *b) {
  gsize n;
  const char *d = g_bytes_get_data(b, &n);
  return g_strndup(d, n);
}

typedef struct {
  char type[8];
  GPtrArray *vals; /* of GBytes */
  bool seq;
} zone_item;

static void zone_item_free(gpointer p) {
  zone_item *z = p;
  g_ptr_array_free(z->vals, TRUE);
  g_free(z);
}

static dns_name owner_of(const char *name) {
  dns_name n;
  if (!auth_dns_name_from_domain(name, &n))
    g_error("bad zone name %s", name);
  return n;
}

/* Turns the items of one zonedata name into records (pyspf's rules: SPF
 * also served as TXT unless the name has TXT items; "TXT: NONE" means no
 * record; "TIMEOUT" makes lookups of absent types time out). */
static void zone_flush(yaml_doc *d) {
  if (!d->cur_name)
    return;
  dns_name owner = owner_of(d->cur_name);
  auth_fakedns_touch(d->dns, &owner);
  bool has_txt = false;
  for (guint i = 0; i < d->items->len; i++) {
    zone_item *z = d->items->pdata[i];
    if (strcmp(z->type, "TXT") == 0)
      has_txt = true;
  }
  for (guint i = 0; i < d->items->len; i++) {
    zone_item *z = d->items->pdata[i];
    if (strcmp(z->type, "TIMEOUT") == 0) {
      auth_fakedns_fail(d->dns, &owner, AUTH_DNS_TIMEOUT);
      continue;
    }
    dns_rr rr;
    uint16_t type;
    if (strcmp(z->type, "SPF") == 0) {
      if (has_txt)
        continue;
      type = DNS_T_TXT;
    } else if (!dns_type_from_text(z->type, &type)) {
      g_error("unknown type %s", z->type);
    }
    dns_rr_init(&rr, &owner, type, 300);
    if (type == DNS_T_TXT) {
      if (!z->seq && z->vals->len == 1) {
        char *v = bytes_str(z->vals->pdata[0]);
        bool none = strcmp(v, "NONE") == 0;
        g_free(v);
        if (none) {
          dns_rr_clear(&rr);
          continue;
        }
      }
      for (guint k = 0; k < z->vals->len; k++) {
        gsize n;
        const uint8_t *b = g_bytes_get_data(z->vals->pdata[k], &n);
        for (gsize off = 0; off < n || (n == 0 && off == 0); off += 255) {
          ck_assert(dns_rr_txt_add(&rr, b + off, MIN(255, n - off)) == DNS_OK);
          if (n == 0)
            break;
        }
      }
    } else if (type == DNS_T_A || type == DNS_T_AAAA) {
      char *v = bytes_str(z->vals->pdata[0]);
      ck_assert(inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, v, rr.rd.aaaa) == 1);
      g_free(v);
    } else if (type == DNS_T_MX) {
      char *pref = bytes_str(z->vals->pdata[0]);
      char *ex = bytes_str(z->vals->pdata[1]);
      rr.rd.mx.pref = (uint16_t)atoi(pref);
      if (ex[0] == '\0')
        dns_name_set_root(&rr.rd.mx.exchange);
      else
        rr.rd.mx.exchange = owner_of(ex);
      g_free(pref);
      g_free(ex);
    } else if (type == DNS_T_PTR || type == DNS_T_CNAME) {
      char *v = bytes_str(z->vals->pdata[0]);
      rr.rd.name = owner_of(v);
      g_free(v);
    } else {
      g_error("unhandled type %s", z->type);
    }
    auth_fakedns_add(d->dns, &rr);
    dns_rr_clear(&rr);
  }
  g_free(d->cur_name);
  d->cur_name = NULL;
  g_ptr_array_set_size(d->items, 0);
}

static void yaml_test_free(gpointer p) {
  yaml_test *t = p;
  g_free(t->name);
  g_free(t->helo);
  g_free(t->host);
  g_free(t->mailfrom);
  g_free(t->explanation);
  g_ptr_array_free(t->results, TRUE);
  g_free(t);
}

static int indent_of(const char *l) {
  int i = 0;
  while (l[i] == ' ')
    i++;
  return i;
}

/* A mapping key ending the line ("name:" or "\"name\":"), or NULL. */
static char *line_key(const char *l) {
  size_t n = strlen(l);
  while (n && l[n - 1] == ' ')
    n--;
  if (n < 2 || l[n - 1] != ':')
    return NULL;
  if (l[0] == '"' && l[n - 2] == '"')
    return g_strndup(l + 1, n - 3);
  return g_strndup(l, n - 1);
}

typedef void (*scenario_fn)(yaml_doc *d, void *ud);

/* Reads the whole suite, calling FN for each scenario (YAML document). */
static void yaml_read_suite(const char *path, scenario_fn fn, void *ud) {
  gchar *text;
  gsize len;
  GError *err = NULL;
  if (!g_file_get_contents(path, &text, &len, &err))
    g_error("%s: %s", path, err->message);
  gchar **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  enum { SEC_OTHER, SEC_TESTS, SEC_ZONE } sec = SEC_OTHER;
  yaml_doc d = {0};
  yaml_test *cur = NULL;
  for (size_t li = 0;; li++) {
    const char *l = lines[li];
    bool end = l == NULL || strcmp(l, "---") == 0;
    if (end) {
      if (d.tests) {
        zone_flush(&d);
        fn(&d, ud);
        g_ptr_array_free(d.tests, TRUE);
        g_ptr_array_free(d.items, TRUE);
        auth_fakedns_free(d.dns);
      }
      if (!l)
        break;
      memset(&d, 0, sizeof d);
      d.tests = g_ptr_array_new_with_free_func(yaml_test_free);
      d.items = g_ptr_array_new_with_free_func(zone_item_free);
      d.dns = auth_fakedns_new();
      sec = SEC_OTHER;
      cur = NULL;
      continue;
    }
    if (l[0] == '\0' || l[indent_of(l)] == '#' || l[indent_of(l)] == '\0' || !d.tests)
      continue;
    int ind = indent_of(l);
    const char *s = l + ind;
    if (ind == 0) {
      zone_flush(&d);
      sec = strcmp(s, "tests:") == 0      ? SEC_TESTS
            : strcmp(s, "zonedata:") == 0 ? SEC_ZONE
                                          : SEC_OTHER;
      continue;
    }
    if (sec == SEC_TESTS && ind == 2) {
      char *k = line_key(s);
      g_assert(k);
      cur = g_new0(yaml_test, 1);
      cur->name = k;
      cur->results = g_ptr_array_new_with_free_func(g_free);
      g_ptr_array_add(d.tests, cur);
    } else if (sec == SEC_TESTS && ind == 4 && cur) {
      const char *colon = strchr(s, ':');
      g_assert(colon);
      char *key = g_strndup(s, (gsize)(colon - s));
      GPtrArray *vals = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
      yaml_value(colon + 1, vals);
      char **slot = strcmp(key, "helo") == 0          ? &cur->helo
                    : strcmp(key, "host") == 0        ? &cur->host
                    : strcmp(key, "mailfrom") == 0    ? &cur->mailfrom
                    : strcmp(key, "explanation") == 0 ? &cur->explanation
                                                      : NULL;
      if (slot)
        *slot = bytes_str(vals->pdata[0]);
      if (strcmp(key, "result") == 0)
        for (guint i = 0; i < vals->len; i++)
          g_ptr_array_add(cur->results, bytes_str(vals->pdata[i]));
      g_ptr_array_free(vals, TRUE);
      g_free(key);
    } else if (sec == SEC_ZONE && ind == 2) {
      zone_flush(&d);
      d.cur_name = line_key(s);
      g_assert(d.cur_name);
      for (char *p = d.cur_name; *p; p++)
        *p = g_ascii_tolower(*p);
    } else if (sec == SEC_ZONE && ind == 4 && s[0] == '-') {
      const char *it = s + 1;
      while (*it == ' ')
        it++;
      zone_item *z = g_new0(zone_item, 1);
      z->vals = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
      const char *colon = strchr(it, ':');
      if (!colon) {
        g_strlcpy(z->type, it, sizeof z->type);
        g_strchomp(z->type);
      } else {
        g_strlcpy(z->type, it, MIN(sizeof z->type, (size_t)(colon - it) + 1));
        z->seq = yaml_value(colon + 1, z->vals);
      }
      g_ptr_array_add(d.items, z);
    }
  }
  g_strfreev(lines);
}

typedef struct {
  unsigned total, passed, alternatives, explanations;
  GString *failures;
} suite_stats;

static void run_scenario(yaml_doc *d, void *ud) {
  suite_stats *st = ud;
  for (guint i = 0; i < d->tests->len; i++) {
    yaml_test *t = d->tests->pdata[i];
    spf_request req = {.ip = t->host,
                       .helo = t->helo,
                       .mailfrom = t->mailfrom,
                       .identity = SPF_ID_MAILFROM,
                       .receiver = "receiver.example",
                       .default_exp = "DEFAULT",
                       .now_unix = 1700000000};
    run_out o;
    run_check(d->dns, &req, &o);
    st->total++;
    const char *got = spf_result_name(o.result);
    bool ok = false;
    for (guint k = 0; k < t->results->len; k++)
      if (strcmp(t->results->pdata[k], got) == 0) {
        ok = true;
        if (k > 0)
          st->alternatives++;
      }
    if (ok && t->explanation) {
      st->explanations++;
      if (g_strcmp0(o.explanation, t->explanation) != 0) {
        ok = false;
        g_string_append_printf(st->failures, "%s: explanation got \"%s\" want \"%s\"\n", t->name,
                               o.explanation ? o.explanation : "(none)", t->explanation);
      }
    } else if (!ok) {
      g_string_append_printf(st->failures, "%s: got %s want %s (queries: %s)\n", t->name, got,
                             (char *)t->results->pdata[0], o.queries->str);
    }
    if (ok)
      st->passed++;
    run_clear(&o);
  }
}

static char *suite_path(void) {
  const char *env = g_getenv("MAILSIM_SPF_SUITE");
  if (env)
    return g_strdup(env);
  return testutil_src_path("../shared/conformance/spf/rfc7208-tests.yml");
}

START_TEST(test_rfc7208_suite) {
  char *path = suite_path();
  suite_stats st = {.failures = g_string_new(NULL)};
  yaml_read_suite(path, run_scenario, &st);
  printf("rfc7208-tests.yml: %u cases, %u passed (%u by a listed alternative), %u explanations "
         "checked\n",
         st.total, st.passed, st.alternatives, st.explanations);
  fputs(st.failures->str, stdout);
  ck_assert_msg(st.passed == st.total, "got %u of %u passing:\n%s", st.passed, st.total,
                st.failures->str);
  ck_assert_uint_eq(st.total, 203);
  g_string_free(st.failures, TRUE);
  g_free(path);
}
END_TEST

/* ---- macro expansion (RFC 7208 §7.4 examples) ---- */

START_TEST(test_macro_table) {
  spf_macro_ctx m = {.sender = "strong-bad@email.example.com",
                     .local = "strong-bad",
                     .sender_domain = "email.example.com",
                     .domain = "email.example.com",
                     .ip_dotted = "192.0.2.3",
                     .ip_text = "192.0.2.3",
                     .ip_version = "in-addr",
                     .helo = "mx.example.org",
                     .receiver = "mx.example.net",
                     .ptr_name = "mx.example.org",
                     .now_unix = 1234};
  static const struct {
    const char *in, *want;
    bool exp;
  } rows[] = {
      {"%{s}", "strong-bad@email.example.com", false},
      {"%{o}", "email.example.com", false},
      {"%{d}", "email.example.com", false},
      {"%{d4}", "email.example.com", false},
      {"%{d3}", "email.example.com", false},
      {"%{d2}", "example.com", false},
      {"%{d1}", "com", false},
      {"%{dr}", "com.example.email", false},
      {"%{d2r}", "example.email", false},
      {"%{l}", "strong-bad", false},
      {"%{l-}", "strong.bad", false},
      {"%{lr}", "strong-bad", false},
      {"%{lr-}", "bad.strong", false},
      {"%{l1r-}", "strong", false},
      {"%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com", false},
      {"%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com", false},
      {"%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com",
       false},
      {"%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com", false},
      {"%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net", false},
      {"%%%_%-", "% %20", false},
      {"%{S}", "strong-bad%40email.example.com", false},
      {"%{p}/%{h}", "mx.example.org/mx.example.org", false},
      {"%{c} %{r} %{t}", "192.0.2.3 mx.example.net 1234", true},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    char *got = spf_macro_expand(rows[i].in, &m, rows[i].exp);
    ck_assert_msg(g_strcmp0(got, rows[i].want) == 0, "%s: got %s want %s", rows[i].in,
                  got ? got : "(null)", rows[i].want);
    g_free(got);
  }
  /* Invalid macro strings and exp-only letters outside exp. */
  static const char *const bad[] = {"%{c}", "%{r}",  "%{t}", "%(ir)", "foo%",
                                    "%{a}", "%{d0}", "%{ir", "%x",    "a b"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    char *got = spf_macro_expand(bad[i], &m, false);
    ck_assert_msg(got == NULL, "%s: got %s want invalid", bad[i], got);
  }
  GString *longd = g_string_new(NULL);
  for (int i = 0; i < 60; i++)
    g_string_append(longd, "abcd.");
  g_string_append(longd, "com");
  spf_macro_truncate_domain(longd);
  ck_assert_uint_le(longd->len, 253);
  ck_assert(g_str_has_suffix(longd->str, ".com") && longd->str[0] == 'a');
  g_string_free(longd, TRUE);
}
END_TEST

/* ---- record syntax ---- */

START_TEST(test_record_syntax) {
  static const struct {
    const char *rec;
    bool ok;
  } rows[] = {
      {"v=spf1", true},
      {"v=spf1 -all", true},
      {"v=spf1 a mx ptr -all ", true},
      {"v=spf1 a:example.com/24//64 mx:%{d}/30 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", true},
      {"v=spf1 include:_spf.example.com exists:%{ir}.bl.example.net ?all", true},
      {"v=spf1 redirect=_spf.example.com", true},
      {"v=spf1 exp=explain.%{d} -all", true},
      {"v=spf1 moo.cow-far_out=man:dog/cat -all", true},
      {"v=spf1 a:foo.example.xn--zckzah", true},
      {"v=spf1 -all moo", false},
      {"v=spf1 -all.", false},
      {"v=spf1 -all/8", false},
      {"v=spf1 ip4:1.2.3.4/33", false},
      {"v=spf1 ip4:1.2.3.4/032", false},
      {"v=spf1 ip4:1.2.3", false},
      {"v=spf1 ip6:::1/129", false},
      {"v=spf1 a:museum", false},
      {"v=spf1 a:example.-com", false},
      {"v=spf1 a:111.222.33.44", false},
      {"v=spf1 a/24/64", false},
      {"v=spf1 include", false},
      {"v=spf1 ptr/0", false},
      {"v=spf1 redirect=a.example redirect=b.example", false},
      {"v=spf1 exp=a.example.com exp=b.example.com", false},
      {"v=spf1 =all", false},
      {"v=spf1 1up=foo", false},
      {"v=spf1 foo=%abc", false},
      {"v=spf1 exp=%{r}.example.com", false},
      {"v=spf1 +redirect=a.example.com", false},
      {"v=spf1 a:ctrl.example.com\rptr", false},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    const char *problem = NULL;
    spf_record *r = spf_record_parse(rows[i].rec, strlen(rows[i].rec), &problem);
    ck_assert_msg((r != NULL) == rows[i].ok, "%s: got %s want %s", rows[i].rec,
                  r ? "valid" : problem, rows[i].ok ? "valid" : "invalid");
    spf_record_free(r);
  }
  ck_assert(spf_record_is_spf("V=SPF1 -all", 11));
  ck_assert(!spf_record_is_spf("v=spf10", 7));
  ck_assert(!spf_record_is_spf("v=spf1-all", 10));
}
END_TEST

/* ---- the engine ---- */

static auth_fakedns *example_dns(void) {
  auth_fakedns *d = auth_fakedns_new();
  static const char *const zone[] = {
      "example.com. 300 IN TXT \"v=spf1 mx a:relay.example.com include:_spf.example.net -all\"",
      "example.com. 300 IN MX 10 mx.example.com.",
      "mx.example.com. 300 IN A 192.0.2.10",
      "relay.example.com. 300 IN A 192.0.2.20",
      "_spf.example.net. 300 IN TXT \"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 ~all\"",
      "soft.example.com. 300 IN TXT \"v=spf1 ~all\"",
      "neutral.example.com. 300 IN TXT \"v=spf1 ?all\"",
      "redir.example.com. 300 IN TXT \"v=spf1 redirect=example.com\"",
      "exp.example.com. 300 IN TXT \"v=spf1 -all exp=why.example.com\"",
      "why.example.com. 300 IN TXT \"%{i} is not one of %{d}'s servers\"",
      "bad.example.com. 300 IN TXT \"v=spf1 ip4:192.0.2.300 -all\"",
      "two.example.com. 300 IN TXT \"v=spf1 -all\"",
      "two.example.com. 300 IN TXT \"v=spf1 +all\"",
      "helo.example.org. 300 IN TXT \"v=spf1 a -all\"",
      "helo.example.org. 300 IN A 192.0.2.99",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(zone); i++)
    auth_fakedns_add_text(d, zone[i]);
  dns_name t = dns_name_lit("slow.example.com");
  auth_fakedns_fail(d, &t, AUTH_DNS_TIMEOUT);
  dns_name s = dns_name_lit("broken.example.com");
  auth_fakedns_fail(d, &s, AUTH_DNS_SERVFAIL);
  return d;
}

START_TEST(test_engine_results) {
  static const struct {
    const char *ip, *from;
    spf_result want;
    const char *mech;
  } rows[] = {
      {"192.0.2.10", "alice@example.com", SPF_PASS, "mx"},
      {"192.0.2.20", "alice@example.com", SPF_PASS, "a:relay.example.com"},
      {"198.51.100.7", "alice@example.com", SPF_PASS, "include:_spf.example.net"},
      {"2001:db8::25", "alice@example.com", SPF_PASS, "include:_spf.example.net"},
      {"203.0.113.1", "alice@example.com", SPF_FAIL, "-all"},
      {"203.0.113.1", "bob@soft.example.com", SPF_SOFTFAIL, "~all"},
      {"203.0.113.1", "bob@neutral.example.com", SPF_NEUTRAL, "?all"},
      {"192.0.2.10", "bob@redir.example.com", SPF_PASS, "mx"},
      {"203.0.113.1", "bob@nothing.example.com", SPF_NONE, NULL},
      {"203.0.113.1", "bob@slow.example.com", SPF_TEMPERROR, NULL},
      {"203.0.113.1", "bob@broken.example.com", SPF_TEMPERROR, NULL},
      {"203.0.113.1", "bob@bad.example.com", SPF_PERMERROR, NULL},
      {"203.0.113.1", "bob@two.example.com", SPF_PERMERROR, NULL},
      {"::ffff:192.0.2.10", "alice@example.com", SPF_PASS, "mx"},
      {"192.0.2.99", "", SPF_PASS, "a"}, /* null path: postmaster@HELO */
  };
  auth_fakedns *d = example_dns();
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    spf_request req = {.ip = rows[i].ip,
                       .helo = "helo.example.org",
                       .mailfrom = rows[i].from,
                       .receiver = "mx.example.net"};
    run_out o;
    run_check(d, &req, &o);
    ck_assert_msg(o.result == rows[i].want, "%s from %s: got %s want %s", rows[i].from, rows[i].ip,
                  spf_result_name(o.result), spf_result_name(rows[i].want));
    run_clear(&o);
  }
  auth_fakedns_free(d);
}
END_TEST

START_TEST(test_engine_explanation_header_trace) {
  auth_fakedns *d = example_dns();
  spf_request req = {.ip = "203.0.113.1",
                     .helo = "mail.example.org",
                     .mailfrom = "eve@exp.example.com",
                     .receiver = "mx.example.net"};
  run_out o;
  run_check(d, &req, &o);
  ck_assert_int_eq(o.result, SPF_FAIL);
  ck_assert_str_eq(o.explanation, "203.0.113.1 is not one of exp.example.com's servers");
  ck_assert_str_eq(o.header,
                   "Received-SPF: fail (mx.example.net: domain of eve@exp.example.com does not "
                   "designate 203.0.113.1 as permitted sender) client-ip=203.0.113.1; "
                   "envelope-from=\"eve@exp.example.com\"; helo=mail.example.org; "
                   "receiver=mx.example.net; identity=mailfrom; mechanism=-all;");
  ck_assert_str_eq(o.queries->str, "TXT exp.example.com.;TXT why.example.com.;");
  ck_assert_str_eq(o.trace->str, "spf: evaluate -> wait-dns (query 1 exp.example.com. TXT)\n"
                                 "spf: wait-dns -> evaluate\n"
                                 "spf: evaluate -> wait-dns (query 2 why.example.com. TXT)\n"
                                 "spf: wait-dns -> evaluate\n"
                                 "spf: evaluate -> done (fail)\n");
  run_clear(&o);

  /* HELO identity, with a quoted envelope-from in the header. */
  spf_request h = {.ip = "192.0.2.99",
                   .helo = "helo.example.org",
                   .mailfrom = "odd name@example.com",
                   .identity = SPF_ID_HELO,
                   .receiver = "mx.example.net"};
  run_check(d, &h, &o);
  ck_assert_int_eq(o.result, SPF_PASS);
  ck_assert_msg(
      strstr(o.header, "envelope-from=\"odd name@example.com\"; helo=helo.example.org;") &&
          strstr(o.header, "identity=helo; mechanism=a;"),
      "got %s", o.header);
  run_clear(&o);

  /* Determinism: the same check asks the same questions in the same order. */
  spf_request p = {.ip = "198.51.100.7", .helo = "x.example", .mailfrom = "a@example.com"};
  run_out o1, o2;
  run_check(d, &p, &o1);
  run_check(d, &p, &o2);
  ck_assert_str_eq(o1.queries->str, o2.queries->str);
  ck_assert_str_eq(o1.queries->str, "TXT example.com.;MX example.com.;A mx.example.com.;"
                                    "A relay.example.com.;TXT _spf.example.net.;");
  run_clear(&o1);
  run_clear(&o2);
  auth_fakedns_free(d);
}
END_TEST

/* An answer may come much later and in any engine order: two checks
 * interleaved against the same DNS give the same results as alone. */
START_TEST(test_engine_interleaved) {
  auth_fakedns *d = example_dns();
  spf_request r1 = {.ip = "192.0.2.20", .helo = "h.example", .mailfrom = "a@example.com"};
  spf_request r2 = {.ip = "203.0.113.1", .helo = "h.example", .mailfrom = "a@redir.example.com"};
  spf_check *c[2] = {spf_check_new(&r1, NULL), spf_check_new(&r2, NULL)};
  bool done[2] = {false, false};
  while (!done[0] || !done[1]) {
    for (int k = 0; k < 2; k++) {
      spf_event ev;
      if (done[k] || !spf_check_next(c[k], &ev))
        continue;
      if (ev.kind == SPF_EV_DONE) {
        done[k] = true;
        continue;
      }
      GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
      auth_dns_status st = auth_fakedns_lookup(d, &ev.query.name, ev.query.type, rrs);
      spf_check_answer(c[k], ev.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
      auth_fakedns_rrs_free(rrs);
    }
  }
  ck_assert_str_eq(spf_result_name(spf_check_result(c[0])), "pass");
  ck_assert_str_eq(spf_result_name(spf_check_result(c[1])), "fail");
  ck_assert_str_eq(spf_check_mechanism(c[0]), "a:relay.example.com");
  spf_check_free(c[0]);
  spf_check_free(c[1]);
  ck_assert(spf_check_new(&(spf_request){.ip = "not-an-ip", .helo = "h"}, NULL) == NULL);
  spf_check_free(NULL);
  auth_fakedns_free(d);
}
END_TEST

/* Received-SPF (§9.1) for every result, the limits of §4.6.4 as counted. */
START_TEST(test_received_spf_and_limits) {
  auth_fakedns *d = example_dns();
  auth_fakedns_add_text(d, "loop.example.com. 300 IN TXT \"v=spf1 include:loop.example.com\"");
  auth_fakedns_add_text(d, "voids.example.com. 300 IN TXT \"v=spf1 a:n1.example.com "
                           "a:n2.example.com a:n3.example.com ?all\"");
  auth_fakedns_add_text(d, "ten.example.com. 300 IN TXT \"v=spf1 a a a a a a a a a a -all\"");
  auth_fakedns_add_text(d, "ten.example.com. 300 IN A 192.0.2.1");
  auth_fakedns_add_text(d, "eleven.example.com. 300 IN TXT \"v=spf1 a a a a a a a a a a a -all\"");
  auth_fakedns_add_text(d, "eleven.example.com. 300 IN A 192.0.2.1");
  static const struct {
    const char *from, *prefix, *tail;
    unsigned lookups;
  } rows[] = {
      {"a@soft.example.com",
       "Received-SPF: softfail (mx.example.net: domain of transitioning a@soft.example.com does "
       "not designate 203.0.113.1 as permitted sender)",
       "identity=mailfrom; mechanism=~all;", 0},
      {"a@neutral.example.com",
       "Received-SPF: neutral (mx.example.net: 203.0.113.1 is neither permitted nor denied by "
       "domain of a@neutral.example.com)",
       "mechanism=?all;", 0},
      {"a@nothing.example.com",
       "Received-SPF: none (mx.example.net: domain of a@nothing.example.com does not designate "
       "permitted sender hosts)",
       "identity=mailfrom;", 0},
      {"a@slow.example.com",
       "Received-SPF: temperror (mx.example.net: error in processing during lookup of "
       "a@slow.example.com: DNS error looking up the SPF record)",
       "problem=\"DNS error looking up the SPF record\";", 0},
      {"a@bad.example.com",
       "Received-SPF: permerror (mx.example.net: permanent error in processing during lookup of "
       "a@bad.example.com: bad network)",
       "problem=\"bad network\";", 0},
      {"a@loop.example.com", "Received-SPF: permerror", "problem=\"too many DNS lookups\";", 11},
      {"a@voids.example.com", "Received-SPF: permerror", "problem=\"too many void DNS lookups\";",
       3},
      {"a@ten.example.com", "Received-SPF: fail", "mechanism=-all;", 10},
      {"a@eleven.example.com", "Received-SPF: permerror", "problem=\"too many DNS lookups\";", 11},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    spf_request req = {.ip = "203.0.113.1",
                       .helo = "h.example.org",
                       .mailfrom = rows[i].from,
                       .receiver = "mx.example.net"};
    spf_check *c = spf_check_new(&req, NULL);
    spf_event ev;
    while (spf_check_next(c, &ev) && ev.kind == SPF_EV_DNS_QUERY) {
      GArray *rrs = g_array_new(FALSE, TRUE, sizeof(dns_rr));
      auth_dns_status st = auth_fakedns_lookup(d, &ev.query.name, ev.query.type, rrs);
      spf_check_answer(c, ev.query.id, st, (const dns_rr *)(void *)rrs->data, rrs->len);
      auth_fakedns_rrs_free(rrs);
    }
    char *h = spf_check_received_spf(c);
    ck_assert_msg(g_str_has_prefix(h, rows[i].prefix) && g_str_has_suffix(h, rows[i].tail),
                  "%s: got %s want %s ... %s", rows[i].from, h, rows[i].prefix, rows[i].tail);
    ck_assert_msg(spf_check_lookups(c) == rows[i].lookups, "%s: got %u lookups want %u",
                  rows[i].from, spf_check_lookups(c), rows[i].lookups);
    g_free(h);
    spf_check_free(c);
  }
  auth_fakedns_free(d);
}
END_TEST

static Suite *unit_suite(void) {
  Suite *s = suite_create("spf");
  TCase *t = tcase_create("macro");
  tcase_add_test(t, test_macro_table);
  suite_add_tcase(s, t);
  t = tcase_create("record");
  tcase_add_test(t, test_record_syntax);
  suite_add_tcase(s, t);
  t = tcase_create("engine");
  tcase_add_test(t, test_engine_results);
  tcase_add_test(t, test_engine_explanation_header_trace);
  tcase_add_test(t, test_engine_interleaved);
  tcase_add_test(t, test_received_spf_and_limits);
  suite_add_tcase(s, t);
  return s;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--rfc7208") == 0) {
    char *path = suite_path();
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
      printf("SKIP: OpenSPF RFC 7208 suite not found at %s (the ../shared/conformance folder "
             "is not present)\n",
             path);
      g_free(path);
      return 77;
    }
    g_free(path);
    Suite *s = suite_create("spf_rfc7208");
    TCase *t = tcase_create("rfc7208");
    tcase_add_test(t, test_rfc7208_suite);
    suite_add_tcase(s, t);
    return testutil_run(s);
  }
  return testutil_run(unit_suite());
}
