/* viz_layout.c — the deterministic journey layout (see viz_layout.h).
 *
 * Grid units: columns and rows are counted in half steps, so a router can
 * sit between two columns or two rows. Domains are packed like a skyline:
 * each domain takes the lowest band of rows free in every column its hosts
 * span, so boxes of different domains never overlap. Everything iterates
 * arrays in index order; nothing depends on hash-table order.
 */
#include "viz_layout.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COL2 12     /* readers' column, in half steps */
#define DNS_BAND_MIN 3  /* this many DNS hosts or more get their own band */
#define MIN_PITCH 26    /* pixels per half row below which columns wrap */
#define SUB_W 124       /* pixels per wrapped sub-column */
#define BAND_ROW_H 66   /* pixels per row of the DNS band */
#define BAND_CELL_W 140 /* pixels per DNS host in the band */
#define MAX_GROUPS 16   /* more domains than this: no domain boxes (they would cover all) */

struct viz_layout {
  const viz_model *m;
  uint32_t n;
  viz_role *role;
  int *col2, *row2;
  viz_point *pos;
  uint32_t *order;
  int col_step;
  GArray *groups; /* viz_layout_box */
  bool *in_band;  /* a DNS host placed in the DNS band */
  uint32_t n_band;
};

static int role_col2(viz_role r) {
  switch (r) {
  case VIZ_ROLE_CLIENT:
    return 0;
  case VIZ_ROLE_SUBMISSION:
    return 2;
  case VIZ_ROLE_RELAY:
    return 4;
  case VIZ_ROLE_DNS:
    return 6;
  case VIZ_ROLE_MX:
    return 8;
  case VIZ_ROLE_MAILBOX:
    return 10;
  case VIZ_ROLE_READER:
    return 12;
  case VIZ_ROLE_UNKNOWN:
  case VIZ_ROLE_ROUTER:
    return -1;
  case VIZ_ROLE_COUNT:
  default:
    g_assert_not_reached();
  }
  return -1;
}

static void set_if_unknown(viz_role *role, uint32_t n, viz_role r) {
  if (n != VIZ_NONE && role[n] == VIZ_ROLE_UNKNOWN)
    role[n] = r;
}

/* Roles: the header's; else what the node did in the trace. A client that
 * only fetched is a reader. */
static void infer_roles(viz_layout *l) {
  const viz_model *m = l->m;
  for (uint32_t i = 0; i < l->n; i++) {
    const viz_node *nd = viz_model_node(m, i);
    l->role[i] = nd->router ? VIZ_ROLE_ROUTER : nd->role;
    if (l->role[i] == VIZ_ROLE_CLIENT && nd->fetches && !nd->composes)
      l->role[i] = VIZ_ROLE_READER;
  }
  for (uint32_t i = 0; i < l->n; i++) {
    const viz_node *nd = viz_model_node(m, i);
    if (nd->composes)
      set_if_unknown(l->role, i, VIZ_ROLE_CLIENT);
    else if (nd->fetches)
      set_if_unknown(l->role, i, VIZ_ROLE_READER);
  }
  for (uint32_t i = 0; i < viz_model_mark_count(m); i++) {
    const viz_mark *mk = viz_model_mark(m, i);
    if (mk->kind == VIZ_MARK_DELIVER)
      set_if_unknown(l->role, mk->node, VIZ_ROLE_MAILBOX);
  }
  for (uint32_t i = 0; i < viz_model_hop_count(m); i++) {
    const viz_hop *h = viz_model_hop(m, i);
    if (h->kind == VIZ_HOP_SUBMIT)
      set_if_unknown(l->role, h->to, VIZ_ROLE_SUBMISSION);
    else if (h->kind == VIZ_HOP_FETCH)
      set_if_unknown(l->role, h->from, VIZ_ROLE_MAILBOX);
  }
  for (uint32_t i = 0; i < viz_model_dns_count(m); i++)
    set_if_unknown(l->role, viz_model_dns(m, i)->server, VIZ_ROLE_DNS);
  for (uint32_t i = 0; i < viz_model_hop_count(m); i++) {
    const viz_hop *h = viz_model_hop(m, i);
    if (h->kind != VIZ_HOP_RELAY || h->from == VIZ_NONE)
      continue;
    bool to_mailbox = h->to != VIZ_NONE && l->role[h->to] == VIZ_ROLE_MAILBOX;
    set_if_unknown(l->role, h->from, to_mailbox ? VIZ_ROLE_MX : VIZ_ROLE_RELAY);
  }
  for (uint32_t i = 0; i < viz_model_hop_count(m); i++) {
    const viz_hop *h = viz_model_hop(m, i);
    if (h->kind == VIZ_HOP_RELAY)
      set_if_unknown(l->role, h->to, VIZ_ROLE_MX);
  }
}

