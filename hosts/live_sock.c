/* live_sock.c — real sockets for live mode (see live_sock.h).
 *
 * Plain non-blocking POSIX sockets watched by the GLib main loop. A client
 * is freed only from an idle callback (the reaper), so no callback ever
 * runs on freed memory, and an abort found while the simulation runs
 * (a write error, an output overflow) is reported from that idle callback,
 * outside the run, as live_gw.h requires.
 */
#include "live_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIVE_SOCK_ERROR (g_quark_from_static_string("live-sock"))
#define SNDBUF (64 * 1024) /* kernel send buffer per client: keeps the bound tight */
#define READ_CHUNK 16384

typedef struct {
  int tcp, udp; /* -1: none */
  guint tcp_src, udp_src;
  unsigned index;
  struct live_sock *ls;
} listener;

typedef struct {
  struct live_sock *ls;
  uint64_t id;
  int fd;
  guint rd_src, wr_src;
  GByteArray *out;
  bool eof_pending, close_pending, read_done, dead, paused;
} client;

typedef struct {
  uint64_t id;
  unsigned lis;
  struct sockaddr_storage from;
  socklen_t fromlen;
} dgram;

struct live_sock {
  const live_sock_in *in;
  void *user;
  live_sock_limits lim;
  GPtrArray *listeners; /* listener* */
  GHashTable *clients;  /* id -> client* (lookup only) */
  GHashTable *dgrams;   /* id -> dgram* (lookup only) */
  GQueue dgram_order;   /* ids (as pointers to the dgram's id), oldest first */
  GPtrArray *dead;      /* client* to free */
  GArray *aborts;       /* uint64_t ids whose abort() is still to report */
  guint reaper;
  uint64_t next_id;
};

static gboolean reap(gpointer p) {
  live_sock *ls = p;
  ls->reaper = 0;
  /* Report before freeing: abort() may not touch the client anyway. */
  GArray *ab = ls->aborts;
  ls->aborts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  for (guint i = 0; i < ab->len; i++)
    ls->in->abort(ls->user, g_array_index(ab, uint64_t, i));
  g_array_unref(ab);
  for (guint i = 0; i < ls->dead->len; i++) {
    client *c = ls->dead->pdata[i];
    g_byte_array_unref(c->out);
    g_free(c);
  }
  g_ptr_array_set_size(ls->dead, 0);
  return G_SOURCE_REMOVE;
}

static void want_reaper(live_sock *ls) {
  if (!ls->reaper)
    ls->reaper = g_idle_add(reap, ls);
}

/* Ends client C: closes its socket, forgets it; REPORT: tell abort(). */
static void client_end(client *c, bool report) {
  if (c->dead)
    return;
  live_sock *ls = c->ls;
  c->dead = true;
  if (c->rd_src)
    g_source_remove(c->rd_src);
  if (c->wr_src)
    g_source_remove(c->wr_src);
  c->rd_src = c->wr_src = 0;
  close(c->fd);
  c->fd = -1;
  g_hash_table_remove(ls->clients, &c->id);
  g_ptr_array_add(ls->dead, c);
  if (report)
    g_array_append_val(ls->aborts, c->id);
  want_reaper(ls);
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer p);

/* Writes what it can; false if the client was ended. */
static bool flush(client *c) {
  while (c->out->len) {
    ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      g_byte_array_remove_range(c->out, 0, (guint)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->wr_src)
        c->wr_src = g_unix_fd_add(c->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP, on_writable, c);
      return true;
    }
    client_end(c, !c->close_pending); /* the client is gone */
    return false;
  }
  if (c->wr_src) {
    g_source_remove(c->wr_src);
    c->wr_src = 0;
  }
  if (c->close_pending) {
    client_end(c, false);
    return false;
  }
  if (c->eof_pending) {
    shutdown(c->fd, SHUT_WR);
    c->eof_pending = false;
  }
  return true;
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer p) {
  (void)fd;
  (void)cond;
  client *c = p;
  c->wr_src = 0; /* flush() adds it again if needed */
  flush(c);
  return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer p) {
  (void)cond;
  client *c = p;
  uint8_t buf[READ_CHUNK];
  ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  live_sock *ls = c->ls;
  if (n > 0) {
    ls->in->data(ls->user, c->id, buf, (size_t)n);
    return c->dead ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
  }
  if (n == 0) { /* FIN: the client sends no more */
    c->rd_src = 0;
    c->read_done = true;
    ls->in->shut(ls->user, c->id);
    return G_SOURCE_REMOVE;
  }
  c->rd_src = 0; /* reset */
  client_end(c, false);
  ls->in->abort(ls->user, c->id);
  return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer p) {
  (void)cond;
  listener *l = p;
  live_sock *ls = l->ls;
  for (int k = 0; k < 64; k++) {
    int cfd = accept(fd, NULL, NULL);
    if (cfd < 0)
      break;
    fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
    fcntl(cfd, F_SETFD, FD_CLOEXEC);
    if (g_hash_table_size(ls->clients) >= ls->lim.max_clients) {
      close(cfd); /* over the limit: refused before the simulation sees it */
      continue;
    }
    int sb = SNDBUF;
    setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    client *c = g_new0(client, 1);
    c->ls = ls;
    c->id = ++ls->next_id;
    c->fd = cfd;
    c->out = g_byte_array_new();
    g_hash_table_insert(ls->clients, &c->id, c);
    ls->in->open(ls->user, l->index, c->id);
    if (!c->dead)
      c->rd_src = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
  }
  return G_SOURCE_CONTINUE;
}

