/* cmd_spf.c — `mailsim spf` (see cmd_spf.h): loads a zone file into a root
 * dns_zone, runs an spf_check and answers its lookups from the zone through
 * dns_zone_respond (so CNAMEs, NXDOMAIN, NODATA and wildcards behave as an
 * authoritative server would). */
#include "cmd_spf.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dns_zone.h"
#include "spf_check.h"

/* Loads PATH into a new zone at the root; NULL (message printed) on error. */
static dns_zone *load_zone(const char *path) {
  gchar *text;
  GError *err = NULL;
  if (!g_file_get_contents(path, &text, NULL, &err)) {
    fprintf(stderr, "mailsim spf: %s\n", err->message);
    g_error_free(err);
    return NULL;
  }
  dns_name root;
  dns_name_set_root(&root);
  dns_zone *z = dns_zone_new(&root);
  dns_err e =
      dns_zone_add_text(z, ". 300 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300");
  g_assert(e == DNS_OK);
  gchar **lines = g_strsplit(text, "\n", -1);
  g_free(text);
  bool ok = true;
  for (size_t i = 0; lines[i] && ok; i++) {
    char *l = g_strstrip(lines[i]);
    if (l[0] == '\0' || l[0] == ';' || l[0] == '#')
      continue;
    e = dns_zone_add_text(z, l);
    if (e != DNS_OK) {
      fprintf(stderr, "mailsim spf: %s:%zu: %s: expected \"name TTL IN TYPE rdata\"\n", path, i + 1,
              dns_err_name(e));
      ok = false;
    }
  }
  g_strfreev(lines);
  if (!ok) {
    dns_zone_free(z);
    return NULL;
  }
  return z;
}

/* Answers Q from the zone: status and the answer records (in *R). */
static auth_dns_status resolve(dns_zone *z, const auth_dns_query *q, dns_msg *r) {
  dns_msg m;
  dns_msg_init(&m);
  m.id = (uint16_t)q->id;
  m.rd = true;
  dns_msg_add_question(&m, &q->name, q->type, DNS_C_IN);
  dns_zone_cfg cfg = {.edns_size = 0};
  dns_zone *const zones[1] = {z};
  bool ok = dns_zone_respond(zones, 1, &cfg, &m, r);
  dns_msg_clear(&m);
  if (!ok)
    return AUTH_DNS_SERVFAIL;
  switch (r->rcode) {
  case DNS_RCODE_NOERROR:
    return AUTH_DNS_OK;
  case DNS_RCODE_NXDOMAIN:
    return AUTH_DNS_NXDOMAIN;
  default:
    return AUTH_DNS_SERVFAIL;
  }
}

int cli_cmd_spf(int argc, char **argv) {
  char *zone = NULL, *ip = NULL, *helo = NULL, *from = NULL, *receiver = NULL, *ident = NULL;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
      {"zone", 0, 0, G_OPTION_ARG_FILENAME, &zone, "zone file (name TTL IN TYPE rdata)", "FILE"},
      {"ip", 0, 0, G_OPTION_ARG_STRING, &ip, "client IP address", "IP"},
      {"helo", 0, 0, G_OPTION_ARG_STRING, &helo, "HELO/EHLO name", "NAME"},
      {"from", 0, 0, G_OPTION_ARG_STRING, &from, "MAIL FROM address (\"\" = null path)", "ADDR"},
      {"receiver", 0, 0, G_OPTION_ARG_STRING, &receiver, "our host name (%{r})", "NAME"},
      {"identity", 0, 0, G_OPTION_ARG_STRING, &ident, "mailfrom (default) or helo", "ID"},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "print each DNS lookup", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  dns_zone *z = NULL;
  spf_check *c = NULL;
  if (!cli_parse("spf", "",
                 "Evaluates one SPF check (RFC 7208 check_host) against a zone file and prints\n"
                 "the result and a Received-SPF header field.\n"
                 "Exit status: 0 pass, 1 another result, 2 bad usage or input.",
                 entries, &argc, &argv))
    goto out;
  if (!zone || !ip || !helo || (!from && (!ident || strcmp(ident, "helo") != 0))) {
    fprintf(stderr, "mailsim spf: --zone, --ip, --helo and --from are required\n"
                    "Try 'mailsim spf --help'.\n");
    goto out;
  }
  spf_identity id = SPF_ID_MAILFROM;
  if (ident && strcmp(ident, "helo") == 0)
    id = SPF_ID_HELO;
  else if (ident && strcmp(ident, "mailfrom") != 0) {
    fprintf(stderr, "mailsim spf: --identity: expected mailfrom or helo, got '%s'\n", ident);
    goto out;
  }
  z = load_zone(zone);
  if (!z)
    goto out;
  spf_request req = {
      .ip = ip, .helo = helo, .mailfrom = from ? from : "", .identity = id, .receiver = receiver};
  c = spf_check_new(&req, NULL);
  if (!c) {
    fprintf(stderr, "mailsim spf: --ip: '%s' is not an IPv4 or IPv6 address\n", ip);
    goto out;
  }
  spf_event ev;
  while (spf_check_next(c, &ev) && ev.kind == SPF_EV_DNS_QUERY) {
    dns_msg r;
    auth_dns_status st = resolve(z, &ev.query, &r);
    guint n = dns_msg_count(&r, DNS_SEC_ANSWER);
    dns_rr *rrs = g_new0(dns_rr, n ? n : 1);
    for (guint i = 0; i < n; i++)
      rrs[i] = *dns_msg_rr(&r, DNS_SEC_ANSWER, i); /* borrowed: the engine copies */
    if (verbose) {
      char *name = dns_name_to_text(&ev.query.name);
      char tb[16];
      printf("lookup: %s %s -> %s (%u records)\n", name, dns_type_to_text(ev.query.type, tb),
             auth_dns_status_name(st), n);
      g_free(name);
    }
    spf_check_answer(c, ev.query.id, st, rrs, n);
    g_free(rrs);
    dns_msg_clear(&r);
  }
  spf_result res = spf_check_result(c);
  printf("result: %s\n", spf_result_name(res));
  if (spf_check_mechanism(c))
    printf("mechanism: %s\n", spf_check_mechanism(c));
  if (spf_check_explanation(c))
    printf("explanation: %s\n", spf_check_explanation(c));
  if (spf_check_problem(c))
    printf("problem: %s\n", spf_check_problem(c));
  char *hdr = spf_check_received_spf(c);
  printf("%s\n", hdr);
  g_free(hdr);
  status = res == SPF_PASS ? 0 : 1;
out:
  spf_check_free(c);
  dns_zone_free(z);
  g_free(zone);
  g_free(ip);
  g_free(helo);
  g_free(from);
  g_free(receiver);
  g_free(ident);
  return status;
}
