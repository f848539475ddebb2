/* scn_mail_int.h — the mail parts of the scenario loader (scn_mail.c),
 * called by scn.c. */
#ifndef MAILSIM_SCN_MAIL_INT_H
#define MAILSIM_SCN_MAIL_INT_H

#include "scn.h"

/* Reads a host's role-specific keys ("resolver", "zones", "mta",
 * "mailbox") from IT into H. */
void scn__mail_host(scn_json_ctx *x, scn_host *h, const cJSON *it, const char *path);
void scn__mail_host_clear(scn_host *h);
/* Reads "epoch", "zones", "users", "messages" from ROOT. */
void scn__mail_load(scn_json_ctx *x, scn_config *c, const cJSON *root);
/* Checks every reference between hosts, zones, users and messages. */
void scn__mail_check(scn_json_ctx *x, scn_config *c);
void scn__mail_init(scn_config *c);
void scn__mail_free(scn_config *c);

#endif
