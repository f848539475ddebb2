/* cmd_serve.c — `mailsim serve` (live mode: real clients on loopback
 * ports talk to the simulated world) and `mailsim replay` (a live
 * session's journal rerun offline into the identical trace).
 *
 * The wall clock is read here only: simulated time follows it (times
 * --speed), and each outside input enters the world between runs at the
 * world's current time, journaled with it (scenarios/scn_live.h).
 */
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_serve.h"
#include "live_sock.h"
#include "scn_live.h"
#include "trace_guard.h"

typedef struct {
  char *service;  /* "smtp", "submission", "imap", "pop3", "dns" */
  char *host;     /* target host */
  uint16_t port;  /* target port */
  char *addr;     /* listening address */
  uint16_t lport; /* listening port (0: any free) */
  bool udp;       /* also UDP (DNS) */
  int gw;         /* gateway index */
} mapping;

typedef struct {
  scn_live *l;
  live_sock *ls;
  GArray *maps; /* mapping, by listener index */
  double speed;
  gint64 wall0;      /* monotonic us at virtual time 0 */
  sim_time duration; /* SIM_TIME_NEVER: until a signal */
  GMainLoop *loop;
  GArray *paused; /* uint64_t: clients not read while the world catches up */
} server;

/* Back-pressure: a client whose bytes the simulated server has not taken
 * (unacknowledged beyond PAUSE_AT) is not read until they drop under
 * RESUME_AT, so a fast sender cannot grow the simulation's memory. */
#define PAUSE_AT (1024 * 1024)
#define RESUME_AT (256 * 1024)

static void mapping_clear(gpointer p) {
  mapping *m = p;
  g_free(m->service);
  g_free(m->host);
  g_free(m->addr);
}

/* The virtual time the wall clock says now. */
static sim_time wall_vt(server *s) {
  double us = (double)(g_get_monotonic_time() - s->wall0);
  double ns = us * 1000.0 * s->speed;
  sim_time t = ns >= 9.0e18 ? SIM_TIME_NEVER : (sim_time)ns;
  return t < s->duration ? t : s->duration;
}

static void advance(server *s) { scn_live_run_to(s->l, wall_vt(s)); }

static void give(server *s, live_input *in) {
  advance(s);
  scn_live_input(s->l, in);
}

/* Outside inputs (live_sock.h) */
static void in_open(void *user, unsigned lis, uint64_t id) {
  server *s = user;
  const mapping *m = &g_array_index(s->maps, mapping, lis);
  live_input in = {.kind = LIVE_IN_OPEN, .id = id, .gw = (uint32_t)m->gw, .port = m->port};
  give(s, &in);
}
static void in_data(void *user, uint64_t id, const uint8_t *buf, size_t len) {
  server *s = user;
  live_input in = {.kind = LIVE_IN_DATA, .id = id, .buf = buf, .len = len};
  give(s, &in);
  if (scn_live_pending(s->l, id) > PAUSE_AT) {
    live_sock_pause(s->ls, id, true);
    g_array_append_val(s->paused, id);
  }
}

static void resume_paused(server *s) {
  for (guint i = 0; i < s->paused->len;) {
    uint64_t id = g_array_index(s->paused, uint64_t, i);
    if (scn_live_pending(s->l, id) < RESUME_AT) {
      live_sock_pause(s->ls, id, false);
      g_array_remove_index(s->paused, i);
    } else {
      i++;
    }
  }
}
static void in_shut(void *user, uint64_t id) {
  live_input in = {.kind = LIVE_IN_SHUT, .id = id};
  give(user, &in);
}
static void in_abort(void *user, uint64_t id) {
  live_input in = {.kind = LIVE_IN_ABORT, .id = id};
  give(user, &in);
}
static void in_dgram(void *user, unsigned lis, uint64_t id, const uint8_t *buf, size_t len) {
  server *s = user;
  const mapping *m = &g_array_index(s->maps, mapping, lis);
  live_input in = {.kind = LIVE_IN_DGRAM,
                   .id = id,
                   .gw = (uint32_t)m->gw,
                   .port = m->port,
                   .buf = buf,
                   .len = len};
  give(s, &in);
}
static const live_sock_in sock_in = {in_open, in_data, in_shut, in_abort, in_dgram};

