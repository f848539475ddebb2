/* mta_retry.c — retry schedules of Postfix, Exim and OpenSMTPD as pure
 * functions of (profile, arrival, attempts, now). The sources of every
 * constant and rule are listed in mta_retry.h; RFC 5321 §4.5.4.1 only asks
 * that a sender wait between attempts and give up after 4-5 days, and the
 * three MTAs are three readings of that paragraph.
 */
#include "mta_retry.h"

#include <glib.h>
#include <string.h>

static const char *const kind_names[MTA_RETRY__COUNT] = {"postfix", "exim", "opensmtpd"};
static const char *const verdict_names[MTA_RETRY_VERDICT__COUNT] = {"defer", "bounce", "expire"};

const char *mta_retry_kind_name(mta_retry_kind k) {
  g_assert((unsigned)k < MTA_RETRY__COUNT);
  return kind_names[k];
}

bool mta_retry_kind_parse(const char *name, mta_retry_kind *out) {
  for (unsigned i = 0; name && i < MTA_RETRY__COUNT; i++)
    if (strcmp(name, kind_names[i]) == 0) {
      *out = (mta_retry_kind)i;
      return true;
    }
  return false;
}

const char *mta_retry_verdict_name(mta_retry_verdict v) {
  g_assert((unsigned)v < MTA_RETRY_VERDICT__COUNT);
  return verdict_names[v];
}

void mta_retry_profile_init(mta_retry_profile *p, mta_retry_kind kind) {
  g_assert((unsigned)kind < MTA_RETRY__COUNT);
  memset(p, 0, sizeof *p);
  p->kind = kind;
  switch (kind) {
  case MTA_RETRY_POSTFIX:
    /* postconf(5), Postfix >= 2.4 defaults. */
    p->queue_run = 300 * MTA_SEC;   /* queue_run_delay */
    p->scan_slack = 1 * MTA_SEC;    /* qmgr_active_feed: st_mtime > time() + 1 */
    p->min_backoff = 300 * MTA_SEC; /* minimal_backoff_time */
    p->max_backoff = 4000 * MTA_SEC;
    p->lifetime = 5 * MTA_DAY;        /* maximal_queue_lifetime */
    p->bounce_lifetime = 5 * MTA_DAY; /* bounce_queue_lifetime */
    p->delay_warning = 0;             /* delay_warning_time = 0h: off */
    p->process_limit = 100;           /* default_process_limit */
    p->dest_concurrency = 20;         /* default_destination_concurrency_limit */
    break;
  case MTA_RETRY_EXIM:
    /* Exim default configure, "begin retry": * * F,2h,15m; G,16h,1h,1.5; F,4d,6h */
    p->rules[0] = (mta_retry_rule){'F', 2 * MTA_HOUR, 15 * MTA_MIN, 0};
    p->rules[1] = (mta_retry_rule){'G', 16 * MTA_HOUR, 1 * MTA_HOUR, 1500};
    p->rules[2] = (mta_retry_rule){'F', 4 * MTA_DAY, 6 * MTA_HOUR, 0};
    p->nrules = 3;
    p->retry_interval_max = 24 * MTA_HOUR; /* spec ch. 14, retry_interval_max */
    p->lifetime = 4 * MTA_DAY;
    p->bounce_lifetime = 4 * MTA_DAY;
    p->queue_run = 0;
    p->delay_warning = 24 * MTA_HOUR; /* spec ch. 14, delay_warning */
    p->delay_warning_repeat = true;
    p->process_limit = 5 * 4; /* queue_run_max 5 x remote_max_parallel 4 */
    p->dest_concurrency = 20; /* no per-destination limit of its own */
    break;
  case MTA_RETRY_OPENSMTPD:
    p->backoff_base = 400 * MTA_SEC;  /* scheduler_ramqueue.c BACKOFF_TRANSFER */
    p->lifetime = 4 * MTA_DAY;        /* smtpd.h SMTPD_QUEUE_EXPIRY, "queue ttl" */
    p->bounce_lifetime = 4 * MTA_DAY; /* bounces are envelopes like any other */
    p->delay_warning = 4 * MTA_HOUR;  /* smtpd.conf(5) "bounce warn-interval" */
    p->queue_run = 0;                 /* the scheduler wakes exactly when due */
    p->process_limit = 100;           /* limit.c maxconn_per_source */
    p->dest_concurrency = 10;         /* limit.c maxconn_per_host */
    break;
  default:
    g_assert_not_reached();
  }
}