/* Neighbours of node U over the links, in link order. */
static uint32_t neighbour(const viz_model *m, uint32_t li, uint32_t u) {
  const viz_link *k = viz_model_link(m, li);
  return k->a == u ? k->b : k->b == u ? k->a : VIZ_NONE;
}

/* Unknown roles: hosts counted from the clients (breadth first; routers
 * cost nothing). */
static void columns_by_distance(viz_layout *l) {
  const viz_model *m = l->m;
  int *dist = g_new(int, l->n);
  uint32_t *queue = g_new(uint32_t, l->n);
  uint32_t head = 0, tail = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    dist[i] = -1;
    if (l->role[i] == VIZ_ROLE_CLIENT) {
      dist[i] = 0;
      queue[tail++] = i;
    }
  }
  /* 0-1 BFS approximated in two passes: routers keep the distance */
  while (head < tail) {
    uint32_t u = queue[head++];
    for (uint32_t li = 0; li < viz_model_link_count(m); li++) {
      uint32_t v = neighbour(m, li, u);
      if (v == VIZ_NONE || dist[v] >= 0)
        continue;
      dist[v] = dist[u] + (l->role[v] == VIZ_ROLE_ROUTER ? 0 : 1);
      queue[tail++] = v;
    }
  }
  for (uint32_t i = 0; i < l->n; i++)
    if (l->col2[i] < 0 && l->role[i] != VIZ_ROLE_ROUTER && !l->in_band[i])
      l->col2[i] = dist[i] < 0 ? MAX_COL2 / 2 : MIN(2 * dist[i], MAX_COL2);
  g_free(dist);
  g_free(queue);
}

/* Domain bands, skyline-packed. */
static void rows_by_domain(viz_layout *l) {
  const viz_model *m = l->m;
  int next_free[MAX_COL2 + 1] = {0};
  bool *placed = g_new0(bool, l->n);
  for (uint32_t i = 0; i < l->n; i++) {
    if (placed[i] || l->role[i] == VIZ_ROLE_ROUTER || l->in_band[i])
      continue;
    const char *dom = viz_model_node(m, i)->domain;
    /* members: i and, if it has a domain, every later host of the domain */
    int cmin = l->col2[i], cmax = l->col2[i];
    int count[MAX_COL2 + 1] = {0};
    for (uint32_t j = i; j < l->n; j++) {
      if (placed[j] || l->role[j] == VIZ_ROLE_ROUTER || l->in_band[j])
        continue;
      if (j != i && (!*dom || strcmp(viz_model_node(m, j)->domain, dom) != 0))
        continue;
      count[l->col2[j]]++;
      cmin = MIN(cmin, l->col2[j]);
      cmax = MAX(cmax, l->col2[j]);
    }
    int height = 0, start = 0;
    for (int c = cmin; c <= cmax; c++) {
      height = MAX(height, count[c]);
      start = MAX(start, next_free[c]);
    }
    int k[MAX_COL2 + 1] = {0};
    for (uint32_t j = i; j < l->n; j++) {
      if (placed[j] || l->role[j] == VIZ_ROLE_ROUTER || l->in_band[j])
        continue;
      if (j != i && (!*dom || strcmp(viz_model_node(m, j)->domain, dom) != 0))
        continue;
      int c = l->col2[j];
      /* centre short columns in the band */
      l->row2[j] = start + (height - count[c]) + 2 * k[c]++;
      placed[j] = true;
    }
    for (int c = cmin; c <= cmax; c++)
      next_free[c] = start + 2 * height + 1;
  }
  g_free(placed);
}

