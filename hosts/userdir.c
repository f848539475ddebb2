/* userdir.c — addresses, passwords, mailbox hosts. */
#include "userdir.h"

#include <string.h>

typedef struct {
  userdir_user u;
  char *key; /* local part as given, domain lowercased */
} entry;

struct userdir {
  GPtrArray *users; /* entry*, in order */
  GHashTable *by_key; /* key -> entry*, lookup only */
};

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

static char *key_of(const char *address) {
  size_t len = strlen(address);
  return key_into(address, len, g_malloc(len + 1));
}

static void entry_free(entry *e) {
  g_free((char *)e->u.address);
  g_free((char *)e->u.password);
  g_free((char *)e->u.mailbox);
  g_free(e->key);
  g_free(e);
}

userdir *userdir_new(void) {
  userdir *d = g_new0(userdir, 1);
  d->users = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
  d->by_key = g_hash_table_new(g_str_hash, g_str_equal);
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
  char *k = key_of(address);
  if (g_hash_table_contains(d->by_key, k)) {
    g_free(k);
    return false;
  }
  entry *e = g_new0(entry, 1);
  e->u.address = g_strdup(address);
  e->u.password = g_strdup(password);
  e->u.mailbox = g_strdup(mailbox);
  e->key = k;
  g_ptr_array_add(d->users, e);
  g_hash_table_insert(d->by_key, e->key, e);
  return true;
}

const userdir_user *userdir_find(const userdir *d, const char *address) {
  size_t len = strlen(address);
  char small[128];
  char *k = key_into(address, len, len < sizeof small ? small : g_malloc(len + 1));
  entry *e = g_hash_table_lookup(d->by_key, k);
  if (k != small)
    g_free(k);
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