static void forget_oldest_dgram(live_sock *ls) {
  uint64_t *idp = g_queue_pop_head(&ls->dgram_order);
  if (idp)
    g_hash_table_remove(ls->dgrams, idp);
}

static gboolean on_dgram(gint fd, GIOCondition cond, gpointer p) {
  (void)cond;
  listener *l = p;
  live_sock *ls = l->ls;
  for (int k = 0; k < 64; k++) {
    uint8_t buf[65536];
    dgram d = {0};
    d.fromlen = sizeof d.from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&d.from, &d.fromlen);
    if (n < 0)
      break;
    dgram *x = g_memdup2(&d, sizeof d);
    x->id = ++ls->next_id;
    x->lis = l->index;
    g_hash_table_insert(ls->dgrams, &x->id, x);
    g_queue_push_tail(&ls->dgram_order, &x->id);
    while (g_hash_table_size(ls->dgrams) > ls->lim.max_dgrams)
      forget_oldest_dgram(ls);
    ls->in->dgram(ls->user, l->index, x->id, buf, (size_t)n);
  }
  return G_SOURCE_CONTINUE;
}

live_sock *live_sock_new(const live_sock_in *in, void *user, const live_sock_limits *lim) {
  live_sock *ls = g_new0(live_sock, 1);
  ls->in = in;
  ls->user = user;
  if (lim)
    ls->lim = *lim;
  if (!ls->lim.max_clients)
    ls->lim.max_clients = 1000;
  if (!ls->lim.max_output)
    ls->lim.max_output = 256 * 1024;
  if (!ls->lim.max_dgrams)
    ls->lim.max_dgrams = 1024;
  ls->listeners = g_ptr_array_new();
  ls->clients = g_hash_table_new(g_int64_hash, g_int64_equal);
  ls->dgrams = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
  g_queue_init(&ls->dgram_order);
  ls->dead = g_ptr_array_new();
  ls->aborts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  return ls;
}

void live_sock_free(live_sock *ls) {
  if (!ls)
    return;
  GList *cl = g_hash_table_get_values(ls->clients);
  for (GList *i = cl; i; i = i->next)
    client_end(i->data, false);
  g_list_free(cl);
  g_array_set_size(ls->aborts, 0);
  if (ls->reaper) {
    g_source_remove(ls->reaper);
    ls->reaper = 0;
  }
  reap(ls);
  for (guint i = 0; i < ls->listeners->len; i++) {
    listener *l = ls->listeners->pdata[i];
    if (l->tcp_src)
      g_source_remove(l->tcp_src);
    if (l->udp_src)
      g_source_remove(l->udp_src);
    if (l->tcp >= 0)
      close(l->tcp);
    if (l->udp >= 0)
      close(l->udp);
    g_free(l);
  }
  g_ptr_array_unref(ls->listeners);
  g_hash_table_unref(ls->clients);
  g_hash_table_unref(ls->dgrams);
  g_queue_clear(&ls->dgram_order);
  g_ptr_array_unref(ls->dead);
  g_array_unref(ls->aborts);
  g_free(ls);
}

static int make_sock(int family, int type, const struct sockaddr *sa, socklen_t len, int *err) {
  int fd = socket(family, type, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  int one = 1;
  if (type == SOCK_STREAM)
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, sa, len) < 0 || (type == SOCK_STREAM && listen(fd, 512) < 0)) {
    *err = errno;
    close(fd);
    return -1;
  }
  return fd;
}