/* Routers: between their host neighbours, nudged off any node they hit. */
static void place_routers(viz_layout *l) {
  const viz_model *m = l->m;
  for (uint32_t i = 0; i < l->n; i++) {
    if (l->role[i] != VIZ_ROLE_ROUTER)
      continue;
    int cmin = MAX_COL2, cmax = 0, rsum = 0, rn = 0;
    for (uint32_t li = 0; li < viz_model_link_count(m); li++) {
      uint32_t v = neighbour(m, li, i);
      if (v == VIZ_NONE || l->col2[v] < 0 || l->in_band[v] || l->role[v] == VIZ_ROLE_ROUTER)
        continue;
      cmin = MIN(cmin, l->col2[v]);
      cmax = MAX(cmax, l->col2[v]);
      rsum += l->row2[v];
      rn++;
    }
    l->col2[i] = rn ? (cmin + cmax) / 2 : MAX_COL2 / 2;
    int r = rn ? rsum / rn : 0;
    for (bool moved = true; moved;) {
      moved = false;
      for (uint32_t j = 0; j < l->n; j++)
        if (j != i && !l->in_band[j] && l->col2[j] == l->col2[i] && l->row2[j] >= 0 &&
            abs(l->row2[j] - r) < 2) {
          r = l->row2[j] + 2;
          moved = true;
        }
    }
    l->row2[i] = r;
  }
}

/* The DNS band's order, left to right: resolvers (they ask first), then
 * the servers in the order they were first asked (root, TLD, domain), then
 * by index. */
typedef struct {
  int resolver; /* 0 resolvers first */
  int64_t first;
  uint32_t node;
} band_key;

static gint band_cmp(gconstpointer a, gconstpointer b) {
  const band_key *x = a, *y = b;
  if (x->resolver != y->resolver)
    return x->resolver - y->resolver;
  if (x->first != y->first)
    return x->first < y->first ? -1 : 1;
  return x->node < y->node ? -1 : x->node > y->node;
}

/* Places the DNS band in rows of PER_ROW hosts, PITCH pixels apart, under
 * the mail path: Y0 is the first row's centre. */
static void place_band(viz_layout *l, int margin, int iw, int y0, uint32_t per_row, int pitch) {
  const viz_model *m = l->m;
  band_key *keys = g_new(band_key, l->n_band ? l->n_band : 1);
  uint32_t k = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    if (!l->in_band[i])
      continue;
    const char *rt = viz_model_node(m, i)->role_text;
    keys[k++] = (band_key){strstr(rt, "resolver") ? 0 : 1, INT64_MAX, i};
  }
  for (uint32_t d = 0; d < viz_model_dns_count(m); d++) {
    const viz_dns *q = viz_model_dns(m, d);
    for (uint32_t j = 0; j < k; j++) {
      if (keys[j].node == q->server && q->t_sent < keys[j].first)
        keys[j].first = q->t_sent;
      if (keys[j].node == q->client && q->server != VIZ_NONE && l->in_band[q->server])
        keys[j].resolver = 0; /* it asks other name servers */
    }
  }
  qsort(keys, k, sizeof *keys, band_cmp);
  for (uint32_t j = 0; j < k; j++) {
    uint32_t row = j / per_row, first = row * per_row;
    uint32_t in_row = MIN(per_row, k - first);
    uint32_t node = keys[j].node;
    l->pos[node].x = margin + (int)((2 * (j - first) + 1) * (uint32_t)iw / (2 * in_row));
    l->pos[node].y = y0 + (int)row * pitch;
    l->row2[node] = -1;
  }
  g_free(keys);
}

