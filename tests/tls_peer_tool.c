/* tls_peer_tool — puts the TLS adapter on a real loopback socket so that
 * the openssl command line tools can be its peer (tests/tls_peer_test.py).
 *
 *   tls_peer_tool gen DIR          writes DIR/ca.pem, DIR/cert.pem, DIR/key.pem
 *                                  (leaf names: mx.example, 127.0.0.1)
 *   tls_peer_tool serve            listens on 127.0.0.1, prints "PORT n", takes one
 *                                  connection as a TLS server, answers the first
 *                                  line with "echo: LINE" and closes (close_notify)
 *   tls_peer_tool connect PORT NAME
 *                                  connects as a TLS client trusting the CA,
 *                                  sends an HTTP/1.0 request, prints the reply
 *
 * Events are printed as lines ("ESTABLISHED …", "FAILED …", "CLOSED").
 * Credentials come from fixed seeds, so gen always writes the same files.
 * Simulated time stays 0 (2026-01-01 for the certificate check).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_conn.h"

static tls_ca *ca;
static tls_cred *cred;

static void make_creds(tls_rand *r) {
  uint8_t s[TLS_RAND_SEED_LEN] = {1};
  ca = tls_ca_new(tls_rand_libctx(r), s, NULL, NULL);
  const char *names[] = {"mx.example", "127.0.0.1"};
  cred = tls_cred_new(tls_rand_libctx(r), ca, names, 2, s, NULL);
}

static void write_file(const char *dir, const char *name, const char *text) {
  char *path = g_build_filename(dir, name, NULL);
  GError *err = NULL;
  if (!g_file_set_contents(path, text, -1, &err))
    g_error("%s", err->message);
  g_free(path);
}

static bool print_events(tls_conn *c) {
  tls_conn_event ev;
  bool over = false;
  while (tls_conn_next_event(c, &ev)) {
    if (ev.type == TLS_CONN_EV_ESTABLISHED)
      printf("ESTABLISHED %s %s %s verified=%d cn=%s sni=%s\n", ev.version, ev.cipher, ev.group,
             ev.peer_verified, ev.peer_subject, ev.server_name);
    else if (ev.type == TLS_CONN_EV_FAILED)
      printf("FAILED %s\n", ev.reason), over = true;
    else
      printf("CLOSED\n"), over = true;
  }
  fflush(stdout);
  return over;
}

static bool flush_cipher(tls_conn *c, int fd) {
  size_t n;
  const uint8_t *p;
  while ((p = tls_conn_cipher_peek(c, &n)), n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    tls_conn_cipher_consume(c, (size_t)w);
  }
  return true;
}

/* Pumps until the peer closes or fails; ON_PLAIN handles decrypted text. */
static void pump(tls_conn *c, int fd, void (*on_plain)(tls_conn *c, GString *acc)) {
  GString *acc = g_string_new("");
  for (;;) {
    if (!flush_cipher(c, fd))
      break;
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) {
      printf("TIMEOUT\n");
      break;
    }
    uint8_t buf[4096];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      printf("EOF\n");
      break;
    }
    tls_conn_feed_cipher(c, buf, (size_t)r, 0);
    bool over = print_events(c);
    size_t n;
    const uint8_t *pl = tls_conn_plain_peek(c, &n);
    g_string_append_len(acc, (const char *)pl, (gssize)n);
    tls_conn_plain_consume(c, n);
    on_plain(c, acc);
    if (over)
      break;
  }
  flush_cipher(c, fd);
  g_string_free(acc, TRUE);
}

/* Answers the first line, then closes (close_notify). */
static void echo_line(tls_conn *c, GString *acc) {
  char *nl = strchr(acc->str, '\n');
  if (nl == NULL || tls_conn_get_state(c) != TLS_CONN_OPEN)
    return;
  char *line = g_strndup(acc->str, (gsize)(nl - acc->str));
  g_strchomp(line);
  printf("GOT %s\n", line);
  fflush(stdout);
  char *reply = g_strdup_printf("echo: %s\n", line);
  tls_conn_write_plain(c, reply, strlen(reply), 0);
  tls_conn_close(c, 0);
  g_free(reply);
  g_free(line);
  g_string_truncate(acc, 0);
}

static void print_reply(tls_conn *c, GString *acc) {
  (void)c;
  char *nl;
  while ((nl = strchr(acc->str, '\n')) != NULL) {
    printf("REPLY %.*s\n", (int)(nl - acc->str), acc->str);
    g_string_erase(acc, 0, nl - acc->str + 1);
  }
  fflush(stdout);
}

static int serve(tls_rand *r, const uint8_t *seed) {
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_SERVER);
  cfg.cred = cred;
  cfg.verify = false;
  int ls = socket(AF_INET, SOCK_STREAM, 0), fd = -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0 ||
      getsockname(ls, (struct sockaddr *)&a, &alen) != 0)
    return 1;
  printf("PORT %d\n", ntohs(a.sin_port));
  fflush(stdout);
  struct pollfd p = {ls, POLLIN, 0};
  if (poll(&p, 1, 20000) > 0)
    fd = accept(ls, NULL, NULL);
  close(ls);
  if (fd < 0)
    return 1;
  tls_conn_ctx *ctx = tls_conn_ctx_new(r, &cfg, NULL);
  tls_conn *c = tls_conn_new(ctx, NULL, seed, NULL, 0);
  pump(c, fd, echo_line);
  tls_conn_free(c);
  tls_conn_ctx_free(ctx);
  close(fd);
  return 0;
}

static int connect_to(tls_rand *r, const uint8_t *seed, int port, const char *name) {
  tls_conn_config cfg;
  tls_conn_config_init(&cfg, TLS_CONN_CLIENT);
  cfg.trust = ca;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (fd < 0)
    return 1;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return 1;
  }
  tls_conn_ctx *ctx = tls_conn_ctx_new(r, &cfg, NULL);
  tls_conn *c = tls_conn_new(ctx, name, seed, NULL, 0);
  static const char req[] = "GET / HTTP/1.0\r\n\r\n";
  tls_conn_write_plain(c, req, strlen(req), 0);
  pump(c, fd, print_reply);
  tls_conn_free(c);
  tls_conn_ctx_free(ctx);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  uint8_t seed[TLS_RAND_SEED_LEN] = {7};
  tls_rand *r = tls_rand_new(seed);
  make_creds(r);
  int rc = 2;
  if (strcmp(argv[1], "gen") == 0 && argc == 3) {
    write_file(argv[2], "ca.pem", tls_ca_cert_pem(ca));
    write_file(argv[2], "cert.pem", tls_cred_cert_pem(cred));
    write_file(argv[2], "key.pem", tls_cred_key_pem(cred));
    rc = 0;
  } else if (strcmp(argv[1], "serve") == 0) {
    rc = serve(r, seed);
  } else if (strcmp(argv[1], "connect") == 0 && argc == 4) {
    rc = connect_to(r, seed, atoi(argv[2]), argv[3]);
  }
  tls_cred_free(cred);
  tls_ca_free(ca);
  tls_rand_free(r);
  return rc;
}
