/* dns_cache.c — the resolver's RRset cache. Keys are (lower-cased name,
 * type, class); TTLs count down in simulated time (RFC 1035 §7.4); an
 * RRset's TTL is the minimum of its records' (RFC 2181 §5.2); data is
 * replaced only by data of equal or higher credibility (RFC 2181 §5.4.1);
 * negative answers are kept per RFC 2308 §5 (NXDOMAIN for the name, under
 * type 0, which no RRset may use; NODATA for the name and type) with the
 * TTL the response's SOA gave, capped like positive ones.
 *
 * The hash table is for lookup only. Expiry and capacity eviction take
 * the minimum of a binary heap ordered by (expiry time, insertion
 * sequence), a total order, so what is dropped never depends on hash
 * order or addresses.
 *
 * Memory: a dns_name is a 256-octet array and a dns_rr holds up to three,
 * so an entry keeps its key's name and its records packed at their real
 * length (a few dozen octets a record instead of ~800), all in one block,
 * and rebuilds the dns_rr on the way out. Every MTA's stub keeps an entry
 * or two per destination it sends to, so entries are many: the table is a
 * set of entries (the key is inside the entry: a lookup builds a key that
 * is an entry's head and name) and the heap an array of pointers (no tree
 * nodes). */
#include "dns_cache.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dns_cache_int.h"
#include "octet_hash.h"

enum { NX_TYPE = 0 }; /* the key type of an NXDOMAIN entry */
#define NS_PER_S INT64_C(1000000000)

/* An entry; its key is (the name at data, type, rclass). A key to look up
 * is an entry's head and name only (key_make). Allocated at its real
 * length: offsetof(centry, data) + klen + packed length, a 22-octet head:
 * an MTA stub's MX and A entries for a destination ("d03.test." -> 10 MX
 * mx.d03.test., "mx.d03.test." -> A) take 40 octets, a 48-octet block. */
typedef struct {
  int64_t expiry;        /* dead when now >= expiry */
  uint32_t seq;          /* store order (renumbered before it wraps: seq_next) */
  uint32_t heap_at;      /* index in the heap */
  uint16_t type, rclass; /* key */
  uint8_t bits;          /* kind (dns_cache_kind), rank << 2, CE_NONE or CE_MULTI */
  uint8_t klen;          /* key: octets of the lower-cased name's wire form */
  /* the name (klen octets), then with CE_MULTI the record count (2 octets,
   * host order), then the RRset or a negative entry's SOA (or none: CE_NONE;
   * one record: neither flag), packed (rr_pack) */
  uint8_t data[];
} centry;

enum { CE_KIND = 3, CE_RANK_SHIFT = 2, CE_RANK = 3 << CE_RANK_SHIFT, CE_NONE = 16, CE_MULTI = 32 };
G_STATIC_ASSERT(DNS_CACHE_KIND_COUNT <= 4 && DNS_CACHE_RANK_COUNT <= 4);

#define CENTRY_HEAD offsetof(centry, data)

/* Storage for a key (key_make). */
typedef struct {
  _Alignas(centry) uint8_t b[sizeof(centry) + DNS_NAME_MAX];
} ckey;

static const uint8_t *entry_packed(const centry *e) {
  return e->data + e->klen + (e->bits & CE_MULTI ? 2 : 0);
}
static unsigned entry_nrrs(const centry *e) {
  if (e->bits & CE_NONE)
    return 0;
  if (!(e->bits & CE_MULTI))
    return 1;
  uint16_t n;
  memcpy(&n, e->data + e->klen, 2);
  return n;
}
static dns_cache_kind entry_kind(const centry *e) { return (dns_cache_kind)(e->bits & CE_KIND); }
static dns_cache_rank entry_rank(const centry *e) {
  return (dns_cache_rank)((e->bits & CE_RANK) >> CE_RANK_SHIFT);
}

/* --- packed records: the used octets of each field, in a fixed order -- */