static void to_pixels(viz_layout *l, int w, int h, int margin, int my) {
  const viz_model *m = l->m;
  int cmin = MAX_COL2, cmax = 0, rmax = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    if (l->in_band[i])
      continue;
    cmin = MIN(cmin, l->col2[i]);
    cmax = MAX(cmax, l->col2[i]);
    rmax = MAX(rmax, l->row2[i]);
  }
  int iw = MAX(w - 2 * margin, 1), ih = MAX(h - 2 * my, 1);
  /* the DNS band: rows of BAND_CELL_W-wide cells, at most half the height
   * (then more hosts to a row) */
  int band_h = 0, band_rows = 0, band_pitch = BAND_ROW_H;
  uint32_t band_per_row = 1;
  if (l->n_band) {
    int per_row = MAX(iw / BAND_CELL_W, 1);
    band_rows = ((int)l->n_band + per_row - 1) / per_row;
    int fit = MAX((ih / 2) / BAND_ROW_H, 1);
    if (band_rows > fit) {
      band_rows = fit;
      per_row = ((int)l->n_band + fit - 1) / fit;
    }
    band_per_row = (uint32_t)per_row;
    band_h = MIN(band_rows * BAND_ROW_H + BAND_ROW_H / 2, MAX(ih / 2, BAND_ROW_H));
    band_pitch = band_rows > 1 ? (band_h - BAND_ROW_H / 2) / band_rows : BAND_ROW_H;
    ih = MAX(ih - band_h, 1);
  }
  int cspan = MAX(cmax - cmin, 1);
  int rstep = rmax > 0 ? MIN(ih / rmax, 70) : 0; /* pixels per half row */
  l->col_step = 2 * iw / cspan;
  /* Too many rows for the height: wrap each column into sub-columns side
   * by side (a domain keeps one sub-column and row across its columns),
   * as many as the narrowest gap between used columns allows. */
  int wrap = 1, rows_per = rmax + 1;
  int used[MAX_COL2 + 1], nused = 0, ux[MAX_COL2 + 1];
  if (rmax > 0 && rstep < MIN_PITCH) {
    /* the used columns spread over the width (empty ones take no room) */
    for (int c = cmin; c <= cmax; c++) {
      bool u = false;
      for (uint32_t i = 0; i < l->n && !u; i++)
        u = !l->in_band[i] && l->role[i] != VIZ_ROLE_ROUTER && l->col2[i] == c;
      if (u)
        used[nused++] = c;
    }
    int gap = nused > 1 ? iw / nused : iw;
    int fit = MAX(gap / SUB_W, 1), need = ((rmax + 1) * MIN_PITCH + ih - 1) / ih;
    wrap = MAX(MIN(fit, need), 1);
    /* the outer sub-columns stay inside the area */
    int inset = (wrap - 1) * SUB_W / 2, uw = MAX(iw - 2 * inset, 1);
    for (int k = 0; k < nused; k++)
      ux[k] = nused > 1 ? margin + inset + k * uw / (nused - 1) : margin + iw / 2;
    rows_per = (rmax + 1 + wrap - 1) / wrap;
    rows_per += rows_per % 2; /* whole rows: a band starts on an even half row */
    rstep = rows_per > 1 ? MIN(ih / (rows_per - 1), 70) : 0;
    l->col_step = 2 * gap / MAX(nused > 1 ? used[1] - used[0] : 2, 1);
  }
  int rlast = nused ? rows_per - 1 : rmax;
  int ytop = my + (ih - rstep * rlast) / 2;
  int subw = wrap > 1 ? SUB_W : 0;
  for (uint32_t i = 0; i < l->n; i++) {
    if (l->in_band[i])
      continue;
    int c = l->col2[i], x;
    if (nused) { /* between the used columns around it, proportionally */
      int k = 0;
      while (k + 1 < nused && used[k + 1] <= c)
        k++;
      x = c <= used[0] || k + 1 >= nused
              ? ux[k]
              : ux[k] + (c - used[k]) * (ux[k + 1] - ux[k]) / (used[k + 1] - used[k]);
    } else {
      x = cmax == cmin ? margin + iw / 2 : margin + (c - cmin) * iw / cspan;
    }
    int r = l->row2[i];
    if (nused && l->role[i] != VIZ_ROLE_ROUTER) {
      int sub = r / rows_per;
      r %= rows_per;
      x += sub * subw - (wrap - 1) * subw / 2;
    } else if (nused) {
      r = rows_per / 2;
    }
    l->pos[i].x = x;
    l->pos[i].y = ytop + r * rstep;
  }
  if (l->n_band)
    place_band(l, margin, iw, my + ih + BAND_ROW_H * 5 / 6, band_per_row, band_pitch);
  /* header positions win (scaled into the area, aspect kept) */
  int64_t x0 = INT64_MAX, y0 = INT64_MAX, x1 = INT64_MIN, y1 = INT64_MIN;
  for (uint32_t i = 0; i < l->n; i++) {
    const viz_node *nd = viz_model_node(m, i);
    if (!nd->has_pos)
      continue;
    x0 = MIN(x0, nd->pos_x), x1 = MAX(x1, nd->pos_x);
    y0 = MIN(y0, nd->pos_y), y1 = MAX(y1, nd->pos_y);
  }
  if (x0 == INT64_MAX)
    return;
  int64_t sx = MAX(x1 - x0, 1), sy = MAX(y1 - y0, 1);
  /* one scale for both axes: the smaller of iw/sx and ih/sy, as a fraction */
  bool by_x = (int64_t)iw * sy <= (int64_t)ih * sx;
  int64_t num = by_x ? iw : ih, den = by_x ? sx : sy;
  for (uint32_t i = 0; i < l->n; i++) {
    const viz_node *nd = viz_model_node(m, i);
    if (!nd->has_pos)
      continue;
    l->pos[i].x = margin + (int)((nd->pos_x - x0) * num / den);
    l->pos[i].y = my + (int)((nd->pos_y - y0) * num / den);
  }
}

