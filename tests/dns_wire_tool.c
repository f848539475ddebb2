/* dns_wire_tool — a tiny filter over the DNS codec for the real-peer test
 * (tests/dns_peer_test.py drives it with dnspython).
 *
 *   dns_wire_tool decode           each stdin line is a message in hex; prints
 *                                  "ERR <dns_err_name>" or the message text
 *                                  (dns_msg_append_text) then "HEX <our
 *                                  re-encoding>", then "END".
 *   dns_wire_tool respond ZONEFILE each stdin line is "udp|tcp <query hex>";
 *                                  answers from the zones in ZONEFILE ("$ORIGIN
 *                                  name" lines start a zone, other non-empty
 *                                  lines are records) and prints "HEX <reply>"
 *                                  or "DROP", then "END".
 * Exit status 2 on bad usage or a bad zone file. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_wire.h"
#include "dns_zone.h"

static GByteArray *unhex(const char *s) {
  GByteArray *b = g_byte_array_new();
  size_t n = strlen(s);
  for (size_t i = 0; i + 1 < n; i += 2) {
    int hi = g_ascii_xdigit_value(s[i]), lo = g_ascii_xdigit_value(s[i + 1]);
    if (hi < 0 || lo < 0)
      break;
    uint8_t c = (uint8_t)(hi << 4 | lo);
    g_byte_array_append(b, &c, 1);
  }
  return b;
}

static void print_hex(const uint8_t *p, size_t n) {
  fputs("HEX ", stdout);
  for (size_t i = 0; i < n; i++)
    printf("%02x", p[i]);
  putchar('\n');
}

static void do_decode(const char *line) {
  GByteArray *b = unhex(line);
  dns_msg m;
  dns_err e = dns_msg_decode(&m, b->data, b->len);
  if (e != DNS_OK) {
    printf("ERR %s\n", dns_err_name(e));
  } else {
    GString *t = g_string_new(NULL);
    dns_msg_append_text(&m, t);
    fputs(t->str, stdout);
    g_string_free(t, TRUE);
    static uint8_t buf[65535];
    dns_enc_result res;
    e = dns_msg_encode(&m, buf, sizeof buf, 0, &res);
    if (e != DNS_OK)
      printf("ERR encode %s\n", dns_err_name(e));
    else
      print_hex(buf, res.len);
  }
  puts("END");
  dns_msg_clear(&m);
  g_byte_array_free(b, TRUE);
}

static GPtrArray *load_zones(const char *path) {
  char *text;
  GError *err = NULL;
  if (!g_file_get_contents(path, &text, NULL, &err)) {
    fprintf(stderr, "%s: %s\n", path, err->message);
    exit(2);
  }
  GPtrArray *zones = g_ptr_array_new_with_free_func((GDestroyNotify)dns_zone_free);
  char **lines = g_strsplit(text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    char *l = g_strstrip(lines[i]);
    if (!*l || *l == ';')
      continue;
    if (g_str_has_prefix(l, "$ORIGIN ")) {
      dns_name o;
      if (dns_name_from_text(&o, l + 8) != DNS_OK) {
        fprintf(stderr, "%s:%d: bad origin\n", path, i + 1);
        exit(2);
      }
      g_ptr_array_add(zones, dns_zone_new(&o));
      continue;
    }
    dns_err e = zones->len ? dns_zone_add_text(g_ptr_array_index(zones, zones->len - 1), l)
                           : DNS_ERR_OUT_OF_ZONE;
    if (e != DNS_OK) {
      fprintf(stderr, "%s:%d: %s: %s\n", path, i + 1, l, dns_err_name(e));
      exit(2);
    }
  }
  g_strfreev(lines);
  g_free(text);
  return zones;
}

int main(int argc, char **argv) {
  bool respond = argc == 3 && strcmp(argv[1], "respond") == 0;
  if (!respond && !(argc == 2 && strcmp(argv[1], "decode") == 0)) {
    fprintf(stderr, "usage: %s decode | respond ZONEFILE\n", argv[0]);
    return 2;
  }
  GPtrArray *zones = respond ? load_zones(argv[2]) : NULL;
  dns_zone_cfg cfg = {.edns_size = 1232};
  char line[200000];
  while (fgets(line, sizeof line, stdin)) {
    g_strstrip(line);
    if (!respond) {
      do_decode(line);
    } else {
      bool tcp = g_str_has_prefix(line, "tcp ");
      GByteArray *q = unhex(line + 4);
      GByteArray *out = g_byte_array_new();
      if (dns_zone_respond_wire((dns_zone *const *)zones->pdata, zones->len, &cfg, q->data, q->len,
                                tcp, out, NULL))
        print_hex(out->data, out->len);
      else
        puts("DROP");
      puts("END");
      g_byte_array_free(out, TRUE);
      g_byte_array_free(q, TRUE);
    }
    fflush(stdout);
  }
  if (zones)
    g_ptr_array_free(zones, TRUE);
  return 0;
}
