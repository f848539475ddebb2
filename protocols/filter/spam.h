/* spam.h — spam scoring with named, weighted rules, SpamAssassin style.
 *
 * Inputs: the parsed message, its envelope sender, the authentication
 * results (as plain enums, so this module does not depend on the SPF /
 * DKIM / DMARC code) and the DNSBL verdict. Output: the score in integer
 * tenths (no floating point anywhere), the rules that hit with their
 * scores, the decision (ham / tag → Junk with X-Spam-* headers / reject
 * with 550 5.7.1 at DATA) and the header values.
 *
 * Default weights (tenths), from SpamAssassin's rules/50_scores.cf score
 * set 1 (network tests on, Bayes off) rounded to one decimal, and from
 * rspamd where SpamAssassin's rule is informational only:
 *
 *   GTUBE                    10000  SA 1000.000
 *   SPF_FAIL                     9  SA 0.919
 *   SPF_SOFTFAIL                10  SA 0.972
 *   DKIM_INVALID                 1  SA 0.1  (DKIM fail or permerror)
 *   DMARC_POLICY_REJECT         20  rspamd 2.0 (DMARC fail, p=reject)
 *   DMARC_POLICY_QUARANTINE     15  rspamd 1.5 (DMARC fail, p=quarantine)
 *   DMARC_POLICY_SOFTFAIL        1  rspamd 0.1 (DMARC fail, p=none)
 *   MISSING_DATE                14  SA 1.396
 *   MISSING_MID                  1  SA 0.140
 *   FORGED_SENDER                3  rspamd 0.3 (From: ≠ MAIL FROM)
 *   MIME_HTML_ONLY               1  SA 0.1
 *   SUBJECT_KEYWORD             10  SA's 1.0 for a rule without a score
 *   DNSBL listings: the list's own rule name and weight (dnsbl_zone)
 *
 * Thresholds: tag at 50 (SA's required_score 5.0); reject off by default
 * (SpamAssassin only tags: refusing at DATA is the MTA's choice, as
 * spamass-milter -r; a GTUBE message therefore lands in Junk). */
#ifndef MAILSIM_SPAM_H
#define MAILSIM_SPAM_H

#include <glib.h>

#include "dnsbl.h"
#include "mime_msg.h"

/* Authentication results as the SPF / DKIM / DMARC checks report them. */
typedef enum {
  SPAM_SPF_NONE,
  SPAM_SPF_NEUTRAL,
  SPAM_SPF_PASS,
  SPAM_SPF_FAIL,
  SPAM_SPF_SOFTFAIL,
  SPAM_SPF_TEMPERROR,
  SPAM_SPF_PERMERROR,
  SPAM_SPF_COUNT
} spam_spf;
typedef enum {
  SPAM_DKIM_NONE,
  SPAM_DKIM_PASS,
  SPAM_DKIM_FAIL,
  SPAM_DKIM_NEUTRAL,
  SPAM_DKIM_TEMPERROR,
  SPAM_DKIM_PERMERROR,
  SPAM_DKIM_COUNT
} spam_dkim;
typedef enum {
  SPAM_DMARC_NONE,
  SPAM_DMARC_PASS,
  SPAM_DMARC_FAIL,
  SPAM_DMARC_TEMPERROR,
  SPAM_DMARC_PERMERROR,
  SPAM_DMARC_COUNT
} spam_dmarc;
typedef enum {
  SPAM_DMARC_P_NONE,
  SPAM_DMARC_P_QUARANTINE,
  SPAM_DMARC_P_REJECT,
  SPAM_DMARC_P_COUNT
} spam_dmarc_policy;
/* RFC names ("none", "neutral", "pass", "fail", "softfail", "temperror",
 * "permerror"; "quarantine", "reject") and back: *_parse returns FALSE for
 * an unknown name (case-insensitive). */
const char *spam_spf_name(spam_spf r);
const char *spam_dkim_name(spam_dkim r);
const char *spam_dmarc_name(spam_dmarc r);
const char *spam_dmarc_policy_name(spam_dmarc_policy p);
gboolean spam_spf_parse(const char *s, spam_spf *out);
gboolean spam_dkim_parse(const char *s, spam_dkim *out);
gboolean spam_dmarc_parse(const char *s, spam_dmarc *out);
gboolean spam_dmarc_policy_parse(const char *s, spam_dmarc_policy *out);

