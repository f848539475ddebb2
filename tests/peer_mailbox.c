/* peer_mailbox.c — test tool: serves the IMAP and POP3 engines over real
 * localhost sockets so real clients (Python imaplib/poplib, curl) can be
 * used as test peers (see peer_mailbox.py). Not part of the simulator:
 * real sockets are allowed here, nowhere in protocols/.
 *
 * Usage: peer_mailbox  — listens on two ephemeral ports on 127.0.0.1,
 * prints "IMAP_PORT POP3_PORT\n" on stdout, serves until stdin closes.
 * User "bob", password "secret", two messages in INBOX.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "imap_srv.h"
#include "mailstore.h"
#include "mailstore_imap.h"
#include "mailstore_pop3.h"
#include "pop3_srv.h"

typedef struct {
  int fd;
  bool imap;
  imap_srv *is;
  pop3_srv *ps;
  uint64_t id;
  bool closing;
} conn;

static int listen_on(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
    perror("bind/listen");
    exit(2);
  }
  socklen_t l = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &l);
  *port = ntohs(a.sin_port);
  return fd;
}

static void write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

static void service(conn *c, mailstore *st) {
  if (c->imap) {
    imap_srv_event ev;
    while (imap_srv_next_event(c->is, &ev)) {
      if (ev.kind == IMAP_SRV_EV_AUTH) {
        mailstore_imap *h =
            strcmp(ev.pass, "secret") == 0 ? mailstore_imap_open(st, ev.user) : NULL;
        imap_srv_auth_answer(c->is, ev.id, h ? IMAP_AUTH_OK : IMAP_AUTH_FAIL,
                             h ? &mailstore_imap_ops : NULL, h);
      } else if (ev.kind == IMAP_SRV_EV_CLOSE) {
        c->closing = true;
      }
    }
    size_t n;
    const uint8_t *p = imap_srv_output_peek(c->is, &n);
    write_all(c->fd, p, n);
    imap_srv_output_consume(c->is, n);
  } else {
    pop3_srv_event ev;
    while (pop3_srv_next_event(c->ps, &ev)) {
      if (ev.kind == POP3_SRV_EV_AUTH) {
        mailstore_err e;
        mailstore_pop3 *d =
            strcmp(ev.pass, "secret") == 0 ? mailstore_pop3_open(st, ev.user, c->id, &e) : NULL;
        if (d)
          pop3_srv_auth_answer(c->ps, ev.id, POP3_AUTH_OK, &mailstore_pop3_ops, d);
        else
          pop3_srv_auth_answer(c->ps, ev.id,
                               strcmp(ev.pass, "secret") == 0 ? POP3_AUTH_IN_USE : POP3_AUTH_FAIL,
                               NULL, NULL);
      } else if (ev.kind == POP3_SRV_EV_CLOSE) {
        c->closing = true;
      }
    }
    size_t n;
    const uint8_t *p = pop3_srv_output_peek(c->ps, &n);
    write_all(c->fd, p, n);
    pop3_srv_output_consume(c->ps, n);
  }
}

int main(void) {
  mailstore *st = mailstore_new(1);
  mailstore_user_add(st, "bob", 0, 0);
  static const char *const m[] = {
      "From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: Hello Bob\r\n"
      "Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n\r\nHi Bob,\r\n.lunch?\r\n",
      "From: carol@example.com\r\nSubject: report\r\n\r\nquarterly numbers\r\n"};
  for (int i = 0; i < 2; i++) {
    GBytes *b = g_bytes_new_static(m[i], strlen(m[i]));
    mailstore_deliver(st, "bob", NULL, b, 0, NULL);
    g_bytes_unref(b);
  }
  uint16_t ip, pp;
  int lfd[2] = {listen_on(&ip), listen_on(&pp)};
  printf("%u %u\n", ip, pp);
  fflush(stdout);
  GArray *conns = g_array_new(FALSE, FALSE, sizeof(conn));
  uint64_t next_id = 1;
  int64_t now = 0;
  for (;;) {
    guint nc = conns->len;
    struct pollfd *pfd = g_new0(struct pollfd, nc + 3);
    pfd[0] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
    pfd[1] = (struct pollfd){lfd[0], POLLIN, 0};
    pfd[2] = (struct pollfd){lfd[1], POLLIN, 0};
    for (guint i = 0; i < nc; i++)
      pfd[i + 3] = (struct pollfd){g_array_index(conns, conn, i).fd, POLLIN, 0};
    if (poll(pfd, nc + 3, -1) < 0 && errno != EINTR)
      break;
    now += 1000000;
    if (pfd[0].revents) {
      char b[64];
      if (read(STDIN_FILENO, b, sizeof b) <= 0)
        break;
    }
    for (int k = 0; k < 2; k++) {
      if (!(pfd[k + 1].revents & POLLIN))
        continue;
      int fd = accept(lfd[k], NULL, NULL);
      if (fd < 0)
        continue;
      conn c = {fd, k == 0, NULL, NULL, next_id++, false};
      if (c.imap) {
        imap_srv_config cfg = {.hostname = "peer.example"};
        c.is = imap_srv_new(&cfg, NULL, now);
      } else {
        pop3_srv_config cfg = {.hostname = "peer.example"};
        c.ps = pop3_srv_new(&cfg, NULL, now);
      }
      service(&c, st);
      g_array_append_val(conns, c);
    }
    for (guint i = 0; i < nc; i++) {
      conn *c = &g_array_index(conns, conn, i);
      if (!pfd[i + 3].revents)
        continue;
      uint8_t buf[65536];
      ssize_t r = read(c->fd, buf, sizeof buf);
      if (r <= 0) {
        c->closing = true;
        if (c->imap)
          imap_srv_hangup(c->is);
        else
          pop3_srv_hangup(c->ps);
      } else if (c->imap) {
        imap_srv_feed(c->is, buf, (size_t)r, now);
      } else {
        pop3_srv_feed(c->ps, buf, (size_t)r, now);
      }
      service(c, st);
    }
    /* other IMAP sessions learn of changes at once (as IDLE would) */
    for (guint i = 0; i < conns->len; i++) {
      conn *c = &g_array_index(conns, conn, i);
      if (c->imap && !c->closing) {
        imap_srv_poll(c->is);
        service(c, st);
      }
    }
    for (guint i = conns->len; i-- > 0;) {
      conn *c = &g_array_index(conns, conn, i);
      if (!c->closing)
        continue;
      close(c->fd);
      imap_srv_free(c->is);
      pop3_srv_free(c->ps);
      g_array_remove_index(conns, i);
    }
    g_free(pfd);
  }
  for (guint i = 0; i < conns->len; i++) {
    conn *c = &g_array_index(conns, conn, i);
    close(c->fd);
    imap_srv_free(c->is);
    pop3_srv_free(c->ps);
  }
  g_array_free(conns, TRUE);
  close(lfd[0]);
  close(lfd[1]);
  mailstore_free(st);
  return 0;
}
