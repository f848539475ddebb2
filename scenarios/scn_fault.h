/* scn_fault.h — the faults of a scenario: what goes wrong, where, and when.
 *
 * A fault is a kind, a target (a link "a-b", a host, or a set of hosts)
 * and a time window [at, until) (until SIM_TIME_NEVER: never heals). The
 * loader reads them from "faults" (scenarios/FORMAT.md); the world applies
 * them (scn_fault_apply.h) and records every window's start and end, and
 * every act of a fault, as fault.* records (traces/FORMAT.md "Faults").
 *
 * Kinds and the fields each one uses (all others are zero / NULL):
 *   link_down      target = link      the link drops everything
 *   crash          target = host      crash at `at`, restart at `until`
 *   partition      hosts              every link between the set and the
 *                                     rest is down
 *   latency        target = link      latency: added to the link's latency
 *   loss           target = link      loss_ppm: the link's loss ratio
 *   disk_full      target = host      every write that adds bytes fails
 *   dns            target = host      an authoritative server answers NAME
 *                                     (and QTYPE, 0 = any) with dns_answer
 *   dns_mx         target = host      the server answers MX queries for
 *                                     NAME with `records` (MX rdata, "10
 *                                     mx2.example.org.") with TTL ttl
 *   smtp_reply     target = host      the MTA answers `reply` at `stage`
 *                                     to transactions matching rcpt/sender,
 *                                     on matches attempt_from..attempt_to
 *   tarpit         target = host      the MTA's greeting waits `delay`
 *   cut_after_dot  target = host      the MTA stores the message, then
 *                                     drops the connection before its 250
 *                                     (RFC 1047); attempts as smtp_reply
 *   tls            target = host      the host's TLS server side fails
 *                                     (tls_failure)
 *   mailbox_full   target = host      the mailbox host's account `user`
 *                                     takes nothing more (452 4.2.2)
 *
 * Building faults in C (for the chaos command): scn_fault_init() a struct,
 * set its kind, target, window and fields (strings are g_strdup'ed: the
 * config frees them), check it with scn_fault_check() against the config,
 * and scn_fault_append() it to c->faults BEFORE scn_world_build:
 *
 *   scn_fault f;
 *   scn_fault_init(&f, SCN_FAULT_SMTP_REPLY, "mx1.example.org", 0, 10 * SIM_MIN);
 *   f.stage = SCN_SMTP_STAGE_RCPT;
 *   f.rcpt = g_strdup("bob@");
 *   f.attempt_from = 1, f.attempt_to = 3;
 *   f.reply_code = 451, f.reply_esc = g_strdup("4.3.0"), f.reply_text = g_strdup("Try later");
 *   if (!scn_fault_append(c, &f, &err)) ... (f was freed; err says why)
 */
#ifndef MAILSIM_SCN_FAULT_H
#define MAILSIM_SCN_FAULT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "scn_json.h"
#include "sim_time.h"

typedef enum {
  SCN_FAULT_LINK_DOWN,
  SCN_FAULT_CRASH,
  SCN_FAULT_PARTITION,
  SCN_FAULT_LATENCY,
  SCN_FAULT_LOSS,
  SCN_FAULT_DISK_FULL,
  SCN_FAULT_DNS,
  SCN_FAULT_DNS_MX,
  SCN_FAULT_SMTP_REPLY,
  SCN_FAULT_TARPIT,
  SCN_FAULT_CUT_AFTER_DOT,
  SCN_FAULT_TLS,
  SCN_FAULT_MAILBOX_FULL,
  SCN_FAULT_COUNT
} scn_fault_kind;
/* The JSON name ("link_down", ...). */
const char *scn_fault_kind_name(scn_fault_kind k);
/* By JSON name; false if none. */
bool scn_fault_kind_parse(const char *name, scn_fault_kind *out);

