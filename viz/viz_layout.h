/* viz_layout.h — where each host goes: a deterministic automatic layout,
 * left to right in the order of a mail's journey.
 *
 * Columns follow the roles: senders' clients, submission, relays, (DNS),
 * MX, mailbox hosts, readers' clients. A role missing from the header is
 * inferred from what the node did in the trace (composed, submitted to,
 * relayed, delivered, fetched, answered DNS); a node with no role at all
 * goes by its graph distance from the clients; routers go between their
 * neighbours. Within columns, hosts are grouped by domain (the host name
 * after its first dot): each domain gets one band of rows, packed so that
 * no two domains' boxes overlap. Positions from the header ("pos") win.
 * Three or more DNS hosts without a header position (root, TLD, domain
 * servers, resolvers) leave the columns for a band of their own under the
 * mail path, left to right: resolvers, then servers in the order they were
 * first asked (root, TLD, domain). When the rows don't fit the height, the
 * used columns spread over the width and each wraps into sub-columns (a
 * domain keeps one sub-column and row); with more than 16 domains there
 * are no domain boxes.
 * Integer arithmetic only: the same model and size give the same layout.
 */
#ifndef MAILSIM_VIZ_LAYOUT_H
#define MAILSIM_VIZ_LAYOUT_H

#include "viz_model.h"

typedef struct viz_layout viz_layout;

typedef struct {
  int x, y;
} viz_point;

typedef struct {
  const char *domain; /* borrowed from the model */
  int x0, y0, x1, y1; /* box around the domain's hosts (pixels, inclusive) */
} viz_layout_box;

/* Lays out M's nodes in a W x H pixel area (node centres keep MX pixels
 * from the left and right edges, MY from the top and bottom). The layout
 * borrows M. */
viz_layout *viz_layout_new(const viz_model *m, int w, int h, int mx, int my);
void viz_layout_free(viz_layout *l);

viz_point viz_layout_pos(const viz_layout *l, uint32_t node);
/* The role used for the node: the header's, else the inferred one. */
viz_role viz_layout_role(const viz_layout *l, uint32_t node);
/* Journey column in half steps (routers may sit between two columns). */
int viz_layout_column(const viz_layout *l, uint32_t node);
/* Nodes ordered left to right (then top to bottom, then index): the
 * sequence chart's lifeline order. K < node count. */
uint32_t viz_layout_order(const viz_layout *l, uint32_t k);
/* Horizontal distance between adjacent columns, in pixels. */
int viz_layout_column_step(const viz_layout *l);
size_t viz_layout_group_count(const viz_layout *l);
const viz_layout_box *viz_layout_group(const viz_layout *l, size_t i);

#endif
