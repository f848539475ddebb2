/* mx_filters.h — the filter service of an inbound MX (issue 7): what a
 * Postfix MX with postgrey, a DNSBL (reject_rbl_client), OpenDKIM (verify),
 * OpenDMARC, a policy SPF check and SpamAssassin does, plugged into the MTA
 * host's filter hook (mta_host_set_filter).
 *
 * At RCPT (port 25, unauthenticated clients only, as the hook is):
 *   1. DNSBL, when some list is in reject mode: every list is asked through
 *      the host's dns_client; a listing by a reject list → 554 5.7.1
 *      (Postfix's text). policy.dnsbl.
 *   2. Greylisting (protocols/filter/greylist, Postgrey's defaults): a new
 *      triplet → 450 4.2.0; the state is written to the host's disk after
 *      every check (key MX_FILTERS_GREYLIST_KEY) and read back on restart,
 *      so it survives a crash. policy.greylist. The first pass after
 *      waiting adds X-Greylist to that connection's next message.
 * At the end of DATA:
 *   3. Authentication-Results fields claiming our authserv-id are removed
 *      (RFC 8601 §5) — the hook takes the rewritten message
 *      (mta_host_filter_accept_rewritten).
 *   4. SPF (RFC 7208) of MAIL FROM (the HELO identity for the null path),
 *      DKIM verification (RFC 6376 §6), in parallel; then DMARC (RFC 7489)
 *      with their results and the public-suffix list; DNSBL lists in score
 *      mode. Every lookup goes through the dns_client, so checks take
 *      simulated time. policy.spf, policy.dkim, policy.dmarc, policy.dnsbl.
 *   5. Spam scoring (protocols/filter/spam) with those results. policy.spam.
 *   6. DMARC disposition reject → 550 5.7.1; spam reject → 550 5.7.1;
 *      otherwise accepted with, prepended below the MTA's Received:
 *      X-Greylist, Authentication-Results, Received-SPF, X-Spam-Flag (tag,
 *      or DMARC quarantine), X-Spam-Score, X-Spam-Status. Filing into Junk
 *      is the mailbox host's job (X-Spam-Flag: YES, or a Sieve rule).
 *
 * Crash: the jobs in flight are dropped (their connections are gone) and
 * their lookups cancelled; the greylist is reloaded from the disk on
 * restart. */
#ifndef MAILSIM_MX_FILTERS_H
#define MAILSIM_MX_FILTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns_client.h"
#include "dnsbl.h"
#include "greylist.h"
#include "host.h"
#include "mta.h"
#include "spam.h"

#define MX_FILTERS_GREYLIST_KEY "mx_filters/greylist"

typedef struct {
  const char *authserv_id; /* Authentication-Results id; NULL = the host's name (copied) */
  bool greylist;
  greylist_config greylist_cfg; /* strings copied by greylist_new */
  /* DNSBL lists, borrowed (with their strings): must outlive the service. */
  const dnsbl_zone *dnsbl;
  size_t ndnsbl;
  bool spf, dkim, dmarc;
  bool spam;
  spam_config spam_cfg; /* subject_keywords and junk_folder borrowed */
  /* Public suffixes for the DMARC organisational domain, borrowed. */
  const char *const *public_suffixes;
  size_t nsuffixes;
  int64_t epoch_unix; /* Unix seconds of simulated time 0 (SPF %{t}, DKIM x=, X-Greylist) */
} mx_filters_config;

/* Everything on: greylisting with Postgrey's defaults, SPF, DKIM, DMARC,
 * spam with SpamAssassin's defaults (tag 5.0, no reject); no DNSBL; the
 * suffixes {"com","net","org","example"}; epoch 2026-01-01. */
void mx_filters_config_init(mx_filters_config *cfg);

typedef struct mx_filters mx_filters;

/* Installs the filters on M (mta_host_set_filter), running on H (M's host)
 * with lookups through DNS. H, M and DNS are borrowed and must outlive the
 * service. Registers for H's crashes (reload of the greylist). */
mx_filters *mx_filters_new(host *h, mta_host *m, dns_client *dns, const mx_filters_config *cfg);
/* Removes the filter from the MTA and frees everything (before the MTA,
 * at teardown: host.h has no way to drop the crash subscription, so the
 * world must not run afterwards). NULL is a no-op. */
void mx_filters_free(mx_filters *f);

typedef struct {
  uint64_t rcpt_checks, data_checks;
  uint64_t greylisted;      /* 450 4.2.0 answers */
  uint64_t dnsbl_rejected;  /* 554 at RCPT */
  uint64_t dmarc_rejected;  /* 550 at DATA */
  uint64_t spam_rejected;   /* 550 at DATA */
  uint64_t spam_tagged;     /* accepted with X-Spam-Flag: YES */
  uint64_t authres_removed; /* forged Authentication-Results fields removed */
} mx_filters_stats;
void mx_filters_get_stats(const mx_filters *f, mx_filters_stats *st);

/* The delay greylisting added: one entry per PASS_DELAYED verdict (a
 * triplet's first pass after waiting), with the client's address and the
 * time since the triplet's first attempt (greylist_verdict.waited). Kept
 * across crashes (an observation, not the machine's memory). */
typedef struct {
  const char *client; /* borrowed from the service */
  int64_t waited;     /* ns */
} mx_filters_delay;
/* The entries in verdict order (borrowed, valid until the next check);
 * their count in *N. */
const mx_filters_delay *mx_filters_delays(const mx_filters *f, size_t *n);
/* The greylisting delay in force (cfg.greylist_cfg.delay), 0 when
 * greylisting is off. */
int64_t mx_filters_greylist_delay(const mx_filters *f);

#endif