/* The built-in rules. */
typedef enum {
  SPAM_RULE_GTUBE,
  SPAM_RULE_SPF_FAIL,
  SPAM_RULE_SPF_SOFTFAIL,
  SPAM_RULE_DKIM_INVALID,
  SPAM_RULE_DMARC_REJECT,
  SPAM_RULE_DMARC_QUARANTINE,
  SPAM_RULE_DMARC_SOFTFAIL,
  SPAM_RULE_MISSING_DATE,
  SPAM_RULE_MISSING_MID,
  SPAM_RULE_FORGED_SENDER,
  SPAM_RULE_HTML_ONLY,
  SPAM_RULE_SUBJECT_KEYWORD,
  SPAM_RULE_COUNT
} spam_rule;
/* "GTUBE", "SPF_FAIL", ..., "DMARC_POLICY_REJECT", ..., "MIME_HTML_ONLY". */
const char *spam_rule_name(spam_rule r);
/* The rule called NAME (case-sensitive), FALSE if none. */
gboolean spam_rule_parse(const char *name, spam_rule *out);

/* The GTUBE string (SpamAssassin's test pattern). */
#define SPAM_GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

#define SPAM_NO_REJECT G_MAXINT

typedef struct {
  int weight[SPAM_RULE_COUNT]; /* tenths; 0 disables a rule */
  int tag_threshold;           /* score >= this: tag (50) */
  int reject_threshold;        /* score >= this: reject (SPAM_NO_REJECT) */
  /* Subject keywords, NULL-terminated, matched case-insensitively (ASCII)
   * as substrings of the decoded Subject. Borrowed. */
  const char *const *subject_keywords;
  const char *junk_folder; /* "Junk" */
} spam_config;
void spam_config_default(spam_config *c);
/* Sets the weight of the rule called NAME; FALSE if there is none. */
gboolean spam_config_set_weight(spam_config *c, const char *name, int tenths);

typedef struct {
  const mime_msg *msg;   /* required */
  const char *mail_from; /* envelope sender without <>, "" = null path, NULL = unknown */
  spam_spf spf;
  spam_dkim dkim;
  spam_dmarc dmarc;
  spam_dmarc_policy dmarc_policy; /* the policy the DMARC record asked for */
  const dnsbl_verdict *dnsbl;     /* NULL = none; its DNSBL_SCORE hits count */
} spam_input;
/* All "none", no DNSBL, MSG and MAIL_FROM set. */
void spam_input_init(spam_input *in, const mime_msg *msg, const char *mail_from);

typedef enum { SPAM_HAM, SPAM_TAG, SPAM_REJECT, SPAM_DECISION_COUNT } spam_decision;
const char *spam_decision_name(spam_decision d); /* "ham", "tag", "reject" */

typedef struct {
  char *name; /* rule name */
  int score;  /* tenths */
  char *desc; /* what matched, for the trace */
} spam_hit;

typedef struct {
  int score;    /* tenths */
  int required; /* the tag threshold, tenths */
  spam_decision decision;
  GPtrArray *hits;    /* of spam_hit*, sorted by name (SpamAssassin's tests= order) */
  int code;           /* 550 when rejecting, else 0 */
  const char *esc;    /* "5.7.1" when rejecting (static) */
  char *text;         /* reply text when rejecting */
  const char *folder; /* the Junk folder when tagged, else NULL (borrowed from config) */
  /* Header values, SpamAssassin style, for every message:
   *   X-Spam-Flag:   "YES" (tag/reject only, else NULL)
   *   X-Spam-Score:  "5.2"
   *   X-Spam-Status: "Yes, score=5.2 required=5.0 tests=A,B" */
  char *flag_header, *score_header, *status_header;
} spam_result;
void spam_result_clear(spam_result *r);

/* Scores IN with CFG (NULL = defaults). Fills *OUT (clear it with
 * spam_result_clear). Never fails. */
void spam_score(const spam_config *cfg, const spam_input *in, spam_result *out);

/* Tenths as "5.2", "-0.3", "1000.0". New string. */
char *spam_format_tenths(int tenths);

#endif