/* Where records are packed before the entry is made: on the stack for the
 * usual RRset, a block beyond (no allocation per store but the entry). */
typedef struct {
  uint8_t *p;
  size_t len, cap;
  uint8_t inl[320];
} pbuf;

static void put(pbuf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = MAX(2 * b->cap, b->len + n);
    if (b->p == b->inl) {
      uint8_t *q = g_malloc(cap);
      memcpy(q, b->inl, b->len);
      b->p = q;
    } else {
      b->p = g_realloc(b->p, cap);
    }
    b->cap = cap;
  }
  if (n)
    memcpy(b->p + b->len, p, n);
  b->len += n;
}
static void put_name(pbuf *b, const dns_name *n) {
  put(b, &n->len, 1);
  put(b, n->wire, n->len);
}

/* A packed record opens with a flags octet: what equals the entry's key
 * (type, class, the owner spelt exactly as the key: the usual case) or is
 * empty (no opaque RDATA) is left out. A name in the RDATA that ends with
 * the key's name (same octets, at a label boundary: "mx.d03.test." under
 * "d03.test.") is packed as a zero octet (no name has a zero length: the
 * root is 1 octet), the length of the rest and its octets. An MTA's stub
 * holds an MX and an A entry per destination: both fit 64-octet blocks so. */
enum { PK_TYPE = 1, PK_CLASS = 2, PK_OWNER = 4, PK_NORAW = 8 };

/* Appends N, maybe as a prefix of the key's name. */
static void put_rname(pbuf *b, const dns_name *n, const centry *key) {
  for (size_t i = 0; i < n->len; i += (size_t)n->wire[i] + 1) {
    if (n->len - i == key->klen && memcmp(n->wire + i, key->data, key->klen) == 0) {
      uint8_t head[2] = {0, (uint8_t)i};
      put(b, head, 2);
      put(b, n->wire, i);
      return;
    }
    if (n->wire[i] == 0)
      break;
  }
  put_name(b, n);
}

/* Appends RR (its TTL left out) to B. */
static void rr_pack(pbuf *b, const dns_rr *rr, const centry *key) {
  uint8_t fl = 0;
  if (rr->type == key->type)
    fl |= PK_TYPE;
  if (rr->rclass == key->rclass)
    fl |= PK_CLASS;
  if (rr->owner.len == key->klen && memcmp(rr->owner.wire, key->data, key->klen) == 0)
    fl |= PK_OWNER;
  if (rr->rawlen == 0)
    fl |= PK_NORAW;
  put(b, &fl, 1);
  if (!(fl & PK_TYPE))
    put(b, &rr->type, 2);
  if (!(fl & PK_CLASS))
    put(b, &rr->rclass, 2);
  if (!(fl & PK_OWNER))
    put_name(b, &rr->owner);
  switch (rr->type) {
  case DNS_T_A:
    put(b, rr->rd.a, 4);
    break;
  case DNS_T_AAAA:
    put(b, rr->rd.aaaa, 16);
    break;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    put_rname(b, &rr->rd.name, key);
    break;
  case DNS_T_MX:
    put(b, &rr->rd.mx.pref, 2);
    put_rname(b, &rr->rd.mx.exchange, key);
    break;
  case DNS_T_SOA:
    put_rname(b, &rr->rd.soa.mname, key);
    put_rname(b, &rr->rd.soa.rname, key);
    put(b, &rr->rd.soa.serial, 4 * 5);
    break;
  case DNS_T_SRV:
    put(b, &rr->rd.srv.priority, 2 * 3);
    put_rname(b, &rr->rd.srv.target, key);
    break;
  default:
    break;
  }
  if (!(fl & PK_NORAW)) {
    put(b, &rr->rawlen, 2);
    put(b, rr->raw, rr->rawlen);
  }
}

