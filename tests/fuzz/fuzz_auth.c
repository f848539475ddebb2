/* libFuzzer target: the authentication parsers and engines. The first byte
 * picks what the rest feeds: an SPF record served as the TXT answer of
 * every lookup of an SPF check (with A/MX/PTR answers made from the same
 * bytes), a DKIM-signed message verified against a key record made of the
 * input's tail, a DMARC record, or a message for Authentication-Results
 * stripping and the From-domain reader. Engines assert on misuse, so any
 * abort or sanitizer report is a bug. */
#include <stdint.h>
#include <string.h>

#include "authres.h"
#include "dkim_verify.h"
#include "dmarc_check.h"
#include "dmarc_from.h"
#include "spf_check.h"
#include "spf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dns_rr txt_rr(const dns_name *owner, const uint8_t *d, size_t n) {
  dns_rr rr;
  dns_rr_init(&rr, owner, DNS_T_TXT, 60);
  for (size_t off = 0; off < n; off += 255)
    dns_rr_txt_add(&rr, d + off, n - off < 255 ? n - off : 255);
  return rr;
}

static void fuzz_spf(const uint8_t *d, size_t n, uint8_t mode) {
  const char *problem;
  if (spf_record_is_spf((const char *)d, n))
    spf_record_free(spf_record_parse((const char *)d, n, &problem));
  spf_request req = {.ip = mode & 1 ? "2001:db8::1" : "192.0.2.1",
                     .helo = "helo.example",
                     .mailfrom = mode & 2 ? "" : "a-b+c@example.com",
                     .receiver = "mx.example"};
  spf_check *c = spf_check_new(&req, NULL);
  spf_event ev;
  unsigned step = 0;
  while (spf_check_next(c, &ev) && ev.kind == SPF_EV_DNS_QUERY) {
    dns_rr rr;
    size_t nrr = 1;
    auth_dns_status st = AUTH_DNS_OK;
    switch (ev.query.type) {
    case DNS_T_TXT:
      rr = txt_rr(&ev.query.name, d, n);
      break;
    case DNS_T_MX:
      dns_rr_init(&rr, &ev.query.name, DNS_T_MX, 60);
      rr.rd.mx.exchange = ev.query.name;
      break;
    case DNS_T_PTR:
      dns_rr_init(&rr, &ev.query.name, DNS_T_PTR, 60);
      rr.rd.name = ev.query.name;
      break;
    default:
      dns_rr_init(&rr, &ev.query.name, ev.query.type, 60);
      memcpy(rr.rd.aaaa, ev.query.type == DNS_T_A ? (const uint8_t[]){192, 0, 2, 1}
                                                 : (const uint8_t[16]){0x20, 1, 0xd, 0xb8},
             ev.query.type == DNS_T_A ? 4 : 16);
    }
    if ((mode >> 2) && ++step % (mode >> 2) == 0) {
      st = step % 2 ? AUTH_DNS_NXDOMAIN : AUTH_DNS_TIMEOUT;
      nrr = 0;
    }
    spf_check_answer(c, ev.query.id, st, &rr, nrr);
    dns_rr_clear(&rr);
  }
  char *h = spf_check_received_spf(c);
  g_free(h);
  spf_check_free(c);
}

static void fuzz_dkim(const uint8_t *d, size_t n, uint8_t mode) {
  /* the message is the input up to a NUL, the key record what follows */
  const uint8_t *nul = memchr(d, 0, n);
  size_t mlen = nul ? (size_t)(nul - d) : n;
  dkim_verify *v = dkim_verify_new(NULL, NULL);
  size_t chunk = (mode & 7) + 1;
  for (size_t off = 0; off < mlen; off += chunk)
    dkim_verify_feed(v, d + off, mlen - off < chunk ? mlen - off : chunk);
  dkim_verify_end(v, 1700000000);
  dkim_event ev;
  while (dkim_verify_next(v, &ev) && ev.kind == DKIM_EV_DNS_QUERY) {
    dns_rr rr = nul ? txt_rr(&ev.query.name, nul + 1, n - mlen - 1)
                    : txt_rr(&ev.query.name, (const uint8_t *)"v=DKIM1; p=", 11);
    dkim_verify_answer(v, ev.query.id, mode & 8 ? AUTH_DNS_TIMEOUT : AUTH_DNS_OK, &rr, 1);
    dns_rr_clear(&rr);
  }
  authres *a = authres_new("mx.example");
  authres_add_dkim(a, v);
  g_free(authres_header(a));
  authres_free(a);
  dkim_verify_free(v);
}

static uint32_t rnd(void *ud) { return (uint32_t)(uintptr_t)ud; }

static void fuzz_dmarc(const uint8_t *d, size_t n, uint8_t mode) {
  dmarc_record_free(dmarc_record_parse((const char *)d, n));
  static const char *const psl[] = {"com", "co.uk"};
  dmarc_dkim dk = {"sub.example.com", mode & 1 ? DKIM_PASS : DKIM_FAIL};
  dmarc_request req = {.from_domain = mode & 2 ? "news.example.com" : "example.com",
                       .spf = SPF_FAIL,
                       .spf_domain = "example.com",
                       .dkim = &dk,
                       .ndkim = 1,
                       .public_suffixes = psl,
                       .nsuffixes = 2};
  auth_env env = {.rand = rnd, .rand_ud = (void *)(uintptr_t)mode};
  dmarc_check *c = dmarc_check_new(&req, &env);
  dmarc_event ev;
  while (dmarc_check_next(c, &ev) && ev.kind == DMARC_EV_DNS_QUERY) {
    dns_rr rr = txt_rr(&ev.query.name, d, n);
    dmarc_check_answer(c, ev.query.id, mode & 4 ? AUTH_DNS_NXDOMAIN : AUTH_DNS_OK, &rr, 1);
    dns_rr_clear(&rr);
  }
  authres *a = authres_new("mx.example");
  authres_add_dmarc(a, c);
  g_free(authres_header(a));
  authres_free(a);
  dmarc_check_free(c);
}

static void fuzz_msg(const uint8_t *d, size_t n) {
  size_t out;
  unsigned removed;
  g_free(authres_strip((const char *)d, n, "mx.example.net", &out, &removed));
  g_free(authres_authserv_id((const char *)d, n));
  char *dom = NULL;
  dmarc_from_domain((const char *)d, n, &dom);
  g_free(dom);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t mode = data[0];
  data++, size--;
  switch (mode % 4) {
  case 0:
    fuzz_spf(data, size, mode >> 2);
    break;
  case 1:
    fuzz_dkim(data, size, mode >> 2);
    break;
  case 2:
    fuzz_dmarc(data, size, mode >> 2);
    break;
  default:
    fuzz_msg(data, size);
  }
  return 0;
}