typedef enum {
  SCN_DNS_SERVFAIL, /* rcode 2 */
  SCN_DNS_NXDOMAIN, /* rcode 3, no records */
  SCN_DNS_TIMEOUT,  /* no answer at all */
  SCN_DNS__COUNT
} scn_dns_answer;
const char *scn_dns_answer_name(scn_dns_answer a);

/* SMTP stages at which a reply can be injected (the server's decisions). */
typedef enum {
  SCN_SMTP_STAGE_CONNECT, /* the greeting */
  SCN_SMTP_STAGE_HELO,
  SCN_SMTP_STAGE_MAIL,
  SCN_SMTP_STAGE_RCPT,
  SCN_SMTP_STAGE_DOT, /* the reply to the end of DATA */
  SCN_SMTP_STAGE__COUNT
} scn_smtp_stage;
const char *scn_smtp_stage_name(scn_smtp_stage s);

typedef enum {
  SCN_TLS_CERT_MISMATCH, /* the server shows a certificate for another name */
  SCN_TLS_HANDSHAKE,     /* the server shares no cipher: handshake_failure alert */
  SCN_TLS__COUNT
} scn_tls_failure;
const char *scn_tls_failure_name(scn_tls_failure f);

typedef struct {
  scn_fault_kind kind;
  char *target;      /* link "a-b" or host name; NULL for a partition */
  sim_time at;       /* the window starts */
  sim_time until;    /* the window ends; SIM_TIME_NEVER: never heals */
  GPtrArray *hosts;  /* partition: char* host names (at least one) */
  sim_time latency;  /* latency: extra one-way delay (> 0) */
  uint32_t loss_ppm; /* loss: the link's loss ratio in the window */
  /* dns, dns_mx */
  char *name;     /* absolute, with its final dot */
  uint16_t qtype; /* dns: 0 = any type */
  scn_dns_answer dns_answer;
  GPtrArray *records; /* dns_mx: char* MX rdata ("PREF EXCHANGE.") */
  uint32_t ttl;       /* dns_mx: seconds (default 60) */
  /* smtp_reply, cut_after_dot */
  scn_smtp_stage stage;
  char *rcpt, *sender;               /* match rules or NULL (any): "bob@" (local
                                        part), "@example.org" (domain), or a
                                        whole address; case-insensitive */
  uint32_t attempt_from, attempt_to; /* the rule's matches counted from 1; 0,0 = all */
  int reply_code;                    /* 400..599 */
  char *reply_esc, *reply_text;      /* "4.3.0", "Try again later" */
  /* tarpit */
  sim_time delay;
  /* tls */
  scn_tls_failure tls_failure;
  /* mailbox_full */
  char *user;
} scn_fault;

struct scn_config;

/* Zeroes F and sets kind, target (copied; may be NULL) and the window. */
void scn_fault_init(scn_fault *f, scn_fault_kind kind, const char *target, sim_time at,
                    sim_time until);
/* Frees F's strings and arrays (not F itself). */
void scn_fault_clear(scn_fault *f);
/* Checks F against C (targets exist and have the right role, fields in
 * range). False with *ERR set (SCN_ERROR, "WHERE: ..." as the loader
 * words it, WHERE may be NULL for "fault") when it is not usable. */
bool scn_fault_check(const struct scn_config *c, const scn_fault *f, const char *where,
                     GError **err);
/* Checks F and appends it to C's faults (taking its contents). On error F
 * is cleared and false returned with *ERR. Call before scn_world_build. */
bool scn_fault_append(struct scn_config *c, scn_fault *f, GError **err);

/* True if ADDR matches RULE (NULL matches everything): "local@" compares
 * the local part, "@domain" the domain, anything else the whole address;
 * case-insensitive. */
bool scn_fault_match(const char *rule, const char *addr);
/* True if the N-th match (from 1) of F's rule is one the fault acts on. */
bool scn_fault_attempt_hit(const scn_fault *f, uint32_t n);

/* The loader's step: reads $.faults of ROOT into C (scn.c calls it). */
void scn__faults_load(scn_json_ctx *x, struct scn_config *c, const cJSON *root);

#endif