static const uint8_t *get(const uint8_t *p, void *out, size_t n) {
  memcpy(out, p, n);
  return p + n;
}
static const uint8_t *get_name(const uint8_t *p, dns_name *n) {
  n->len = *p++;
  return get(p, n->wire, n->len);
}
/* Reads a name put by put_rname. */
static const uint8_t *get_rname(const uint8_t *p, dns_name *n, const centry *e) {
  if (*p != 0)
    return get_name(p, n);
  uint8_t i = p[1];
  p = get(p + 2, n->wire, i);
  memcpy(n->wire + i, e->data, e->klen);
  n->len = (uint8_t)(i + e->klen);
  return p;
}

/* Rebuilds into RR (uninitialised) the record packed at P; returns the
 * octet after it. */
static const uint8_t *rr_unpack(const uint8_t *p, dns_rr *rr, const centry *e) {
  memset(rr, 0, sizeof *rr);
  uint8_t fl = *p++;
  rr->type = e->type;
  rr->rclass = e->rclass;
  if (!(fl & PK_TYPE))
    p = get(p, &rr->type, 2);
  if (!(fl & PK_CLASS))
    p = get(p, &rr->rclass, 2);
  if (fl & PK_OWNER) {
    rr->owner.len = e->klen;
    memcpy(rr->owner.wire, e->data, e->klen);
  } else {
    p = get_name(p, &rr->owner);
  }
  switch (rr->type) {
  case DNS_T_A:
    p = get(p, rr->rd.a, 4);
    break;
  case DNS_T_AAAA:
    p = get(p, rr->rd.aaaa, 16);
    break;
  case DNS_T_NS:
  case DNS_T_CNAME:
  case DNS_T_PTR:
    p = get_rname(p, &rr->rd.name, e);
    break;
  case DNS_T_MX:
    p = get(p, &rr->rd.mx.pref, 2);
    p = get_rname(p, &rr->rd.mx.exchange, e);
    break;
  case DNS_T_SOA:
    p = get_rname(p, &rr->rd.soa.mname, e);
    p = get_rname(p, &rr->rd.soa.rname, e);
    p = get(p, &rr->rd.soa.serial, 4 * 5);
    break;
  case DNS_T_SRV:
    p = get(p, &rr->rd.srv.priority, 2 * 3);
    p = get_rname(p, &rr->rd.srv.target, e);
    break;
  default:
    break;
  }
  if (!(fl & PK_NORAW)) {
    p = get(p, &rr->rawlen, 2);
    rr->raw = g_memdup2(p, rr->rawlen);
    p += rr->rawlen;
  }
  return p;
}

struct dns_cache {
  dns_cache_config cfg;
  GHashTable *map; /* set of centry* (hashed by key), lookup only */
  GPtrArray *heap; /* centry*, a binary heap by (expiry, seq) */
  size_t nx;       /* entries under key type 0 (NXDOMAIN): while none, none is looked up */
  uint32_t seq;    /* the next entry's */
  uint64_t evictions;
};

/* --- the expiry heap -------------------------------------------------- */

static bool before(const centry *x, const centry *y) {
  return x->expiry != y->expiry ? x->expiry < y->expiry : x->seq < y->seq;
}

static void heap_place(GPtrArray *h, centry *e, guint i) {
  h->pdata[i] = e;
  e->heap_at = i;
}

static void heap_up(GPtrArray *h, guint i) {
  centry *e = h->pdata[i];
  while (i > 0) {
    guint p = (i - 1) / 2;
    if (!before(e, h->pdata[p]))
      break;
    heap_place(h, h->pdata[p], i);
    i = p;
  }
  heap_place(h, e, i);
}

static void heap_down(GPtrArray *h, guint i) {
  centry *e = h->pdata[i];
  for (;;) {
    guint l = 2 * i + 1, m = i;
    const centry *best = e;
    if (l < h->len && before(h->pdata[l], best))
      m = l, best = h->pdata[l];
    if (l + 1 < h->len && before(h->pdata[l + 1], best))
      m = l + 1;
    if (m == i)
      break;
    heap_place(h, h->pdata[m], i);
    i = m;
  }
  heap_place(h, e, i);
}