/* An Exim time: digits with a unit, repeated ("1h30m"); ns in *OUT. */
static bool exim_time(const char *s, int64_t *out) {
  int64_t total = 0;
  if (!*s)
    return false;
  while (*s) {
    int64_t n = 0;
    if (!g_ascii_isdigit(*s))
      return false;
    while (g_ascii_isdigit(*s)) {
      n = n * 10 + (*s++ - '0');
      if (n > 100000000)
        return false;
    }
    int64_t unit;
    switch (*s++) {
    case 'w':
      unit = 7 * MTA_DAY;
      break;
    case 'd':
      unit = MTA_DAY;
      break;
    case 'h':
      unit = MTA_HOUR;
      break;
    case 'm':
      unit = MTA_MIN;
      break;
    case 's':
      unit = MTA_SEC;
      break;
    default:
      return false;
    }
    total += n * unit;
    if (total > 3650 * MTA_DAY)
      return false;
  }
  *out = total;
  return true;
}

/* A multiplier "1.5" as thousandths. */
static bool exim_mult(const char *s, uint32_t *out) {
  uint32_t whole = 0, frac = 0, scale = 1000;
  if (!g_ascii_isdigit(*s))
    return false;
  while (g_ascii_isdigit(*s)) {
    whole = whole * 10 + (uint32_t)(*s++ - '0');
    if (whole > 1000)
      return false;
  }
  if (*s == '.') {
    s++;
    if (!g_ascii_isdigit(*s))
      return false;
    while (g_ascii_isdigit(*s)) {
      if (scale > 1) {
        scale /= 10;
        frac += (uint32_t)(*s - '0') * scale;
      }
      s++;
    }
  }
  *out = whole * 1000 + frac;
  return *s == 0 && *out > 0;
}