static gint order_cmp(gconstpointer a, gconstpointer b, gpointer user) {
  const viz_layout *l = user;
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  if (l->pos[x].x != l->pos[y].x)
    return l->pos[x].x < l->pos[y].x ? -1 : 1;
  if (l->pos[x].y != l->pos[y].y)
    return l->pos[x].y < l->pos[y].y ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void make_groups(viz_layout *l) {
  const viz_model *m = l->m;
  size_t domains = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    const char *dom = viz_model_node(m, i)->domain;
    bool first = *dom && l->role[i] != VIZ_ROLE_ROUTER && !l->in_band[i];
    for (uint32_t j = 0; j < i && first; j++)
      if (l->role[j] != VIZ_ROLE_ROUTER && !l->in_band[j] &&
          strcmp(viz_model_node(m, j)->domain, dom) == 0)
        first = false;
    domains += first;
  }
  if (domains > MAX_GROUPS)
    return;
  int padx = MIN(MAX(l->col_step / 2 - 6, 30), 80);
  for (uint32_t i = 0; i < l->n; i++) {
    const char *dom = viz_model_node(m, i)->domain;
    if (!*dom || l->role[i] == VIZ_ROLE_ROUTER || l->in_band[i])
      continue;
    bool seen = false;
    for (guint g = 0; g < l->groups->len; g++)
      if (strcmp(g_array_index(l->groups, viz_layout_box, g).domain, dom) == 0)
        seen = true;
    if (seen)
      continue;
    viz_layout_box g = {dom, INT32_MAX, INT32_MAX, INT32_MIN, INT32_MIN};
    for (uint32_t j = i; j < l->n; j++) {
      if (l->role[j] == VIZ_ROLE_ROUTER || l->in_band[j] ||
          strcmp(viz_model_node(m, j)->domain, dom) != 0)
        continue;
      g.x0 = MIN(g.x0, l->pos[j].x - padx);
      g.x1 = MAX(g.x1, l->pos[j].x + padx);
      g.y0 = MIN(g.y0, l->pos[j].y - 40); /* room for the domain name and a badge */
      g.y1 = MAX(g.y1, l->pos[j].y + 38); /* and for its name below */
    }
    g_array_append_val(l->groups, g);
  }
}