static void heap_push(GPtrArray *h, centry *e) {
  g_ptr_array_add(h, e);
  heap_up(h, h->len - 1);
}

static void heap_remove(GPtrArray *h, centry *e) {
  guint i = e->heap_at;
  g_assert(i < h->len && h->pdata[i] == e);
  centry *last = g_ptr_array_steal_index(h, h->len - 1);
  if (last == e)
    return;
  heap_place(h, last, i);
  heap_up(h, i);
  heap_down(h, last->heap_at);
}

static centry *heap_min(const GPtrArray *h) { return h->len ? h->pdata[0] : NULL; }

const char *dns_cache_rank_name(dns_cache_rank r) {
  static const char *const n[DNS_CACHE_RANK_COUNT] = {"glue", "referral", "answer", "auth_answer"};
  return (unsigned)r < DNS_CACHE_RANK_COUNT ? n[r] : "unknown";
}

const char *dns_cache_kind_name(dns_cache_kind k) {
  static const char *const n[DNS_CACHE_KIND_COUNT] = {"miss", "rrset", "nxdomain", "nodata"};
  return (unsigned)k < DNS_CACHE_KIND_COUNT ? n[k] : "unknown";
}

void dns_cache_config_defaults(dns_cache_config *cfg) {
  cfg->max_entries = 10000;
  cfg->max_ttl = 7 * 86400;
  cfg->max_neg_ttl = 3 * 3600; /* RFC 2308 §5: one to three hours */
}

/* The key's hash: the (lower-cased) wire form by octet_hash (eight octets
 * a step, nothing read past the name), seeded by its length, type and
 * class. Equal keys hash the same. */
static guint ckey_hash(gconstpointer p) {
  const centry *k = p;
  return octet_hash((uint64_t)k->klen << 32 ^ (uint64_t)k->type << 16 ^ k->rclass, k->data,
                    k->klen);
}

static gboolean ckey_equal(gconstpointer a, gconstpointer b) {
  const centry *x = a, *y = b;
  return x->type == y->type && x->rclass == y->rclass && x->klen == y->klen &&
         memcmp(x->data, y->data, x->klen) == 0;
}

dns_cache *dns_cache_new(const dns_cache_config *cfg) {
  g_assert(cfg && cfg->max_entries > 0);
  dns_cache *c = g_new0(dns_cache, 1);
  c->cfg = *cfg;
  c->map = g_hash_table_new_full(ckey_hash, ckey_equal, g_free, NULL);
  c->heap = g_ptr_array_new();
  return c;
}

void dns_cache_free(dns_cache *c) {
  if (!c)
    return;
  g_ptr_array_unref(c->heap);
  g_hash_table_destroy(c->map);
  g_free(c);
}

/* The key (NAME lower-cased, TYPE, RCLASS) in BUF. */
static centry *key_make(ckey *buf, const dns_name *name, uint16_t type, uint16_t rclass) {
  centry *k = (centry *)(void *)buf->b;
  dns_name_lower_octets(name->wire, name->len, k->data);
  k->klen = name->len;
  k->type = type;
  k->rclass = rclass;
  return k;
}

static void entry_drop(dns_cache *c, centry *e) {
  if (e->type == NX_TYPE)
    c->nx--;
  heap_remove(c->heap, e);
  g_hash_table_remove(c->map, e); /* frees e */
}

size_t dns_cache_expire(dns_cache *c, int64_t now) {
  size_t k = 0;
  for (;;) {
    centry *e = heap_min(c->heap);
    if (!e || e->expiry > now)
      break;
    entry_drop(c, e);
    k++;
  }
  return k;
}

