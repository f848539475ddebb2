/* userdir.c — addresses, passwords, mailbox hosts. */
#include "userdir.h"

#include "octet_hash.h"

#include <stdint.h>
#include <string.h>

/* A lookup key: the address with the local part as given and the domain
 * lowercased, its length and its hash (key_hash), computed once: the
 * table's hash function only reads it. */
typedef struct {
  const char *s;
  size_t len;
  guint hash;
} ukey;

typedef struct {
  userdir_user u;
  ukey key; /* key.s owned */
} entry;

struct userdir {
  GPtrArray *users; /* entry*, in order */
  GHashTable *by_key; /* ukey* (an entry's) -> entry*, lookup only */
};

/* The hash of the N octets at S (octet_hash.h: eight a step), cheaper
 * than g_str_hash's octet loop for the ~20-octet addresses every delivery
 * and login looks up. */
static guint key_hash(const char *s, size_t n) {
  return octet_hash((uint64_t)n * OCTET_HASH_K, s, n);
}

/* True if one of the N octets at S is in 'A'..'Z': eight a step (on the
 * low seven bits X of an octet X + 0x3f reaches the high bit when X >=
 * 'A', X + 0x25 when X > 'Z'; no carry between octets), the last word
 * overlapping; under eight octets one by one. */
static bool has_upper(const char *s, size_t n) {
  const uint64_t ones = UINT64_C(0x0101010101010101);
  uint64_t w, up = 0;
  if (n < 8) {
    for (size_t i = 0; i < n; i++)
      if (s[i] >= 'A' && s[i] <= 'Z')
        return true;
    return false;
  }
  for (size_t i = 0;; i += 8) {
    if (i + 8 > n)
      i = n - 8;
    memcpy(&w, s + i, 8);
    uint64_t x = w & (ones * 0x7f);
    up |= (x + ones * 0x3f) & ~(x + ones * 0x25) & ~w & (ones * 0x80);
    if (i + 8 == n)
      return up != 0;
  }
}

static guint ukey_hash(gconstpointer p) { return ((const ukey *)p)->hash; }

static gboolean ukey_equal(gconstpointer a, gconstpointer b) {
  const ukey *x = a, *y = b;
  return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

/* The lookup key of ADDRESS (the local part as given, the domain
 * lowercased, RFC 5321 §2.4) written into BUF (LEN + 1 octets, LEN =
 * strlen(ADDRESS)). Without printf: every delivery and login looks a user
 * up. */
static char *key_into(const char *address, size_t len, char *buf) {
  memcpy(buf, address, len + 1);
  /* the domain: after the last '@', found from the end (it is short);
   * ASCII upper case lowered inline (no call per octet) */
  char *p = buf + len;
  while (p > buf && p[-1] != '@')
    p--;
  if (p > buf)
    for (; *p; p++)
      if (*p >= 'A' && *p <= 'Z')
        *p = (char)(*p + ('a' - 'A'));
  return buf;
}

static void entry_free(entry *e) {
  g_free((char *)e->u.address);
  g_free((char *)e->u.password);
  g_free((char *)e->u.mailbox);
  g_free((char *)e->key.s);
  g_free(e);
}

userdir *userdir_new(void) {
  userdir *d = g_new0(userdir, 1);
  d->users = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
  d->by_key = g_hash_table_new(ukey_hash, ukey_equal);
  return d;
}

void userdir_free(userdir *d) {
  if (!d)
    return;
  g_hash_table_unref(d->by_key);
  g_ptr_array_unref(d->users);
  g_free(d);
}

bool userdir_add(userdir *d, const char *address, const char *password, const char *mailbox) {
  size_t len = strlen(address);
  char *k = key_into(address, len, g_malloc(len + 1));
  ukey key = {k, len, key_hash(k, len)};
  if (g_hash_table_contains(d->by_key, &key)) {
    g_free(k);
    return false;
  }
  entry *e = g_new0(entry, 1);
  e->u.address = g_strdup(address);
  e->u.password = g_strdup(password);
  e->u.mailbox = g_strdup(mailbox);
  e->key = key;
  g_ptr_array_add(d->users, e);
  g_hash_table_insert(d->by_key, &e->key, e);
  return true;
}

const userdir_user *userdir_find(const userdir *d, const char *address) {
  size_t len = strlen(address);
  /* The domain (after the last '@') has an upper-case letter? Mostly not:
   * then the address is its own key, no copy. */
  const char *at = strrchr(address, '@');
  char small[128], *copy = NULL;
  ukey key = {address, len, 0};
  if (at && has_upper(at + 1, len - (size_t)(at + 1 - address))) {
    copy = key_into(address, len, len < sizeof small ? small : g_malloc(len + 1));
    key.s = copy;
  }
  key.hash = key_hash(key.s, len);
  entry *e = g_hash_table_lookup(d->by_key, &key);
  if (copy && copy != small)
    g_free(copy);
  return e ? &e->u : NULL;
}

bool userdir_check(const userdir *d, const char *user, const char *password) {
  const userdir_user *u = userdir_find(d, user);
  return u && password && strcmp(u->password, password) == 0;
}

GPtrArray *userdir_on_host(const userdir *d, const char *mailbox) {
  GPtrArray *out = g_ptr_array_new();
  for (guint i = 0; i < d->users->len; i++) {
    entry *e = d->users->pdata[i];
    if (e->u.mailbox && strcmp(e->u.mailbox, mailbox) == 0)
      g_ptr_array_add(out, &e->u);
  }
  return out;
}
