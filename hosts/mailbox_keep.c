/* mailbox_keep.c — msg.store and msg.kept records (see mailbox_keep.h).
 *
 * The bytes of every msg.store are remembered by their GBytes (a reference
 * is held, so an address is never reused while it names a record): the
 * store shares one GBytes between the copies of a delivery and its IMAP
 * COPYs, so at the end each kept message finds the record that carried its
 * bytes with one lookup. The table is for lookup only; output order comes
 * from the store's sorted lists.
 */
#include "mailbox_keep.h"

#include "msgkey.h"

struct mailbox_keep {
  host *h;
  int64_t epoch_unix;
  GHashTable *ids; /* GBytes* (ref held) -> record id (lookup only) */
};

mailbox_keep *mailbox_keep_new(host *h, int64_t epoch_unix) {
  mailbox_keep *k = g_new0(mailbox_keep, 1);
  k->h = h;
  k->epoch_unix = epoch_unix;
  k->ids =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, (GDestroyNotify)g_bytes_unref, g_free);
  return k;
}

void mailbox_keep_free(mailbox_keep *k) {
  if (!k)
    return;
  g_hash_table_destroy(k->ids);
  g_free(k);
}

static int64_t unix_of(const mailbox_keep *k, sim_time t) { return k->epoch_unix + t / SIM_S; }

void mailbox_keep_stored(mailbox_keep *k, const char *msg, const char *queue_id,
                         const char *env_from, GBytes *data) {
  trace_writer *tw = host_trace(k->h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  gsize n;
  const void *p = g_bytes_get_data(data, &n);
  uint64_t id = trace_event_begin(tw, host_now(k->h), "msg.store");
  trace_key_str(tw, "node", host_name(k->h));
  trace_key_str(tw, "msg", msg);
  trace_key_str(tw, "queue_id", queue_id);
  trace_key_str(tw, "env_from", env_from ? env_from : "");
  trace_key_uint(tw, "size", n);
  trace_key_int(tw, "date_unix", unix_of(k, host_now(k->h)));
  trace_key_bytes(tw, "data", p, n);
  trace_end(tw);
  uint64_t *v = g_new(uint64_t, 1);
  *v = id;
  g_hash_table_replace(k->ids, g_bytes_ref(data), v);
}

static void kept_one(mailbox_keep *k, trace_writer *tw, const char *user, const char *folder,
                     const mailstore_msg *m) {
  gsize n;
  const uint8_t *p = g_bytes_get_data(m->data, &n);
  char *key = msgkey_of(p, n);
  const uint64_t *id = g_hash_table_lookup(k->ids, m->data);
  trace_event_begin(tw, host_now(k->h), "msg.kept");
  trace_key_str(tw, "node", host_name(k->h));
  trace_key_str(tw, "mailbox", user);
  trace_key_str(tw, "folder", folder);
  trace_key_uint(tw, "uid", m->uid);
  trace_key_str(tw, "msg", key);
  trace_arr_begin(tw, "flags");
  for (uint32_t bit = 1; bit & MAILSTORE_F_ALL; bit <<= 1)
    if (m->flags & bit)
      trace_key_str(tw, NULL, mailstore_flag_name(bit));
  trace_arr_end(tw);
  trace_key_int(tw, "date_unix", unix_of(k, m->internal_date));
  trace_key_uint(tw, "store", id ? *id : 0);
  if (!id)
    trace_key_bytes(tw, "data", p, n);
  trace_end(tw);
  g_free(key);
}

void mailbox_keep_write_kept(mailbox_keep *k, const mailstore *store) {
  trace_writer *tw = host_trace(k->h, SIM_DETAIL_MESSAGES);
  if (!tw)
    return;
  GPtrArray *users = mailstore_users(store);
  GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < users->len; i++) {
    const char *user = users->pdata[i];
    GPtrArray *folders = mailstore_folders(store, user);
    for (guint j = 0; folders && j < folders->len; j++) {
      const char *folder = folders->pdata[j];
      if (mailstore_uids(store, user, folder, uids) != MAILSTORE_OK)
        continue;
      for (guint u = 0; u < uids->len; u++) {
        mailstore_msg m;
        if (mailstore_msg_get(store, user, folder, g_array_index(uids, uint32_t, u), &m) ==
            MAILSTORE_OK)
          kept_one(k, tw, user, folder, &m);
      }
    }
    if (folders)
      g_ptr_array_unref(folders);
  }
  g_array_unref(uids);
  g_ptr_array_unref(users);
}