/* The live entry for K, dropping it if expired. */
static centry *entry_live(dns_cache *c, const centry *k, int64_t now) {
  centry *e = g_hash_table_lookup(c->map, k);
  if (e && e->expiry <= now) {
    entry_drop(c, e);
    e = NULL;
  }
  return e;
}

static int64_t expiry_of(int64_t now, uint32_t ttl) {
  if (now > INT64_MAX - (int64_t)ttl * NS_PER_S)
    return INT64_MAX;
  return now + (int64_t)ttl * NS_PER_S;
}

static int by_order(const void *x, const void *y) {
  const centry *a = *(const centry *const *)x, *b = *(const centry *const *)y;
  return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* The next store order. Before it wraps, the entries are renumbered 0, 1,
 * ... in (expiry, seq) order: the same order, so what expires or is
 * evicted first does not change (and the sorted heap is a heap). */
static uint32_t seq_next(dns_cache *c) {
  if (c->seq == UINT32_MAX) {
    GPtrArray *h = c->heap;
    qsort(h->pdata, h->len, sizeof(gpointer), by_order);
    for (guint i = 0; i < h->len; i++) {
      centry *e = h->pdata[i];
      e->seq = i;
      e->heap_at = i;
    }
    c->seq = h->len;
  }
  return c->seq++;
}

void dns_cache__set_seq(dns_cache *c, uint32_t seq) {
  g_assert(seq >= c->seq); /* never back: stored entries keep their order */
  c->seq = seq;
}

/* Replaces OLD, the live entry K holds (entry_live; NULL: none), by a new
 * entry holding the N records *RRS, packed (N may be 0). */
static void entry_store(dns_cache *c, const centry *k, centry *old, dns_cache_kind kind,
                        dns_cache_rank rank, uint32_t ttl, int64_t now, const dns_rr *const *rrs,
                        size_t n) {
  if (old)
    entry_drop(c, old);
  dns_cache_expire(c, now);
  while (g_hash_table_size(c->map) >= c->cfg.max_entries) {
    entry_drop(c, heap_min(c->heap));
    c->evictions++;
  }
  pbuf pb, *b = &pb;
  pb.p = pb.inl;
  pb.len = 0;
  pb.cap = sizeof pb.inl;
  for (size_t i = 0; i < n; i++)
    rr_pack(b, rrs[i], k);
  g_assert(n <= UINT16_MAX);
  size_t cnt = n > 1 ? 2 : 0, len = CENTRY_HEAD + k->klen + cnt + b->len;
  centry *e = g_malloc(MAX(len, sizeof(centry)));
  memset(e, 0, CENTRY_HEAD);
  memcpy(e->data, k->data, k->klen);
  if (cnt) {
    uint16_t n16 = (uint16_t)n;
    memcpy(e->data + k->klen, &n16, 2);
  }
  if (b->len)
    memcpy(e->data + k->klen + cnt, b->p, b->len);
  e->klen = k->klen;
  e->type = k->type;
  e->rclass = k->rclass;
  unsigned count_bits = n == 0 ? CE_NONE : n > 1 ? CE_MULTI : 0;
  e->bits = (uint8_t)((unsigned)kind | (unsigned)rank << CE_RANK_SHIFT | count_bits);
  e->expiry = expiry_of(now, ttl);
  e->seq = seq_next(c);
  if (b->p != b->inl)
    g_free(b->p);
  g_hash_table_add(c->map, e);
  heap_push(c->heap, e);
  if (e->type == NX_TYPE)
    c->nx++;
}

bool dns_cache_put(dns_cache *c, const dns_rr *rrs, size_t n, dns_cache_rank rank, int64_t now) {
  g_assert(n >= 1 && rrs[0].type != DNS_T_OPT);
  uint32_t ttl = rrs[0].ttl;
  for (size_t i = 1; i < n; i++) {
    g_assert(rrs[i].type == rrs[0].type && rrs[i].rclass == rrs[0].rclass &&
             dns_name_equal(&rrs[i].owner, &rrs[0].owner));
    if (rrs[i].ttl < ttl)
      ttl = rrs[i].ttl;
  }
  if (ttl > c->cfg.max_ttl)
    ttl = c->cfg.max_ttl;
  if (ttl == 0 || rrs[0].type == NX_TYPE)
    return false;
  ckey kb;
  centry *k = key_make(&kb, &rrs[0].owner, rrs[0].type, rrs[0].rclass);
  centry *old = entry_live(c, k, now);
  if (old && entry_rank(old) > rank)
    return false;
  centry *deny = NULL;
  if (c->nx) {
    k->type = NX_TYPE;
    deny = entry_live(c, k, now);
    k->type = rrs[0].type;
  }
  if (deny && entry_rank(deny) > rank)
    return false;
  if (deny)
    entry_drop(c, deny); /* the name exists after all */
  /* The records without duplicates (RFC 2181 §5: an RRset has none), by
   * pointer (no copy of the ~800-octet structs; on the stack for up to
   * 16 records): packing reads them. */
  const dns_rr *stack[16];
  const dns_rr **keep = n <= G_N_ELEMENTS(stack) ? stack : g_new(const dns_rr *, n);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < m && !dup; j++)
      dup = dns_rr_same_data(keep[j], &rrs[i]);
    if (!dup)
      keep[m++] = &rrs[i];
  }
  entry_store(c, k, old, DNS_CACHE_RRSET, rank, ttl, now, keep, m);
  if (keep != stack)
    g_free(keep);
  return true;
}

