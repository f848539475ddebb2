/* scn_mail_int.h — the mail parts of the scenario loader (scn_mail.c),
 * called by scn.c. */
#ifndef MAILSIM_SCN_MAIL_INT_H
#define MAILSIM_SCN_MAIL_INT_H

#include "scn.h"

/* Reads a host's role-specific keys ("resolver", "zones", "mta",
 * "mailbox") from IT into H. */
void scn__mail_host(scn_json_ctx *x, scn_host *h, const cJSON *it, const char *path);
void scn__mail_host_clear(scn_host *h);
/* Reads "epoch", "zones", "users", "messages" from ROOT; with
 * MESSAGES_READ not "messages" (C's store holds them already: scn.c's fast
 * path, scn_msgs_text.h). */
void scn__mail_load(scn_json_ctx *x, scn_config *c, const cJSON *root, bool messages_read);
/* A mail address: local@domain with a dotted domain, no spaces or
 * brackets (a user's address, a recipient). */
bool scn__valid_address(const char *a);
/* Checks every reference between hosts, zones, users and messages. */
void scn__mail_check(scn_json_ctx *x, scn_config *c);
void scn__mail_init(scn_config *c);
/* scn_filters.c: the filter keys of an "mta" object MO (greylist, dnsbl,
 * spam, public_suffixes) into M; a zone's "listed" addresses (records
 * appended to Z); a user's "sieve" / "sieve_file"; their cross checks. */
void scn__filters_mta(scn_json_ctx *x, scn_mta *m, const cJSON *mo, const char *path);
void scn__filters_mta_clear(scn_mta *m);
void scn__filters_zone(scn_json_ctx *x, scn_zone *z, const cJSON *it, const char *path);
void scn__filters_user(scn_json_ctx *x, const scn_config *c, scn_user *u, const cJSON *it,
                       const char *path);
void scn__filters_check(scn_json_ctx *x, const scn_config *c);
void scn__mail_free(scn_config *c);

#endif