bool mta_retry_exim_rules_parse(mta_retry_profile *p, const char *text, char **err) {
  mta_retry_rule rules[MTA_RETRY_MAX_RULES];
  unsigned n = 0;
  *err = NULL;
  gchar **items = g_strsplit(text ? text : "", ";", -1);
  bool ok = true;
  for (gchar **it = items; ok && *it; it++) {
    gchar **f = g_strsplit(g_strstrip(*it), ",", -1);
    guint nf = g_strv_length(f);
    for (guint i = 0; i < nf; i++)
      g_strstrip(f[i]);
    mta_retry_rule r = {0, 0, 0, 0};
    if (n == MTA_RETRY_MAX_RULES) {
      *err = g_strdup_printf("more than %d retry items", MTA_RETRY_MAX_RULES);
      ok = false;
    } else if (nf == 3 && strcmp(f[0], "F") == 0) {
      r.algo = 'F';
      ok = exim_time(f[1], &r.cutoff) && exim_time(f[2], &r.interval) && r.interval > 0;
    } else if (nf == 4 && strcmp(f[0], "G") == 0) {
      r.algo = 'G';
      ok = exim_time(f[1], &r.cutoff) && exim_time(f[2], &r.interval) && r.interval > 0 &&
           exim_mult(f[3], &r.mult_milli);
    } else {
      ok = false;
    }
    if (ok && n > 0 && r.cutoff <= rules[n - 1].cutoff) {
      *err = g_strdup_printf("retry item %u: cutoff not after the previous one", n + 1);
      ok = false;
    } else if (!ok && !*err) {
      *err = g_strdup_printf("retry item %u: expected F,cutoff,interval or "
                             "G,cutoff,interval,multiplier, got \"%s\"",
                             n + 1, *it);
    }
    if (ok)
      rules[n++] = r;
    g_strfreev(f);
  }
  g_strfreev(items);
  if (ok && n == 0) {
    *err = g_strdup("no retry items");
    ok = false;
  }
  if (!ok)
    return false;
  memcpy(p->rules, rules, n * sizeof rules[0]);
  p->nrules = n;
  p->lifetime = p->bounce_lifetime = rules[n - 1].cutoff;
  return true;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t mta_retry_queue_run_at(const mta_retry_profile *p, int64_t t) {
  if (p->queue_run <= 0)
    return t;
  int64_t k = floor_div(t - p->queue_run_phase + p->queue_run - 1, p->queue_run);
  return p->queue_run_phase + k * p->queue_run;
}

int64_t mta_retry_warning_at(const mta_retry_profile *p, int64_t arrival, unsigned warned) {
  if (p->delay_warning <= 0 || (warned > 0 && !p->delay_warning_repeat))
    return INT64_MAX;
  return arrival + ((int64_t)warned + 1) * p->delay_warning;
}

static int64_t lifetime_of(const mta_retry_profile *p, bool null_sender) {
  return null_sender ? p->bounce_lifetime : p->lifetime;
}

bool mta_retry_expired(const mta_retry_profile *p, int64_t arrival, bool null_sender, int64_t now) {
  return p->kind == MTA_RETRY_OPENSMTPD && now >= arrival + lifetime_of(p, null_sender);
}

/* qmgr_active_done_25_generic then qmgr_active_done_3_generic. */
static mta_retry_verdict postfix_next(const mta_retry_profile *p, int64_t arrival, bool null_sender,
                                      int64_t now, int64_t *next) {
  if (now >= arrival + lifetime_of(p, null_sender)) {
    *next = now;
    return MTA_RETRY_BOUNCE;
  }
  int64_t delay = now - arrival;
  if (delay > p->max_backoff)
    delay = p->max_backoff;
  if (delay < p->min_backoff)
    delay = p->min_backoff;
  int64_t stamp = now + delay;
  /* The deferred-queue scan takes a file stamped at most scan_slack ahead. */
  int64_t at = p->queue_run > 0 ? mta_retry_queue_run_at(p, stamp - p->scan_slack) : stamp;
  *next = at > now ? at : mta_retry_queue_run_at(p, now + 1);
  return MTA_RETRY_DEFER;
}

/* retry.c retry_update, one retry item, message age as the failing time. */
static mta_retry_verdict exim_next(const mta_retry_profile *p, mta_retry_state *st, int64_t arrival,
                                   unsigned attempts, int64_t now, int64_t *next) {
  if (attempts <= 1)
    st->last_try = st->next_try = now; /* a new retry record */
  int64_t failing = now - arrival;
  const mta_retry_rule *rule = NULL;
  for (unsigned i = 0; i < p->nrules; i++)
    if (failing <= p->rules[i].cutoff) {
      rule = &p->rules[i];
      break;
    }
  if (!rule) { /* past the last cutoff (or no rules: temporary = permanent) */
    *next = now;
    return MTA_RETRY_BOUNCE;
  }
  int64_t gap;
  if (rule->algo == 'F') {
    gap = rule->interval;
  } else {
    g_assert(rule->algo == 'G');
    int64_t predicted = (st->next_try - st->last_try) / MTA_SEC;
    int64_t actual = (now - st->last_try) / MTA_SEC;
    int64_t lastgap = predicted < actual ? predicted : actual;
    int64_t next_gap = lastgap * (int64_t)rule->mult_milli / 1000;
    gap = lastgap * MTA_SEC < rule->interval ? rule->interval : next_gap * MTA_SEC;
  }
  if (p->retry_interval_max > 0 && gap > p->retry_interval_max)
    gap = p->retry_interval_max;
  st->last_try = now;
  st->next_try = now + gap;
  int64_t at = mta_retry_queue_run_at(p, st->next_try);
  *next = at > now ? at : mta_retry_queue_run_at(p, now + 1);
  return MTA_RETRY_DEFER;
}

/* scheduler_ramqueue.c scheduler_ram_update / scheduler_next. */
static mta_retry_verdict opensmtpd_next(const mta_retry_profile *p, int64_t arrival,
                                        unsigned attempts, bool null_sender, int64_t now,
                                        int64_t *next) {
  int64_t expire = arrival + lifetime_of(p, null_sender);
  if (expire <= now) {
    *next = now;
    return MTA_RETRY_BOUNCE;
  }
  int64_t n = attempts, t;
  while ((t = arrival + p->backoff_base * n * n) <= now)
    n++;
  if (t >= expire) {
    *next = expire;
    return MTA_RETRY_EXPIRE;
  }
  *next = t;
  return MTA_RETRY_DEFER;
}

bool mta_retry_keeps_state(const mta_retry_profile *p) { return p->kind == MTA_RETRY_EXIM; }

mta_retry_verdict mta_retry_after_failure(const mta_retry_profile *p, mta_retry_state *st,
                                          int64_t arrival, unsigned attempts, bool null_sender,
                                          int64_t now, int64_t *next) {
  g_assert(p && st && next && attempts >= 1 && now >= arrival);
  switch (p->kind) {
  case MTA_RETRY_POSTFIX:
    return postfix_next(p, arrival, null_sender, now, next);
  case MTA_RETRY_EXIM:
    return exim_next(p, st, arrival, attempts, now, next);
  case MTA_RETRY_OPENSMTPD:
    return opensmtpd_next(p, arrival, attempts, null_sender, now, next);
  default:
    g_assert_not_reached();
  }
}

size_t mta_retry_schedule(const mta_retry_profile *p, int64_t arrival, bool null_sender,
                          int64_t *times, size_t max, int64_t *bounce_at) {
  mta_retry_state st = {0, 0};
  int64_t t = arrival;
  size_t n = 0;
  for (unsigned attempts = 1; attempts < 1000000; attempts++) {
    if (n < max)
      times[n] = t;
    n++;
    int64_t next = 0;
    mta_retry_verdict v = mta_retry_after_failure(p, &st, arrival, attempts, null_sender, t, &next);
    if (v != MTA_RETRY_DEFER) {
      *bounce_at = next;
      return n;
    }
    t = next;
  }
  g_error("mta_retry_schedule: profile %s never gives up", mta_retry_kind_name(p->kind));
}