bool dns_cache_put_negative(dns_cache *c, const dns_name *name, uint16_t type, uint16_t rclass,
                            bool nxdomain, const dns_rr *soa, uint32_t ttl, dns_cache_rank rank,
                            int64_t now) {
  if (ttl > c->cfg.max_neg_ttl)
    ttl = c->cfg.max_neg_ttl;
  if (ttl == 0)
    return false;
  ckey kb;
  centry *k = key_make(&kb, name, nxdomain ? (uint16_t)NX_TYPE : type, rclass);
  centry *old = entry_live(c, k, now);
  if (old && entry_rank(old) > rank)
    return false;
  const dns_rr *one[1] = {soa};
  entry_store(c, k, old, nxdomain ? DNS_CACHE_NXDOMAIN : DNS_CACHE_NODATA, rank, ttl, now, one,
              soa ? 1 : 0);
  return true;
}

dns_cache_kind dns_cache_get(dns_cache *c, const dns_name *name, uint16_t type, uint16_t rclass,
                             int64_t now, GArray *out, dns_cache_rank *rank) {
  ckey kb;
  centry *k = key_make(&kb, name, type, rclass);
  centry *e = type == NX_TYPE ? NULL : entry_live(c, k, now);
  if (!e && c->nx) { /* a key of type 0 is held only while nx counts it */
    k->type = NX_TYPE;
    e = entry_live(c, k, now);
  }
  if (!e)
    return DNS_CACHE_MISS;
  if (rank)
    *rank = entry_rank(e);
  unsigned nrrs = entry_nrrs(e);
  if (nrrs && out) {
    int64_t left = (e->expiry - now) / NS_PER_S;
    uint32_t ttl = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    const uint8_t *p = entry_packed(e);
    guint at = out->len; /* rebuilt in place: no copy of each ~800-octet record */
    g_array_set_size(out, at + nrrs);
    for (unsigned i = 0; i < nrrs; i++) {
      dns_rr *rr = &g_array_index(out, dns_rr, at + i);
      p = rr_unpack(p, rr, e);
      rr->ttl = ttl;
    }
  }
  return entry_kind(e);
}

size_t dns_cache_count(const dns_cache *c) { return g_hash_table_size(c->map); }

size_t dns_cache__nx(const dns_cache *c) { return c->nx; }

uint64_t dns_cache_evictions(const dns_cache *c) { return c->evictions; }
