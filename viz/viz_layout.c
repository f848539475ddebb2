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

#define MAX_COL2 12 /* readers' column, in half steps */

struct viz_layout {
  const viz_model *m;
  uint32_t n;
  viz_role *role;
  int *col2, *row2;
  viz_point *pos;
  uint32_t *order;
  int col_step;
  GArray *groups; /* viz_layout_box */
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
    if (l->col2[i] < 0 && l->role[i] != VIZ_ROLE_ROUTER)
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
    if (placed[i] || l->role[i] == VIZ_ROLE_ROUTER)
      continue;
    const char *dom = viz_model_node(m, i)->domain;
    /* members: i and, if it has a domain, every later host of the domain */
    int cmin = l->col2[i], cmax = l->col2[i];
    int count[MAX_COL2 + 1] = {0};
    for (uint32_t j = i; j < l->n; j++) {
      if (placed[j] || l->role[j] == VIZ_ROLE_ROUTER)
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
      if (placed[j] || l->role[j] == VIZ_ROLE_ROUTER)
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
      if (v == VIZ_NONE || l->col2[v] < 0)
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
        if (j != i && l->col2[j] == l->col2[i] && l->row2[j] >= 0 && abs(l->row2[j] - r) < 2) {
          r = l->row2[j] + 2;
          moved = true;
        }
    }
    l->row2[i] = r;
  }
}

static void to_pixels(viz_layout *l, int w, int h, int margin, int my) {
  const viz_model *m = l->m;
  int cmin = MAX_COL2, cmax = 0, rmax = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    cmin = MIN(cmin, l->col2[i]);
    cmax = MAX(cmax, l->col2[i]);
    rmax = MAX(rmax, l->row2[i]);
  }
  int iw = MAX(w - 2 * margin, 1), ih = MAX(h - 2 * my, 1);
  int cspan = MAX(cmax - cmin, 1);
  int rstep = rmax > 0 ? MIN(ih / rmax, 70) : 0; /* pixels per half row */
  int ytop = my + (ih - rstep * rmax) / 2;
  l->col_step = 2 * iw / cspan;
  for (uint32_t i = 0; i < l->n; i++) {
    l->pos[i].x = cmax == cmin ? margin + iw / 2 : margin + (l->col2[i] - cmin) * iw / cspan;
    l->pos[i].y = ytop + l->row2[i] * rstep;
  }
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
  int padx = MIN(MAX(l->col_step / 2 - 6, 30), 80);
  for (uint32_t i = 0; i < l->n; i++) {
    const char *dom = viz_model_node(m, i)->domain;
    if (!*dom || l->role[i] == VIZ_ROLE_ROUTER)
      continue;
    bool seen = false;
    for (guint g = 0; g < l->groups->len; g++)
      if (strcmp(g_array_index(l->groups, viz_layout_box, g).domain, dom) == 0)
        seen = true;
    if (seen)
      continue;
    viz_layout_box g = {dom, INT32_MAX, INT32_MAX, INT32_MIN, INT32_MIN};
    for (uint32_t j = i; j < l->n; j++) {
      if (l->role[j] == VIZ_ROLE_ROUTER || strcmp(viz_model_node(m, j)->domain, dom) != 0)
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
  infer_roles(l);
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