/* The simulated servers' answers (live_gw.h) */
static void out_data(void *user, uint64_t id, const uint8_t *buf, size_t len) {
  server *s = user;
  live_sock_send(s->ls, id, buf, len);
}
static void out_eof(void *user, uint64_t id) {
  server *s = user;
  live_sock_eof(s->ls, id);
}
static void out_closed(void *user, uint64_t id, sim_tcp_reason why) {
  (void)why;
  server *s = user;
  live_sock_close(s->ls, id);
}
static void out_dgram(void *user, uint64_t id, const uint8_t *buf, size_t len) {
  server *s = user;
  live_sock_reply(s->ls, id, buf, len);
}
static const live_gw_out gw_out = {out_data, out_eof, out_closed, out_dgram};

static gboolean on_tick(gpointer p) {
  server *s = p;
  advance(s);
  resume_paused(s);
  if (s->duration != SIM_TIME_NEVER && scn_live_now(s->l) >= s->duration)
    g_main_loop_quit(s->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer p) {
  server *s = p;
  g_main_loop_quit(s->loop);
  return G_SOURCE_CONTINUE;
}

static bool is_loopback(const char *addr) {
  return g_str_has_prefix(addr, "127.") || !strcmp(addr, "::1");
}

/* "ADDR:PORT=HOST:PORT" ("[v6]:PORT" on the left). */
static bool parse_listen(const char *spec, mapping *m, char **why) {
  const char *eq = strchr(spec, '=');
  const char *lc = eq ? g_strrstr_len(spec, eq - spec, ":") : NULL;
  const char *rc = eq ? strrchr(eq, ':') : NULL;
  guint64 lp, rp;
  char *lps = lc ? g_strndup(lc + 1, eq - lc - 1) : NULL;
  bool ok = lc && rc && rc > eq + 1 && g_ascii_string_to_unsigned(lps, 10, 0, 65535, &lp, NULL) &&
            g_ascii_string_to_unsigned(rc + 1, 10, 1, 65535, &rp, NULL);
  g_free(lps);
  if (!ok) {
    *why = g_strdup_printf("--listen %s: expected ADDR:PORT=HOST:PORT", spec);
    return false;
  }
  const char *a0 = spec, *a1 = lc;
  if (*a0 == '[' && a1 > a0 && a1[-1] == ']')
    a0++, a1--;
  m->addr = g_strndup(a0, a1 - a0);
  m->lport = (uint16_t)lp;
  m->host = g_strndup(eq + 1, rc - eq - 1);
  m->port = (uint16_t)rp;
  m->udp = rp == 53;
  const char *svc = rp == 25    ? "smtp"
                    : rp == 587 ? "submission"
                    : rp == 143 ? "imap"
                    : rp == 110 ? "pop3"
                    : rp == 53  ? "dns"
                                : "tcp";
  m->service = g_strdup(svc);
  return true;
}

/* Every service of the scenario, on free loopback ports. */
static void default_maps(const scn_config *c, GArray *maps) {
  for (guint i = 0; i < c->hosts->len; i++) {
    const scn_host *h = &g_array_index(c->hosts, scn_host, i);
    struct {
      bool on;
      const char *svc;
      uint16_t port;
    } svcs[] = {
        {!strcmp(h->role, "mta") && h->mta.mx, "smtp", 25},
        {!strcmp(h->role, "mta") && h->mta.submission, "submission", 587},
        {!strcmp(h->role, "mailbox") && h->mailbox.imap, "imap", 143},
        {!strcmp(h->role, "mailbox") && h->mailbox.pop3, "pop3", 110},
        {!strcmp(h->role, "dns") || !strcmp(h->role, "resolver"), "dns", 53},
    };
    for (size_t k = 0; k < G_N_ELEMENTS(svcs); k++) {
      if (!svcs[k].on)
        continue;
      mapping m = {g_strdup(svcs[k].svc),
                   g_strdup(h->name),
                   svcs[k].port,
                   g_strdup("127.0.0.1"),
                   0,
                   svcs[k].port == 53,
                   -1};
      g_array_append_val(maps, m);
    }
  }
}

static bool write_file(const char *path, const char *text, GError **err) {
  char *tmp = g_strdup_printf("%s.tmp", path);
  bool ok = g_file_set_contents(tmp, text, -1, err) && rename(tmp, path) == 0;
  g_free(tmp);
  return ok;
}

static void append_json_str(GString *out, const char *s) {
  g_string_append_c(out, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c(out, '\\');
    if ((unsigned char)*p < 0x20)
      g_string_append_printf(out, "\\u%04x", (unsigned char)*p);
    else
      g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}

int cli_cmd_serve(int argc, char **argv) {
  char **listens = NULL, *speed_s = NULL, *ca_out = NULL, *trace_path = NULL, *journal_path = NULL,
       *duration_s = NULL, *ports_file = NULL, *seed_s = NULL, *detail_s = NULL;
  gboolean allow_remote = FALSE;
  GOptionEntry entries[] = {
      {"listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &listens,
       "Map ADDR:PORT to a simulated host's service (repeatable; port 53 is UDP and TCP). "
       "Default: every service of the scenario on free loopback ports",
       "ADDR:PORT=HOST:PORT"},
      {"allow-remote", 0, 0, G_OPTION_ARG_NONE, &allow_remote,
       "Allow listening on addresses other than loopback", NULL},
      {"speed", 0, 0, G_OPTION_ARG_STRING, &speed_s,
       "Simulated seconds per wall-clock second (default 1)", "X"},
      {"duration", 0, 0, G_OPTION_ARG_STRING, &duration_s,
       "Stop when simulated time reaches D (e.g. 10m; default: at SIGINT/SIGTERM; the "
       "scenario's own duration does not apply)",
       "D"},
      {"ca-out", 0, 0, G_OPTION_ARG_FILENAME, &ca_out,
       "Write the simulated world's CA certificate (PEM) here, for clients' STARTTLS checks",
       "FILE"},
      {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
       "Write the trace here (default: out/NAME-live.jsonl)", "FILE"},
      {"journal", 0, 0, G_OPTION_ARG_FILENAME, &journal_path,
       "Write the journal here (default: out/NAME-live.journal)", "FILE"},
      {"ports-file", 0, 0, G_OPTION_ARG_FILENAME, &ports_file,
       "Write the port table as JSON here once listening (for scripts)", "FILE"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_s, "Root seed (default: the scenario's)", "N"},
      {"detail", 0, 0, G_OPTION_ARG_STRING, &detail_s,
       "Trace detail: messages, protocol (default) or packets", "LEVEL"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status = 2;
  scn_config *cfg = NULL;
  trace_writer *tw = NULL;
  live_journal *jn = NULL;
  char *def_trace = NULL, *def_journal = NULL, *why = NULL;
  server s = {0};
  s.maps = g_array_new(FALSE, TRUE, sizeof(mapping));
  s.paused = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  g_array_set_clear_func(s.maps, mapping_clear);
  s.speed = 1.0;
  s.duration = SIM_TIME_NEVER;
  GError *err = NULL;
  if (!cli_parse(
          "serve", "SCENARIO",
          "Live mode: real mail clients (curl, swaks, Python's smtplib/imaplib/poplib, dig,\n"
          "Thunderbird) talk over loopback ports to the simulated hosts' SMTP, submission,\n"
          "IMAP, POP3 and DNS services. Each outside connection enters the world through a\n"
          "gateway node linked to its target host (\"live-HOST\", role gateway in the trace);\n"
          "what it causes is relayed, filtered and delivered like any simulated mail.\n"
          "Simulated time follows the wall clock times --speed. Every outside input is\n"
          "journaled with its simulated time: 'mailsim replay JOURNAL' gives the same trace\n"
          "byte for byte. SIGINT/SIGTERM stop the session and write the trace's end record.\n"
          "Hostile clients are contained: a client that does not read its output (over\n"
          "256 KiB) is dropped, at most 1000 clients at once; the simulated servers apply\n"
          "their own limits (e.g. SMTP 421 4.7.0 over 100 sessions, 500 for long lines).\n"
          "Certificates name the simulated hosts: point clients at the host name and\n"
                 "connect them to the loopback port, e.g. (PORT from the printed table)\n"
                 "  mailsim serve scenarios/journey.json --ca-out ca.pem --speed 60\n"
                 "  curl --ssl-reqd --cacert ca.pem --connect-to smtp.example.com:587:127.0.0.1:PORT \\\n"
                 "    smtp://smtp.example.com:587 -u alice@example.com:wonderland \\\n"
                 "    --mail-from alice@example.com --mail-rcpt bob@example.org -T msg.txt\n"
                 "Exit status: 0 stopped cleanly, 2 bad usage or input.",
          entries, &argc, &argv))
    goto out;
  if (argc != 2) {
    fprintf(stderr, "mailsim serve: expected one SCENARIO file\nTry 'mailsim serve --help'.\n");
    goto out;
  }
  if (speed_s) {
    char *end = NULL;
    s.speed = g_ascii_strtod(speed_s, &end);
    if (!end || *end || !(s.speed > 0) || s.speed > 1e6) {
      fprintf(stderr, "mailsim serve: --speed %s: expected a number above 0, at most 1000000\n",
              speed_s);
      goto out;
    }
  }
  if (duration_s && !sim_time_parse(duration_s, &s.duration, &err)) {
    fprintf(stderr, "mailsim serve: --duration: %s\n", err->message);
    goto out;
  }
  sim_detail detail = SIM_DETAIL_PROTOCOL;
  if (detail_s && !sim_detail_parse(detail_s, &detail)) {
    fprintf(stderr, "mailsim serve: --detail %s: expected messages, protocol or packets\n",
            detail_s);
    goto out;
  }
  char *text = NULL;
  gsize text_len = 0;
  if (!g_file_get_contents(argv[1], &text, &text_len, &err)) {
    fprintf(stderr, "mailsim serve: %s\n", err->message);
    goto out;
  }
  cfg = scn_parse(argv[1], text, text_len, &err);
  if (!cfg) {
    g_free(text);
    fprintf(stderr, "mailsim serve: %s\n", err->message);
    goto out;
  }
  uint64_t seed = cfg->seed;
  guint64 sv;
  if (seed_s) {
    if (!g_ascii_string_to_unsigned(seed_s, 10, 0, G_MAXUINT64, &sv, NULL)) {
      g_free(text);
      fprintf(stderr, "mailsim serve: --seed %s: expected an integer from 0 to 2^64-1\n", seed_s);
      goto out;
    }
    seed = sv;
  }
  if (listens) {
    for (char **p = listens; *p; p++) {
      mapping m = {0};
      if (!parse_listen(*p, &m, &why)) {
        mapping_clear(&m);
        break;
      }
      g_array_append_val(s.maps, m);
      if (scn_find_host(cfg, m.host) < 0) {
        why =
            g_strdup_printf("--listen %s: %s is not a host of scenario %s", *p, m.host, cfg->name);
        break;
      }
      if (!allow_remote && !is_loopback(m.addr)) {
        why = g_strdup_printf("--listen %s: %s is not a loopback address (use --allow-remote)", *p,
                              m.addr);
        break;
      }
    }
  } else {
    default_maps(cfg, s.maps);
  }
  if (why) {
    g_free(text);
    fprintf(stderr, "mailsim serve: %s\n", why);
    goto out;
  }
  GPtrArray *targets = g_ptr_array_new();
  for (guint i = 0; i < s.maps->len; i++)
    g_ptr_array_add(targets, g_array_index(s.maps, mapping, i).host);
  if (!trace_path || !journal_path)
    g_mkdir_with_parents("out", 0755);
  def_trace = g_strdup_printf("out/%s-live.jsonl", cfg->name);
  def_journal = g_strdup_printf("out/%s-live.journal", cfg->name);
  const char *tpath = trace_path ? trace_path : def_trace;
  const char *jpath = journal_path ? journal_path : def_journal;
  tw = trace_writer_new_file(tpath, &err);
  live_journal_header jh = {.scenario_file = argv[1],
                            .scenario = text,
                            .seed = seed,
                            .detail = (char *)sim_detail_name(detail),
                            .gateways = NULL};
  if (tw) {
    s.l = scn_live_new(cfg, seed, tw, detail, (const char *const *)targets->pdata, targets->len,
                       &gw_out, &s, &err);
  }
  if (s.l) {
    GPtrArray *gws = g_ptr_array_new();
    for (guint i = 0; i < targets->len; i++)
      if (scn_live_gateway(s.l, targets->pdata[i]) == (int)gws->len)
        g_ptr_array_add(gws, targets->pdata[i]);
    jh.gateways = gws;
    jn = live_journal_create(jpath, &jh, &err);
    g_ptr_array_unref(gws);
  }
  g_ptr_array_unref(targets);
  g_free(text);
  if (!jn) {
    fprintf(stderr, "mailsim serve: %s\n", err->message);
    goto out;
  }
  scn_live_set_journal(s.l, jn);
  const char *ca = scn_world_ca_pem(scn_live_world(s.l));
  if (ca_out) {
    if (!ca) {
      fprintf(stderr, "mailsim serve: --ca-out: scenario %s has no TLS\n", cfg->name);
      goto out;
    }
    if (!write_file(ca_out, ca, &err)) {
      fprintf(stderr, "mailsim serve: --ca-out: %s\n", err->message);
      goto out;
    }
  }
  s.ls = live_sock_new(&sock_in, &s, NULL);
  GString *table = g_string_new(NULL);
  GString *json = g_string_new("{\"services\":[");
  for (guint i = 0; i < s.maps->len; i++) {
    mapping *m = &g_array_index(s.maps, mapping, i);
    m->gw = scn_live_gateway(s.l, m->host);
    uint16_t bound = 0;
    int idx = live_sock_listen(s.ls, m->addr, m->lport, true, m->udp, &bound, &err);
    if (idx < 0) {
      fprintf(stderr, "mailsim serve: --listen for %s:%u: %s\n", m->host, m->port, err->message);
      g_string_free(table, TRUE);
      g_string_free(json, TRUE);
      goto out;
    }
    g_assert((guint)idx == i);
    m->lport = bound;
    bool v6 = strchr(m->addr, ':') != NULL;
    g_string_append_printf(table, "  %s%s%s:%-5u  ->  %s:%u  (%s, %s)\n", v6 ? "[" : "", m->addr,
                           v6 ? "]" : "", bound, m->host, m->port, m->service,
                           m->udp ? "tcp+udp" : "tcp");
    g_string_append_printf(json, "%s{\"service\":\"%s\",\"host\":", i ? "," : "", m->service);
    append_json_str(json, m->host);
    g_string_append_printf(json, ",\"port\":%u,\"listen\":", m->port);
    append_json_str(json, m->addr);
    g_string_append_printf(json, ",\"listen_port\":%u,\"proto\":\"%s\"}", bound,
                           m->udp ? "tcp+udp" : "tcp");
  }
  g_string_append(json, "],\"trace\":");
  append_json_str(json, tpath);
  g_string_append(json, ",\"journal\":");
  append_json_str(json, jpath);
  g_string_append(json, ",\"ca\":");
  if (ca_out)
    append_json_str(json, ca_out);
  else
    g_string_append(json, "null");
  g_string_append(json, "}\n");
  printf("mailsim serve: %s (seed %" G_GUINT64_FORMAT ", speed %g), listening:\n%s"
         "trace %s, journal %s; stop with Ctrl-C\n",
         cfg->name, (guint64)seed, s.speed, table->str, tpath, jpath);
  fflush(stdout);
  g_string_free(table, TRUE);
  bool pf_ok = !ports_file || write_file(ports_file, json->str, &err);
  g_string_free(json, TRUE);
  if (!pf_ok) {
    fprintf(stderr, "mailsim serve: --ports-file: %s\n", err->message);
    goto out;
  }

  s.loop = g_main_loop_new(NULL, FALSE);
  s.wall0 = g_get_monotonic_time();
  guint tick = g_timeout_add(5, on_tick, &s);
  guint sig_int = g_unix_signal_add(SIGINT, on_signal, &s);
  guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &s);
  signal(SIGPIPE, SIG_IGN);
  /* A crash still writes the trace up to its last complete record (the
   * stop signals are this command's own, above). */
  trace_guard_install(tw, false);
  g_main_loop_run(s.loop);
  g_source_remove(tick);
  g_source_remove(sig_int);
  g_source_remove(sig_term);
  advance(&s);
  live_input end = {.kind = LIVE_IN_END};
  scn_live_input(s.l, &end);
  scn_live_finish(s.l);
  char b[SIM_TIME_BUFSZ];
  fprintf(stderr, "mailsim serve: stopped at %s simulated\n",
          sim_time_format_short(scn_live_now(s.l), b));
  status = 0;
  trace_guard_remove(tw);
  if (!trace_writer_close(tw, &err)) {
    fprintf(stderr, "mailsim serve: %s\n", err->message);
    status = 2;
  }
  live_journal *j = jn;
  jn = NULL;
  if (!live_journal_close(j, err ? NULL : &err)) {
    fprintf(stderr, "mailsim serve: journal %s: write failed\n", jpath);
    status = 2;
  }
out:
  if (jn)
    live_journal_close(jn, NULL);
  live_sock_free(s.ls);
  scn_live_free(s.l);
  if (s.loop)
    g_main_loop_unref(s.loop);
  g_array_unref(s.maps);
  g_array_unref(s.paused);
  trace_guard_remove(tw);
  trace_writer_free(tw);
  scn_config_free(cfg);
  if (err)
    g_error_free(err);
  g_free(why);
  g_free(def_trace);
  g_free(def_journal);
  g_strfreev(listens);
  g_free(speed_s);
  g_free(ca_out);
  g_free(trace_path);
  g_free(journal_path);
  g_free(duration_s);
  g_free(ports_file);
  g_free(seed_s);
  g_free(detail_s);
  return status;
}

int cli_cmd_replay(int argc, char **argv) {
  char *trace_path = NULL;
  GOptionEntry entries[] = {
      {"trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
       "Write the trace here ('-' = stdout; default: JOURNAL with .replay.jsonl appended)", "FILE"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  if (!cli_parse("replay", "JOURNAL",
                 "Reruns a live session (mailsim serve) from its journal, with no sockets: the\n"
                 "same scenario, seed and gateways, each outside input at its journaled simulated\n"
                 "time. The trace is byte-identical to the one the live session wrote.\n"
                 "Exit status: 0 replayed, 1 the journal cannot be reproduced by this build,\n"
                 "2 bad usage or a bad journal.",
                 entries, &argc, &argv)) {
    g_free(trace_path);
    return 2;
  }
  if (argc != 2) {
    fprintf(stderr, "mailsim replay: expected one JOURNAL file\nTry 'mailsim replay --help'.\n");
    g_free(trace_path);
    return 2;
  }
  char *def = g_strdup_printf("%s.replay.jsonl", argv[1]);
  GError *err = NULL;
  int st = scn_live_replay(argv[1], trace_path ? trace_path : def, &err);
  if (st != 0) {
    fprintf(stderr, "mailsim replay: %s\n", err ? err->message : "failed");
    g_clear_error(&err);
  }
  g_free(def);
  g_free(trace_path);
  return st;
}
