/* scn_msgs.c — the scenario's messages by pages, given back as they are
 * sent. A page is one block (its head and the structs of its messages)
 * plus one string chunk for their own strings; the messages of a load
 * world are in the order they are sent, so pages empty one after the
 * other while the run goes on. */
#include "scn_msgs.h"

#include <string.h>

#include "scn.h"

typedef struct {
  guint cap, len;        /* messages the page holds / has */
  guint live;            /* of them, not released */
  GStringChunk *strings; /* their own strings (NULL until the first) */
  scn_message msgs[];
} page;

struct scn_msgs {
  page **pages; /* by index / SCN_MSGS_PAGE; NULL once released */
  size_t npages, cap_pages;
  size_t n, live, expect;
  GStringChunk *addrs; /* interned addresses, shared */
};

scn_msgs *scn_msgs_new(size_t expect) {
  scn_msgs *m = g_new0(scn_msgs, 1);
  m->expect = expect;
  m->cap_pages = (expect + SCN_MSGS_PAGE - 1) / SCN_MSGS_PAGE;
  if (m->cap_pages)
    m->pages = g_new(page *, m->cap_pages);
  /* the addresses of a world's users: ~20 octets each, a few thousand */
  m->addrs = g_string_chunk_new(960);
  return m;
}

static void message_clear(scn_message *sm) {
  if (sm->to)
    g_ptr_array_unref(sm->to);
  if (sm->cc)
    g_ptr_array_unref(sm->cc);
  if (sm->bcc)
    g_ptr_array_unref(sm->bcc);
  if (sm->attachments)
    g_array_unref(sm->attachments);
}

static void page_free(page *p) {
  if (!p)
    return;
  for (guint i = 0; i < p->len; i++)
    message_clear(&p->msgs[i]);
  if (p->strings)
    g_string_chunk_free(p->strings);
  g_free(p);
}

void scn_msgs_free(scn_msgs *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->npages; i++)
    page_free(m->pages[i]);
  g_free(m->pages);
  if (m->addrs)
    g_string_chunk_free(m->addrs);
  g_free(m);
}

scn_message *scn_msgs_append(scn_msgs *m, GStringChunk **strings) {
  page *p = m->npages ? m->pages[m->npages - 1] : NULL;
  g_assert(!m->npages || p); /* nothing is appended once released */
  if (p && p->len == p->cap && p->cap < SCN_MSGS_PAGE) {
    /* more than expected: the last page grows to a full one (every page
     * but the last holds SCN_MSGS_PAGE: message I is on page I / PAGE) */
    p = g_realloc(p, sizeof *p + SCN_MSGS_PAGE * sizeof(scn_message));
    p->cap = SCN_MSGS_PAGE;
    m->pages[m->npages - 1] = p;
  }
  if (!p || p->len == p->cap) {
    size_t rest = m->expect > m->n ? m->expect - m->n : 0;
    guint cap = rest && rest < SCN_MSGS_PAGE ? (guint)rest : SCN_MSGS_PAGE;
    p = g_malloc(sizeof *p + cap * sizeof(scn_message));
    p->cap = cap;
    p->len = p->live = 0;
    /* one block for a full page's strings (~60 octets a message in load
     * worlds), less for a small one; a longer string gets its own */
    p->strings = g_string_chunk_new(cap * 64u);
    if (m->npages == m->cap_pages) {
      m->cap_pages = m->cap_pages ? 2 * m->cap_pages : 4;
      m->pages = g_renew(page *, m->pages, m->cap_pages);
    }
    m->pages[m->npages++] = p;
  }
  scn_message *sm = &p->msgs[p->len++];
  memset(sm, 0, sizeof *sm);
  p->live++;
  m->n++;
  m->live++;
  if (strings)
    *strings = p->strings;
  return sm;
}

GStringChunk *scn_msgs_addresses(scn_msgs *m) {
  g_assert(m->addrs);
  return m->addrs;
}

size_t scn_msgs_count(const scn_msgs *m) { return m->n; }

size_t scn_msgs_live(const scn_msgs *m) { return m->live; }

const scn_message *scn_msgs_at(const scn_msgs *m, size_t i) {
  g_assert(i < m->n);
  const page *p = m->pages[i / SCN_MSGS_PAGE];
  g_assert(p);
  const scn_message *sm = &p->msgs[i % SCN_MSGS_PAGE];
  g_assert(sm->id); /* not released */
  return sm;
}

void scn_msgs_release(scn_msgs *m, size_t i) {
  g_assert(i < m->n);
  size_t pi = i / SCN_MSGS_PAGE;
  page *p = m->pages[pi];
  g_assert(p);
  scn_message *sm = &p->msgs[i % SCN_MSGS_PAGE];
  g_assert(sm->id && p->live > 0);
  sm->id = NULL; /* the mark of a released message */
  m->live--;
  if (--p->live == 0) {
    page_free(p);
    m->pages[pi] = NULL;
  }
  if (m->live == 0) { /* every message sent: nothing names an address */
    g_string_chunk_free(m->addrs);
    m->addrs = NULL;
  }
}