viz_layout *viz_layout_new(const viz_model *m, int w, int h, int margin, int my) {
  viz_layout *l = g_new0(viz_layout, 1);
  l->m = m;
  l->n = (uint32_t)viz_model_node_count(m);
  l->role = g_new(viz_role, l->n ? l->n : 1);
  l->col2 = g_new(int, l->n ? l->n : 1);
  l->row2 = g_new(int, l->n ? l->n : 1);
  l->pos = g_new0(viz_point, l->n ? l->n : 1);
  l->order = g_new(uint32_t, l->n ? l->n : 1);
  l->groups = g_array_new(FALSE, FALSE, sizeof(viz_layout_box));
  l->in_band = g_new0(bool, l->n ? l->n : 1);
  infer_roles(l);
  /* many DNS hosts (root, TLD, domain servers, resolvers): their own band
   * under the mail path, so they don't crowd the journey's columns */
  uint32_t ndns = 0;
  for (uint32_t i = 0; i < l->n; i++)
    ndns += l->role[i] == VIZ_ROLE_DNS;
  if (ndns >= DNS_BAND_MIN) {
    for (uint32_t i = 0; i < l->n; i++) {
      /* a host the scenario placed stays where it is, in its domain */
      l->in_band[i] = l->role[i] == VIZ_ROLE_DNS && !viz_model_node(m, i)->has_pos;
      l->n_band += l->in_band[i];
    }
  }
  for (uint32_t i = 0; i < l->n; i++) {
    l->col2[i] = role_col2(l->role[i]);
    l->row2[i] = -1;
  }
  columns_by_distance(l);
  rows_by_domain(l);
  place_routers(l);
  to_pixels(l, w, h, margin, my);
  for (uint32_t i = 0; i < l->n; i++)
    l->order[i] = i;
  g_qsort_with_data(l->order, (gint)l->n, sizeof(uint32_t), order_cmp, l);
  make_groups(l);
  return l;
}

void viz_layout_free(viz_layout *l) {
  if (!l)
    return;
  g_free(l->role);
  g_free(l->in_band);
  g_free(l->col2);
  g_free(l->row2);
  g_free(l->pos);
  g_free(l->order);
  g_array_free(l->groups, TRUE);
  g_free(l);
}

viz_point viz_layout_pos(const viz_layout *l, uint32_t node) {
  g_assert(node < l->n);
  return l->pos[node];
}
viz_role viz_layout_role(const viz_layout *l, uint32_t node) {
  g_assert(node < l->n);
  return l->role[node];
}
int viz_layout_column(const viz_layout *l, uint32_t node) {
  g_assert(node < l->n);
  return l->col2[node];
}
uint32_t viz_layout_order(const viz_layout *l, uint32_t k) {
  g_assert(k < l->n);
  return l->order[k];
}
int viz_layout_column_step(const viz_layout *l) { return l->col_step; }
size_t viz_layout_group_count(const viz_layout *l) { return l->groups->len; }
const viz_layout_box *viz_layout_group(const viz_layout *l, size_t i) {
  g_assert(i < l->groups->len);
  return &g_array_index(l->groups, viz_layout_box, i);
}