static uint16_t port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &len);
  return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int live_sock_listen(live_sock *ls, const char *addr, uint16_t port, bool tcp, bool udp,
                     uint16_t *bound, GError **err) {
  g_assert(tcp || udp);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family;
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
    family = s4->sin_family = AF_INET;
    len = sizeof *s4;
  } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
    family = s6->sin6_family = AF_INET6;
    len = sizeof *s6;
  } else {
    g_set_error(err, LIVE_SOCK_ERROR, 1, "%s: expected an IPv4 or IPv6 address", addr);
    return -1;
  }
  int tfd = -1, ufd = -1, e = 0;
  for (int attempt = 0; attempt < 50; attempt++) {
    uint16_t p = port;
    if (family == AF_INET)
      s4->sin_port = htons(p);
    else
      s6->sin6_port = htons(p);
    if (tcp) {
      tfd = make_sock(family, SOCK_STREAM, (struct sockaddr *)&ss, len, &e);
      if (tfd < 0)
        break;
      p = port_of(tfd);
      if (family == AF_INET)
        s4->sin_port = htons(p);
      else
        s6->sin6_port = htons(p);
    }
    if (udp) {
      ufd = make_sock(family, SOCK_DGRAM, (struct sockaddr *)&ss, len, &e);
      if (ufd < 0 && tcp && port == 0 && e == EADDRINUSE) {
        close(tfd); /* the free TCP port is taken for UDP: try another */
        tfd = -1;
        continue;
      }
    }
    break;
  }
  if ((tcp && tfd < 0) || (udp && ufd < 0)) {
    if (tfd >= 0)
      close(tfd);
    g_set_error(err, LIVE_SOCK_ERROR, 1, "%s port %u: %s", addr, port, g_strerror(e));
    return -1;
  }
  listener *l = g_new0(listener, 1);
  l->ls = ls;
  l->index = ls->listeners->len;
  l->tcp = tfd;
  l->udp = ufd;
  if (tfd >= 0)
    l->tcp_src = g_unix_fd_add(tfd, G_IO_IN, on_accept, l);
  if (ufd >= 0)
    l->udp_src = g_unix_fd_add(ufd, G_IO_IN, on_dgram, l);
  g_ptr_array_add(ls->listeners, l);
  *bound = port_of(tfd >= 0 ? tfd : ufd);
  return (int)l->index;
}

static client *find(live_sock *ls, uint64_t id) {
  client *c = g_hash_table_lookup(ls->clients, &id);
  return c && !c->dead ? c : NULL;
}

void live_sock_send(live_sock *ls, uint64_t id, const uint8_t *buf, size_t len) {
  client *c = find(ls, id);
  if (!c || c->close_pending)
    return;
  g_byte_array_append(c->out, buf, (guint)len);
  if (!flush(c))
    return;
  if (c->out->len > ls->lim.max_output)
    client_end(c, true); /* it does not read: drop it, reported from the loop */
}

void live_sock_eof(live_sock *ls, uint64_t id) {
  client *c = find(ls, id);
  if (!c)
    return;
  c->eof_pending = true;
  flush(c);
}

void live_sock_close(live_sock *ls, uint64_t id) {
  client *c = find(ls, id);
  if (!c)
    return;
  c->close_pending = true;
  if (c->rd_src) { /* no callbacks follow the owner's close */
    g_source_remove(c->rd_src);
    c->rd_src = 0;
  }
  flush(c);
}

void live_sock_reply(live_sock *ls, uint64_t id, const uint8_t *buf, size_t len) {
  dgram *d = g_hash_table_lookup(ls->dgrams, &id);
  if (!d)
    return;
  listener *l = ls->listeners->pdata[d->lis];
  sendto(l->udp, buf, len, MSG_DONTWAIT, (struct sockaddr *)&d->from, d->fromlen);
  g_queue_remove(&ls->dgram_order, &d->id);
  g_hash_table_remove(ls->dgrams, &id);
}

void live_sock_pause(live_sock *ls, uint64_t id, bool paused) {
  client *c = find(ls, id);
  if (!c || c->paused == paused)
    return;
  c->paused = paused;
  if (paused && c->rd_src) {
    g_source_remove(c->rd_src);
    c->rd_src = 0;
  } else if (!paused && !c->rd_src && !c->read_done && !c->close_pending) {
    c->rd_src = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
  }
}

unsigned live_sock_client_count(const live_sock *ls) { return g_hash_table_size(ls->clients); }
