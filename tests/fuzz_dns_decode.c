/* fuzz_dns_decode — libFuzzer target for the DNS decoder (clang,
 * -fsanitize=fuzzer,address). Properties: decoding never crashes or
 * over-reads; whatever decodes re-encodes, and decodes again to the same
 * text; truncating encodes stay within the limit; the zone server step
 * answers any input without crashing. Built and run briefly by meson when
 * the compiler is clang (test "dns_fuzz"). */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "dns_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *text(const dns_msg *m) {
  GString *s = g_string_new(NULL);
  dns_msg_append_text(m, s);
  return g_string_free(s, FALSE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65535)
    return 0;
  dns_msg m;
  if (dns_msg_decode(&m, data, size) == DNS_OK) {
    static uint8_t buf[65535];
    dns_enc_result res;
    if (dns_msg_encode(&m, buf, sizeof buf, 0, &res) != DNS_OK)
      abort();
    dns_msg d;
    if (dns_msg_decode(&d, buf, res.len) != DNS_OK)
      abort();
    char *a = text(&m), *b = text(&d);
    if (strcmp(a, b) != 0)
      abort();
    g_free(a);
    g_free(b);
    dns_msg_clear(&d);
    if (dns_msg_encode(&m, buf, 512, DNS_ENC_TRUNCATE, &res) == DNS_OK && res.len > 512)
      abort();
  }
  dns_msg_clear(&m);
  dns_name o = dns_name_lit("example.com");
  dns_zone *z = dns_zone_new(&o);
  dns_zone_add_text(z, "example.com. 60 IN SOA ns.example.com. h.example.com. 1 2 3 4 5");
  dns_zone_add_text(z, "example.com. 60 IN MX 10 mail.example.com.");
  dns_zone_add_text(z, "mail.example.com. 60 IN A 192.0.2.1");
  dns_zone_add_text(z, "*.w.example.com. 60 IN CNAME mail.example.com.");
  dns_zone_add_text(z, "sub.example.com. 60 IN NS ns.sub.example.com.");
  dns_zone_add_text(z, "ns.sub.example.com. 60 IN A 192.0.2.2");
  GByteArray *out = g_byte_array_new();
  dns_zone_cfg cfg = {.edns_size = 1232};
  dns_zone_respond_wire(&z, 1, &cfg, data, size, size & 1, out, NULL);
  g_byte_array_free(out, TRUE);
  dns_zone_free(z);
  return 0;
}
