/* Tests for smtp_srv: golden conversations with a scripted client, each fed
 * whole, byte by byte, at every split point and with decisions answered
 * late; smuggling, limits, submission, STARTTLS, AUTH, timers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_harness.h"
#include "smtp_srv.h"
#include "testutil.h"

#define GREET "E: CONNECT\nS: 220 mx.test ESMTP\n"
#define EHLO_CAPS_HEAD "S: 250-mx.test\nS: 250-PIPELINING\nS: 250-SIZE 10485760\nS: 250-VRFY\n"
#define EHLO_TAIL "S: 250-ENHANCEDSTATUSCODES\nS: 250-8BITMIME\nS: 250 DSN\n"
#define EHLO_OK                                                                                    \
  "E: EHLO c.test\n" EHLO_CAPS_HEAD "S: 250-STARTTLS\nS: 250-AUTH PLAIN LOGIN\n" EHLO_TAIL
#define BYE "S: 221 2.0.0 Bye\nE: CLOSE quit\n"
#define PLAIN_ALICE "AGFsaWNlAHNlY3JldA=="

typedef enum {
  CFG_DEFAULT,
  CFG_NORMALIZE,
  CFG_SMALL,      /* max_size 100, max_recipients 2, max_errors 3 */
  CFG_SUBMISSION, /* require_auth + require_tls_for_auth */
  CFG_SUBMISSION_NOTLS,
  CFG_NO_ESC, /* ENHANCEDSTATUSCODES off */
  CFG_NO_DSN,
  CFG_RELAY_550,
} cfg_kind;

static void make_config(cfg_kind k, smtp_srv_config *c) {
  harness_config(c);
  switch (k) {
  case CFG_NORMALIZE:
    c->bare_policy = SMTP_SRV_BARE_NORMALIZE;
    break;
  case CFG_SMALL:
    c->max_size = 100, c->max_recipients = 2, c->max_errors = 3;
    break;
  case CFG_SUBMISSION:
    c->require_auth = c->require_tls_for_auth = true;
    break;
  case CFG_SUBMISSION_NOTLS:
    c->require_auth = true;
    break;
  case CFG_NO_ESC:
    c->ext_enhancedstatuscodes = false;
    break;
  case CFG_NO_DSN:
    c->ext_dsn = c->ext_8bitmime = false;
    break;
  case CFG_RELAY_550:
    c->relay_reject_code = 550;
    break;
  default:
    break;
  }
}

typedef struct {
  const char *name;
  cfg_kind cfg;
  const char *script;
  size_t len; /* 0: strlen(script) */
  const char *want;
} conv;

static const conv convs[] = {
    {"basic transaction, dot-unstuffing", CFG_DEFAULT,
     "EHLO c.test\r\nMAIL FROM:<alice@a.test>\r\nRCPT TO:<bob@b.test>\r\n"
     "RCPT TO:<carol@b.test>\r\nDATA\r\nSubject: hi\r\n\r\n..dot\r\n.\r\nline\r\n.\r\nQUIT\r\n",
     0,
     GREET EHLO_OK "E: MAIL <alice@a.test>\nS: 250 2.1.0 Ok\n"
                   "E: RCPT <bob@b.test>\nS: 250 2.1.5 Ok\n"
                   "E: RCPT <carol@b.test>\nS: 250 2.1.5 Ok\n"
                   "S: 354 End data with <CR><LF>.<CR><LF>\n"
                   "E: MESSAGE <alice@a.test> -> <bob@b.test> <carol@b.test> 21: "
                   "Subject: hi\\r\\n\\r\\n.dot\\r\\n\n"
                   "S: 250 2.0.0 Ok: queued as Q1\n"
                   "S: 500 5.5.2 Error: command not recognized\n"
                   "S: 500 5.5.2 Error: command not recognized\n" BYE},
    {"HELO gives a plain reply", CFG_DEFAULT, "HELO c.test\r\nHELO\r\nQUIT\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nS: 501 5.5.4 Syntax: EHLO hostname\n" BYE},
    {"sequence errors", CFG_DEFAULT,
     "MAIL FROM:<a@b.c>\r\nEHLO c.test\r\nRCPT TO:<x@y.z>\r\nDATA\r\nMAIL FROM:<a@b.c>\r\n"
     "DATA\r\nMAIL FROM:<a@b.c>\r\nFOO\r\nEXPN x\r\nBDAT 10\r\ndata\r\nQUIT\r\n",
     0,
     GREET "S: 503 5.5.1 Error: send HELO/EHLO first\n" EHLO_OK
           "S: 503 5.5.1 Error: need MAIL command\nS: 503 5.5.1 Error: need RCPT command\n"
           "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\nS: 554 5.5.1 Error: no valid recipients\n"
           "S: 503 5.5.1 Error: nested MAIL command\n"
           "S: 500 5.5.2 Error: command not recognized\n"
           "S: 502 5.5.1 Error: command not implemented\n"
           "S: 502 5.5.1 Error: command not implemented\n"
           "S: 554 5.5.1 Error: no valid recipients\n" BYE},
    {"NOOP RSET VRFY HELP", CFG_DEFAULT,
     "EHLO c.test\r\nnoop\r\nVRFY bob\r\nVRFY\r\nHELP\r\nMAIL FROM:<>\r\nRSET\r\n"
     "RCPT TO:<x@y.z>\r\nQUIT\r\n",
     0,
     GREET EHLO_OK
     "S: 250 2.0.0 Ok\n"
     "S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\n"
     "S: 501 5.5.4 Syntax: VRFY address\n"
     "S: 214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH\n"
     "E: MAIL <>\nS: 250 2.1.0 Ok\nS: 250 2.0.0 Ok\nS: 503 5.5.1 Error: need MAIL command\n" BYE},
    {"owner rejections and relay", CFG_DEFAULT,
     "EHLO c.test\r\nMAIL FROM:<spammer@x.y>\r\nMAIL FROM:<a@b.c>\r\n"
     "RCPT TO:<unknown@b.test>\r\nRCPT TO:<later@b.test>\r\nRCPT TO:<u@outside.test>\r\n"
     "DATA\r\nRCPT TO:<ok@b.test>\r\nDATA\r\nVIRUS\r\n.\r\nQUIT\r\n",
     0,
     GREET EHLO_OK "E: MAIL <spammer@x.y>\nS: 550 5.7.1 Error: sender rejected\n"
                   "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
                   "E: RCPT <unknown@b.test>\nS: 550 5.1.1 Error: user unknown\n"
                   "E: RCPT <later@b.test>\nS: 450 4.2.0 Error: greylisted\n"
                   "E: RCPT <u@outside.test>\nS: 554 5.7.1 <u@outside.test>: Relay access denied\n"
                   "S: 554 5.5.1 Error: no valid recipients\n"
                   "E: RCPT <ok@b.test>\nS: 250 2.1.5 Ok\n"
                   "S: 354 End data with <CR><LF>.<CR><LF>\n"
                   "E: MESSAGE <a@b.c> -> <ok@b.test> 7: VIRUS\\r\\n\n"
                   "S: 554 5.7.0 Error: virus found\n" BYE},
    {"relay 550", CFG_RELAY_550, "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<outside@x.y>\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <outside@x.y>\nS: 550 5.7.1 <outside@x.y>: Relay access denied\n"},
    {"pipelined second transaction after a real end", CFG_DEFAULT,
     "EHLO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\none\r\n.\r\n"
     "MAIL FROM:<d@e.f>\r\nRCPT TO:<x@y.z>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n",
     0,
     GREET EHLO_OK
     "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\nE: RCPT <x@y.z>\nS: 250 2.1.5 Ok\n"
     "S: 354 End data with <CR><LF>.<CR><LF>\n"
     "E: MESSAGE <a@b.c> -> <x@y.z> 5: one\\r\\n\nS: 250 2.0.0 Ok: queued as Q1\n"
     "E: MAIL <d@e.f>\nS: 250 2.1.0 Ok\nE: RCPT <x@y.z>\nS: 250 2.1.5 Ok\n"
     "S: 354 End data with <CR><LF>.<CR><LF>\n"
     "E: MESSAGE <d@e.f> -> <x@y.z> 5: two\\r\\n\nS: 250 2.0.0 Ok: queued as Q2\n" BYE},
    {"empty message and dot lines", CFG_DEFAULT,
     "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n.\r\n"
     "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n..\r\n...\r\n.x\r\n.\r\n",
     0,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nS: 354 End data with <CR><LF>.<CR><LF>\n"
           "E: MESSAGE <a@b.c> -> <x@y.z> 0: \nS: 250 2.0.0 Ok: queued as Q1\n"
           "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nS: 354 End data with <CR><LF>.<CR><LF>\n"
           "E: MESSAGE <a@b.c> -> <x@y.z> 10: .\\r\\n..\\r\\nx\\r\\n\n"
           "S: 250 2.0.0 Ok: queued as Q2\n"},
    {"normalize: runs of data octets around dots, bare CR and NUL", CFG_NORMALIZE,
     "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n"
     "ab.cd.\r\n.ef..\rgh.ij\n..k\r\r\nz\0y\r\n.\r\n",
     sizeof("HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n"
            "ab.cd.\r\n.ef..\rgh.ij\n..k\r\r\nz\0y\r\n.\r\n") -
         1,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nS: 354 End data with <CR><LF>.<CR><LF>\n"
           "E: MESSAGE <a@b.c> -> <x@y.z> 32: ab.cd.\\r\\nef..\\r\\ngh.ij\\r\\n.k\\r\\n\\r\\nz\n"
           "S: 250 2.0.0 Ok: queued as Q1\n"},
    {"ESMTP parameters are carried", CFG_DEFAULT,
     "EHLO c.test\r\nMAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=abc+2B1 AUTH=<>\r\n"
     "RCPT TO:<x@y.z> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y.z\r\n"
     "RCPT TO:<w@y.z> NOTIFY=NEVER,DELAY\r\nRCPT TO:<w@y.z> FOO=1\r\n"
     "RSET\r\nMAIL FROM:<a@b.c> SIZE=20000000\r\nMAIL FROM:<a@b.c> SIZE=x\r\n"
     "MAIL FROM:<a@b.c> FOO\r\nMAIL FROM:<a@b.c> SIZE=1 SIZE=2\r\nMAIL FROM:<@r.s:a@b.c>\r\n",
     0,
     GREET EHLO_OK "E: MAIL <a@b.c> size=1000 body=8BITMIME ret=HDRS envid=abc+2B1 auth=<>\n"
                   "S: 250 2.1.0 Ok\nE: RCPT <x@y.z> notify=6 orcpt=rfc822;x@y.z\n"
                   "S: 250 2.1.5 Ok\nS: 501 5.5.4 Bad parameter value\n"
                   "S: 555 5.5.4 Unsupported option\nS: 250 2.0.0 Ok\n"
                   "S: 552 5.3.4 Message size exceeds fixed limit\n"
                   "S: 501 5.5.4 Bad parameter value\nS: 555 5.5.4 Unsupported option\n"
                   "S: 501 5.5.4 Duplicate parameter\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"},
    {"address syntax", CFG_DEFAULT,
     "EHLO c.test\r\nMAIL FROM:a@b.c\r\nMAIL FROM:<a@b>c>\r\nMAIL FROM:<a b@c.d>\r\n"
     "MAIL FROM:<a@-b.c>\r\nMAIL FROM: <\"q s\"@b.c>\r\nRCPT TO:<>\r\nRCPT TO:<bob>\r\n"
     "RCPT TO:<Postmaster>\r\nRCPT TO:<u@[192.0.2.1]>\r\n",
     0,
     GREET EHLO_OK "S: 501 5.5.4 Syntax: MAIL FROM:<address>\n"
                   "S: 501 5.5.4 Syntax: MAIL FROM:<address>\n"
                   "S: 501 5.5.4 Syntax: MAIL FROM:<address>\n"
                   "S: 501 5.1.7 Bad sender address syntax\n"
                   "E: MAIL <\"q s\"@b.c>\nS: 250 2.1.0 Ok\n"
                   "S: 501 5.5.4 Syntax: RCPT TO:<address>\n"
                   "S: 501 5.1.3 Bad recipient address syntax\n"
                   "E: RCPT <Postmaster>\nS: 250 2.1.5 Ok\n"
                   "E: RCPT <u@[192.0.2.1]>\nS: 250 2.1.5 Ok\n"},
    {"DSN and 8BITMIME switched off", CFG_NO_DSN,
     "EHLO c.test\r\nMAIL FROM:<a@b.c> RET=FULL\r\nMAIL FROM:<a@b.c> BODY=8BITMIME\r\n"
     "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z> NOTIFY=NEVER\r\n",
     0,
     GREET "E: EHLO c.test\n" EHLO_CAPS_HEAD
           "S: 250-STARTTLS\nS: 250-AUTH PLAIN LOGIN\nS: 250 ENHANCEDSTATUSCODES\n"
           "S: 555 5.5.4 Unsupported option\nS: 555 5.5.4 Unsupported option\n"
           "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\nS: 555 5.5.4 Unsupported option\n"},
    {"no enhanced status codes", CFG_NO_ESC, "HELO c.test\r\nNOOP\r\nFOO\r\nQUIT\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nS: 250 Ok\nS: 500 Error: command not recognized\n"
           "S: 221 Bye\nE: CLOSE quit\n"},
    {"HELO refused by the owner", CFG_DEFAULT,
     "EHLO bad.helo\r\nMAIL FROM:<a@b.c>\r\nHELO c.test\r\n", 0,
     GREET "E: EHLO bad.helo\nS: 550 5.7.1 Error: bad HELO\n"
           "S: 503 5.5.1 Error: send HELO/EHLO first\nE: HELO c.test\nS: 250 mx.test\n"},
    {"421 from a decision closes; later input is ignored", CFG_DEFAULT,
     "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<bye@b.test>\r\nRCPT TO:<x@y.z>\r\nQUIT\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <bye@b.test>\nS: 421 4.3.2 mx.test Error: shutting down\n"
           "E: CLOSE 421 reply\n"},
    {"EHLO in a transaction resets it", CFG_DEFAULT,
     "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nHELO c.test\r\nDATA\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nE: HELO c.test\nS: 250 mx.test\n"
           "S: 503 5.5.1 Error: need RCPT command\n"},

/* ---- smuggling (RFC 5321 §2.3.8, §4.1.1.4; CVE-2023-51764 class) ---- */
#define SMUGGLE_HEAD "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\nhello"
#define SMUGGLE_TAIL "MAIL FROM:<evil@x.y>\r\nRCPT TO:<v@x.y>\r\nDATA\r\nevil\r\n.\r\nQUIT\r\n"
#define SMUGGLE_PRE                                                                                \
  GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"                       \
        "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nS: 354 End data with <CR><LF>.<CR><LF>\n"
#define SMUGGLE_REJECTED                                                                           \
  SMUGGLE_PRE "S: 550 5.5.2 Error: bare <CR> or <LF> in message data (RFC 5321 section "           \
              "2.3.8)\n" BYE
    {"smuggle <LF>.<LF>", CFG_DEFAULT, SMUGGLE_HEAD "\n.\n" SMUGGLE_TAIL, 0, SMUGGLE_REJECTED},
    {"smuggle <CR>.<CR>", CFG_DEFAULT, SMUGGLE_HEAD "\r.\r" SMUGGLE_TAIL, 0, SMUGGLE_REJECTED},
    {"smuggle <CR><LF>.<LF>", CFG_DEFAULT, SMUGGLE_HEAD "\r\n.\n" SMUGGLE_TAIL, 0,
     SMUGGLE_REJECTED},
    {"smuggle <LF>.<CR><LF>", CFG_DEFAULT, SMUGGLE_HEAD "\n.\r\n" SMUGGLE_TAIL, 0,
     SMUGGLE_REJECTED},
    {"smuggle <CR><LF>.<CR>", CFG_DEFAULT, SMUGGLE_HEAD "\r\n.\r" SMUGGLE_TAIL, 0,
     SMUGGLE_REJECTED},
    {"smuggle doubled CR <CR><LF>.<CR><CR><LF>", CFG_DEFAULT,
     SMUGGLE_HEAD "\r\n.\r\r\n" SMUGGLE_TAIL, 0, SMUGGLE_REJECTED},
    /* A real CRLF.CRLF after a bare CR is a real end (every server agrees, so
     * nothing is smuggled): message 1 is refused, the next one is the
     * client's own. */
    {"<CR><CR><LF>.<CR><LF> is a real end", CFG_DEFAULT, SMUGGLE_HEAD "\r\r\n.\r\n" SMUGGLE_TAIL, 0,
     SMUGGLE_PRE
     "S: 550 5.5.2 Error: bare <CR> or <LF> in message data (RFC 5321 section "
     "2.3.8)\nE: MAIL <evil@x.y>\nS: 250 2.1.0 Ok\nE: RCPT <v@x.y>\nS: 250 2.1.5 Ok\n"
     "S: 354 End data with <CR><LF>.<CR><LF>\n"
     "E: MESSAGE <evil@x.y> -> <v@x.y> 6: evil\\r\\n\nS: 250 2.0.0 Ok: queued as Q1\n" BYE},
    {"smuggle NUL before the dot", CFG_DEFAULT, SMUGGLE_HEAD "\r\n\0.\r\n" SMUGGLE_TAIL,
     sizeof(SMUGGLE_HEAD "\r\n\0.\r\n" SMUGGLE_TAIL) - 1,
     SMUGGLE_PRE "S: 550 5.6.0 Error: NUL character in message data\n" BYE},
    {"normalize: <LF>.<LF> is data", CFG_NORMALIZE, SMUGGLE_HEAD "\n.\n" SMUGGLE_TAIL, 0,
     SMUGGLE_PRE "E: MESSAGE <a@b.c> -> <x@y.z> 61: hello\\r\\n.\\r\\nMAIL FROM:<evil@x.y>\\r\\n"
                 "RCPT TO:<v@x.y>\\r\\nDATA\\r\\nevil\\r\\n\n"
                 "S: 250 2.0.0 Ok: queued as Q1\n" BYE},
    {"normalize: <CR><LF>.<LF> is data", CFG_NORMALIZE, SMUGGLE_HEAD "\r\n.\n" SMUGGLE_TAIL, 0,
     SMUGGLE_PRE "E: MESSAGE <a@b.c> -> <x@y.z> 61: hello\\r\\n.\\r\\nMAIL FROM:<evil@x.y>\\r\\n"
                 "RCPT TO:<v@x.y>\\r\\nDATA\\r\\nevil\\r\\n\n"
                 "S: 250 2.0.0 Ok: queued as Q1\n" BYE},
    {"normalize: <LF>.<CR><LF> is data", CFG_NORMALIZE, SMUGGLE_HEAD "\n.\r\n" SMUGGLE_TAIL, 0,
     SMUGGLE_PRE "E: MESSAGE <a@b.c> -> <x@y.z> 61: hello\\r\\n.\\r\\nMAIL FROM:<evil@x.y>\\r\\n"
                 "RCPT TO:<v@x.y>\\r\\nDATA\\r\\nevil\\r\\n\n"
                 "S: 250 2.0.0 Ok: queued as Q1\n" BYE},
    {"normalize: <CR>.<CR> is data", CFG_NORMALIZE, SMUGGLE_HEAD "\r.\r" SMUGGLE_TAIL, 0,
     SMUGGLE_PRE "E: MESSAGE <a@b.c> -> <x@y.z> 61: hello\\r\\n.\\r\\nMAIL FROM:<evil@x.y>\\r\\n"
                 "RCPT TO:<v@x.y>\\r\\nDATA\\r\\nevil\\r\\n\n"
                 "S: 250 2.0.0 Ok: queued as Q1\n" BYE},
    {"bare LF and CR in commands", CFG_DEFAULT, "HELO c.test\nNO\rOP\r\nNOOP\0\r\nNOOP\r\n",
     sizeof("HELO c.test\nNO\rOP\r\nNOOP\0\r\nNOOP\r\n") - 1,
     GREET "S: 500 5.5.2 Error: bare <LF> received\nS: 500 5.5.2 Error: bare <CR> received\n"
           "S: 500 5.5.2 Error: NUL character received\nS: 250 2.0.0 Ok\n"},
    {"normalize: bare LF ends a command", CFG_NORMALIZE, "HELO c.test\nNO\rOP\r\n", 0,
     GREET "E: HELO c.test\nS: 250 mx.test\nS: 500 5.5.2 Error: bare <CR> received\n"},

    /* ---- limits ---- */
    {"size limit at MAIL and at the end of data", CFG_SMALL,
     "HELO c.test\r\nMAIL FROM:<a@b.c> SIZE=101\r\nMAIL FROM:<a@b.c> SIZE=100\r\n"
     "RCPT TO:<x@y.z>\r\nDATA\r\n"
     "0123456789012345678901234567890123456789012345678901234567890123456789\r\n"
     "0123456789012345678901234567890123456789\r\n.\r\nNOOP\r\n",
     0,
     GREET "E: HELO c.test\nS: 250 mx.test\nS: 552 5.3.4 Message size exceeds fixed limit\n"
           "E: MAIL <a@b.c> size=100\nS: 250 2.1.0 Ok\nE: RCPT <x@y.z>\nS: 250 2.1.5 Ok\n"
           "S: 354 End data with <CR><LF>.<CR><LF>\n"
           "S: 552 5.3.4 Error: message size exceeds fixed limit\nS: 250 2.0.0 Ok\n"},
    {"recipient limit, then too many errors", CFG_SMALL,
     "HELO c.test\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nRCPT TO:<w@y.z>\r\n"
     "RCPT TO:<v@y.z>\r\nFOO\r\nBAR\r\nNOOP\r\n",
     0,
     GREET "E: HELO c.test\nS: 250 mx.test\nE: MAIL <a@b.c>\nS: 250 2.1.0 Ok\n"
           "E: RCPT <x@y.z>\nS: 250 2.1.5 Ok\nE: RCPT <w@y.z>\nS: 250 2.1.5 Ok\n"
           "S: 452 4.5.3 Error: too many recipients\n"
           "S: 500 5.5.2 Error: command not recognized\n"
           "S: 500 5.5.2 Error: command not recognized\n"
           "S: 421 4.7.0 mx.test Error: too many errors\nE: CLOSE too many errors\n"},

    /* ---- submission and STARTTLS (RFC 6409, RFC 3207, RFC 4954) ---- */
    {"submission: STARTTLS, then AUTH, then MAIL", CFG_SUBMISSION,
     "EHLO c.test\r\nMAIL FROM:<a@b.c>\r\nAUTH PLAIN " PLAIN_ALICE "\r\nSTARTTLS\r\n"
     "MAIL FROM:<pipelined@x.y>\r\nRCPT TO:<p@x.y>\r\n" HARNESS_TLS
     "MAIL FROM:<x@y.z>\r\nEHLO c.test\r\nMAIL FROM:<alice@a.test>\r\nSTARTTLS\r\n"
     "AUTH PLAIN " PLAIN_ALICE "\r\nMAIL FROM:<alice@a.test>\r\nQUIT\r\n",
     0,
     GREET "E: EHLO c.test\n" EHLO_CAPS_HEAD "S: 250-STARTTLS\n" EHLO_TAIL
           "S: 530 5.7.0 Must issue a STARTTLS command first\n"
           "S: 538 5.7.11 Encryption required for requested authentication mechanism\n"
           "S: 220 2.0.0 Ready to start TLS\nE: STARTTLS\nT: tls up\n"
           "S: 503 5.5.1 Error: send HELO/EHLO first\n"
           "E: EHLO c.test\n" EHLO_CAPS_HEAD "S: 250-AUTH PLAIN LOGIN\n" EHLO_TAIL
           "S: 530 5.7.0 Authentication required\n"
           "S: 554 5.5.1 Error: TLS already active\n"
           "E: AUTH PLAIN [] [alice] [secret]\nS: 235 2.7.0 Authentication successful\n"
           "E: MAIL <alice@a.test>\nS: 250 2.1.0 Ok\n" BYE},
    {"submission without TLS requirement", CFG_SUBMISSION_NOTLS,
     "EHLO c.test\r\nMAIL FROM:<a@b.c>\r\nAUTH PLAIN " PLAIN_ALICE "\r\nAUTH PLAIN " PLAIN_ALICE
     "\r\nEHLO c.test\r\n",
     0,
     GREET EHLO_OK "S: 530 5.7.0 Authentication required\n"
                   "E: AUTH PLAIN [] [alice] [secret]\nS: 235 2.7.0 Authentication successful\n"
                   "S: 503 5.5.1 Error: already authenticated\n"
                   "E: EHLO c.test\n" EHLO_CAPS_HEAD "S: 250-STARTTLS\n" EHLO_TAIL},
    {"AUTH exchanges", CFG_DEFAULT, "EHLO c.test\r\nAUTH PLAIN\r\nYm9zcwBhbGljZQBzZWNyZXQ=\r\n", 0,
     GREET EHLO_OK "S: 334 \nE: AUTH PLAIN [boss] [alice] [secret]\n"
                   "S: 235 2.7.0 Authentication successful\n"},
    {"AUTH LOGIN without and with initial response", CFG_DEFAULT,
     "EHLO c.test\r\nAUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\nAUTH login YWxpY2U=\r\nc2VjcmV0\r\n", 0,
     GREET EHLO_OK "S: 334 VXNlcm5hbWU6\nS: 334 UGFzc3dvcmQ6\nE: AUTH LOGIN [] [alice] [wrong]\n"
                   "S: 535 5.7.8 Error: authentication failed\n"
                   "S: 334 UGFzc3dvcmQ6\nE: AUTH LOGIN [] [alice] [secret]\n"
                   "S: 235 2.7.0 Authentication successful\n"},
    {"AUTH errors", CFG_DEFAULT,
     "AUTH PLAIN x\r\nEHLO c.test\r\nAUTH\r\nAUTH CRAM-MD5\r\nAUTH PLAIN\r\n*\r\n"
     "AUTH PLAIN !!!!\r\nAUTH PLAIN AGFsaWNl\r\nAUTH LOGIN\r\nYW!p\r\n"
     "MAIL FROM:<a@b.c>\r\nAUTH PLAIN " PLAIN_ALICE "\r\n",
     0,
     GREET "S: 503 5.5.1 Error: send HELO/EHLO first\n" EHLO_OK
           "S: 501 5.5.4 Syntax: AUTH mechanism\n"
           "S: 504 5.5.4 Unrecognized authentication type\n"
           "S: 334 \nS: 501 5.0.0 Authentication aborted\n"
           "S: 501 5.5.2 Error: invalid base64 in authentication response\n"
           "S: 501 5.5.2 Error: malformed PLAIN response\n"
           "S: 334 VXNlcm5hbWU6\nS: 501 5.5.2 Error: invalid base64 in authentication response\n"
           "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\nS: 503 5.5.1 Error: MAIL transaction in progress\n"},
};

typedef struct {
  const char *label;
  split_plan plan;
} plan_row;

static char *run_conv(const conv *c, split_plan plan) {
  smtp_srv_config cfg;
  make_config(c->cfg, &cfg);
  size_t len = c->len ? c->len : strlen(c->script);
  return harness_run(&cfg, c->script, len, plan);
}

START_TEST(conversation) {
  const conv *c = &convs[_i];
  static const plan_row plans[] = {
      {"whole", {SPLIT_WHOLE, 0, false}},
      {"bytes", {SPLIT_BYTES, 0, false}},
      {"whole, late answers", {SPLIT_WHOLE, 0, true}},
      {"bytes, late answers", {SPLIT_BYTES, 0, true}},
  };
  for (size_t p = 0; p < G_N_ELEMENTS(plans); p++) {
    char *got = run_conv(c, plans[p].plan);
    ck_assert_msg(strcmp(got, c->want) == 0, "%s (%s):\ngot:\n%s\nwant:\n%s", c->name,
                  plans[p].label, got, c->want);
    g_free(got);
  }
}
END_TEST

START_TEST(conversation_every_split) {
  const conv *c = &convs[_i];
  size_t len = c->len ? c->len : strlen(c->script);
  for (size_t at = 1; at < len; at++) {
    char *got = run_conv(c, (split_plan){SPLIT_AT, at, at % 2 == 0});
    ck_assert_msg(strcmp(got, c->want) == 0, "%s (split at %zu):\ngot:\n%s\nwant:\n%s", c->name, at,
                  got, c->want);
    g_free(got);
  }
}
END_TEST

/* A renewed engine (smtp_srv_renew) answers every conversation as a new
 * one, whatever the session before it left behind: each conversation
 * after each other one, cut at its middle (mid-line, mid-DATA, a decision
 * pending) and whole with late answers (decisions pending at the end). */
START_TEST(renewed_engine) {
  const conv *c = &convs[_i];
  smtp_srv_config cfg;
  make_config(c->cfg, &cfg);
  size_t len = c->len ? c->len : strlen(c->script);
  for (size_t k = 0; k < G_N_ELEMENTS(convs); k++) {
    const conv *b = &convs[k];
    smtp_srv_config bcfg;
    make_config(b->cfg, &bcfg);
    size_t blen = b->len ? b->len : strlen(b->script);
    for (int cut = 0; cut < 2; cut++) {
      smtp_srv *spare = smtp_srv_new(&bcfg, NULL);
      g_free(harness_run_kept(&spare, &bcfg, b->script, cut ? blen / 2 : blen,
                              (split_plan){SPLIT_WHOLE, 0, !cut}));
      smtp_srv *before = spare;
      char *got =
          harness_run_kept(&spare, &cfg, c->script, len, (split_plan){SPLIT_BYTES, 0, false});
      ck_assert_ptr_eq(spare, before); /* the storage was reused */
      ck_assert_msg(strcmp(got, c->want) == 0, "%s after %s (%s):\ngot:\n%s\nwant:\n%s", c->name,
                    b->name, cut ? "cut" : "whole", got, c->want);
      g_free(got);
      smtp_srv_free(spare);
    }
  }
}
END_TEST

/* smtp_srv_keep: the first engine kept becomes the spare, a second is
 * freed (ASan reports a leak otherwise); renew of NULL makes a new one. */
START_TEST(keep_spare) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *spare = NULL;
  smtp_srv *a = smtp_srv_renew(spare, &cfg, NULL), *b = smtp_srv_new(&cfg, NULL);
  ck_assert_ptr_nonnull(a);
  smtp_srv_keep(&spare, a);
  ck_assert_ptr_eq(spare, a);
  smtp_srv_keep(&spare, b);
  ck_assert_ptr_eq(spare, a);
  smtp_srv_free(spare);
}
END_TEST

/* smtp_srv_keep_upto: engines parked up to MAX (taken back last in, first
 * out, each alone), those beyond freed, a list freed whole (ASan reports
 * a leak or a double free otherwise); keep of NULL does nothing. */
START_TEST(keep_spare_list) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  for (unsigned max = 0; max <= 4; max++) {
    smtp_srv *spares = NULL, *e[6], *back[6];
    for (int i = 0; i < 6; i++)
      e[i] = smtp_srv_new(&cfg, NULL);
    smtp_srv_keep_upto(&spares, NULL, max);
    for (int i = 0; i < 6; i++)
      smtp_srv_keep_upto(&spares, e[i], max);
    unsigned got = 0;
    for (smtp_srv *t; (t = smtp_srv_take(&spares)) != NULL;) {
      ck_assert_msg(got < max, "max %u: more than %u engines back", max, max);
      ck_assert_msg(t == e[max - 1 - got], "max %u: take %u: got another engine", max, got);
      back[got++] = smtp_srv_renew(t, &cfg, NULL); /* one engine, not the list */
      ck_assert_ptr_eq(back[got - 1], t);
    }
    ck_assert_msg(got == max, "max %u: got %u engines back", max, got);
    for (unsigned i = 0; i < got; i++)
      smtp_srv_keep_upto(&spares, back[i], max);
    smtp_srv_free(spares); /* the whole list */
  }
}
END_TEST

/* ---- direct engine tests ---- */

static char *out_str(smtp_srv *srv) {
  size_t n;
  const uint8_t *p = smtp_srv_output_peek(srv, &n);
  char *s = g_strndup((const char *)p, n);
  smtp_srv_output_consume(srv, n);
  return s;
}

START_TEST(connect_refused) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_event ev;
  ck_assert(smtp_srv_next_event(srv, &ev));
  ck_assert_int_eq(ev.type, SMTP_SRV_EV_DECIDE_CONNECT);
  ck_assert(!smtp_srv_accept(srv, ev.id + 1, 0)); /* a stale id does nothing */
  ck_assert(smtp_srv_reject(srv, ev.id, 554, "5.7.1", "mx.test No SMTP service here", 0));
  char *o = out_str(srv);
  ck_assert_str_eq(o, "554 5.7.1 mx.test No SMTP service here\r\n");
  g_free(o);
  ck_assert(smtp_srv_next_event(srv, &ev));
  ck_assert_int_eq(ev.type, SMTP_SRV_EV_CLOSE);
  ck_assert(smtp_srv_closed(srv));
  smtp_srv_feed(srv, "HELO x\r\n", 8, 1);
  ck_assert(!smtp_srv_next_event(srv, &ev));
  smtp_srv_free(srv);
}
END_TEST

START_TEST(idle_timeout) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  const int64_t min = INT64_C(60) * 1000000000;
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_event ev;
  ck_assert(smtp_srv_next_event(srv, &ev));
  ck_assert(smtp_srv_deadline(srv) == SMTP_NO_DEADLINE); /* waiting on the owner */
  smtp_srv_tick(srv, INT64_MAX);                         /* no timer: nothing happens */
  ck_assert(!smtp_srv_closed(srv));
  smtp_srv_accept(srv, ev.id, 10);
  ck_assert(smtp_srv_deadline(srv) == 10 + 5 * min);
  smtp_srv_feed(srv, "NOOP\r\n", 6, 20);
  ck_assert(smtp_srv_deadline(srv) == 20 + 5 * min);
  g_free(out_str(srv));
  smtp_srv_tick(srv, 20 + 5 * min - 1);
  ck_assert(!smtp_srv_closed(srv));
  smtp_srv_tick(srv, 20 + 5 * min);
  char *o = out_str(srv);
  ck_assert_str_eq(o, "421 4.4.2 mx.test Error: timeout exceeded\r\n");
  g_free(o);
  ck_assert(smtp_srv_next_event(srv, &ev));
  ck_assert_int_eq(ev.type, SMTP_SRV_EV_CLOSE);
  ck_assert_str_eq(ev.reason, "timeout");
  ck_assert(smtp_srv_deadline(srv) == SMTP_NO_DEADLINE);
  smtp_srv_free(srv);
}
END_TEST

START_TEST(long_lines) {
  /* 512 octets with CRLF pass; 513 are refused; a data line of 1000 passes, 1001 not. */
  smtp_srv_config cfg;
  harness_config(&cfg);
  GString *s = g_string_new("HELO c.test\r\nNOOP ");
  for (int i = 0; i < 505; i++) /* "NOOP " + 505 + CRLF = 512 octets */
    g_string_append_c(s, 'x');
  g_string_append(s, "\r\nNOOP ");
  for (int i = 0; i < 506; i++)
    g_string_append_c(s, 'y');
  g_string_append(s, "\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n");
  for (int i = 0; i < 998; i++)
    g_string_append_c(s, 'd');
  g_string_append(s, "\r\n.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nDATA\r\n");
  for (int i = 0; i < 999; i++)
    g_string_append_c(s, 'e');
  g_string_append(s, "\r\n.\r\n");
  const char *want =
      GREET "E: HELO c.test\nS: 250 mx.test\nS: 250 2.0.0 Ok\nS: 500 5.5.2 Error: line too long\n"
            "E: MAIL <a@b.c>\nS: 250 2.1.0 Ok\nE: RCPT <x@y.z>\nS: 250 2.1.5 Ok\n"
            "S: 354 End data with <CR><LF>.<CR><LF>\n";
  char *got = harness_run(&cfg, s->str, s->len, (split_plan){SPLIT_WHOLE, 0, false});
  ck_assert_msg(g_str_has_prefix(got, want), "got:\n%s", got);
  ck_assert_msg(strstr(got, "S: 250 2.0.0 Ok: queued as Q1\n"), "got:\n%s", got);
  ck_assert_msg(g_str_has_suffix(got, "S: 550 5.6.0 Error: message line longer than 1000 octets\n"),
                "got:\n%s", got);
  char *bytes = harness_run(&cfg, s->str, s->len, (split_plan){SPLIT_BYTES, 0, true});
  ck_assert_str_eq(bytes, got);
  g_free(bytes);
  g_free(got);
  /* An endless line never grows the buffer beyond the AUTH limit. */
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_event ev;
  smtp_srv_next_event(srv, &ev);
  smtp_srv_accept(srv, ev.id, 0);
  char junk[4096];
  memset(junk, 'z', sizeof junk);
  for (int i = 0; i < 64; i++)
    smtp_srv_feed(srv, junk, sizeof junk, i);
  ck_assert(smtp_srv_want_input(srv));
  smtp_srv_feed(srv, "\r\n", 2, 100);
  char *o = out_str(srv);
  ck_assert_str_eq(o, "220 mx.test ESMTP\r\n500 5.5.2 Error: line too long\r\n");
  g_free(o);
  smtp_srv_free(srv);
  g_string_free(s, TRUE);
}
END_TEST

START_TEST(flow_control) {
  /* While a decision is pending, input piles up and want_input turns false. */
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_event ev;
  smtp_srv_next_event(srv, &ev);
  ck_assert(smtp_srv_want_input(srv));
  char buf[8192];
  for (size_t i = 0; i < sizeof buf; i += 8)
    memcpy(buf + i, "NOOP  \r\n", 8);
  for (int i = 0; i < 9; i++)
    smtp_srv_feed(srv, buf, sizeof buf, 0);
  ck_assert(!smtp_srv_want_input(srv));
  size_t n;
  smtp_srv_output_peek(srv, &n);
  ck_assert_uint_eq(n, 0); /* nothing answered before the greeting */
  smtp_srv_accept(srv, ev.id, 1);
  ck_assert(smtp_srv_want_input(srv));
  smtp_srv_output_peek(srv, &n);
  ck_assert_uint_eq(n, strlen("220 mx.test ESMTP\r\n") + 9 * 1024 * strlen("250 2.0.0 Ok\r\n"));
  smtp_srv_free(srv);
}
END_TEST

static void count_trace(void *ctx, int64_t now, smtp_trace_kind kind, const char *text) {
  (void)now;
  GString *s = ctx;
  g_string_append_printf(s, "%s %s\n", smtp_trace_kind_name(kind), text);
}

START_TEST(trace_hook) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  GString *t = g_string_new(NULL);
  smtp_env env = {count_trace, t};
  smtp_srv *srv = smtp_srv_new(&cfg, &env);
  smtp_srv_event ev;
  smtp_srv_next_event(srv, &ev);
  smtp_srv_accept(srv, ev.id, 0);
  const char *in = "HELO c\r\nAUTH PLAIN " PLAIN_ALICE "\r\n";
  smtp_srv_feed(srv, in, strlen(in), 1);
  while (smtp_srv_next_event(srv, &ev))
    if (ev.id)
      smtp_srv_accept(srv, ev.id, 2);
  ck_assert_msg(strstr(t->str, "state CONNECT -> HELO\n"), "%s", t->str);
  ck_assert_msg(strstr(t->str, "send 220 mx.test ESMTP\n"), "%s", t->str);
  ck_assert_msg(strstr(t->str, "recv AUTH PLAIN ****\n"), "%s", t->str);
  ck_assert_msg(!strstr(t->str, PLAIN_ALICE), "secret leaked: %s", t->str);
  ck_assert_msg(strstr(t->str, "state AUTH_WAIT -> READY\n"), "%s", t->str);
  ck_assert_str_eq(smtp_srv_auth_user(srv), "alice");
  smtp_srv_free(srv);
  g_string_free(t, TRUE);
}
END_TEST

/* A renewed engine's authenticated user: each session's own (longer,
 * shorter, refused, none), NULL after renewal and after a refusal. */
START_TEST(auth_user_across_renewals) {
  static const struct {
    const char *user; /* NULL: no AUTH */
    bool ok;
  } rows[] = {{"alice", true}, {"bartholomew@example.org", true}, {"bo", true},
              {"carol", false}, {NULL, false}, {"dave-longer-than-before@x.test", true}};
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = NULL;
  for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
    srv = smtp_srv_renew(srv, &cfg, NULL);
    ck_assert_ptr_null(smtp_srv_auth_user(srv));
    smtp_srv_event ev;
    smtp_srv_next_event(srv, &ev);
    smtp_srv_accept(srv, ev.id, 0);
    GString *in = g_string_new("EHLO c\r\n");
    if (rows[r].user) {
      GString *raw = g_string_new(NULL);
      g_string_append_c(raw, 0);
      g_string_append(raw, rows[r].user);
      g_string_append_c(raw, 0);
      g_string_append(raw, "pw");
      char *b = g_base64_encode((const guchar *)raw->str, raw->len);
      g_string_append_printf(in, "AUTH PLAIN %s\r\n", b);
      g_free(b);
      g_string_free(raw, TRUE);
    }
    smtp_srv_feed(srv, in->str, in->len, 1);
    while (smtp_srv_next_event(srv, &ev))
      if (ev.type == SMTP_SRV_EV_DECIDE_AUTH && !rows[r].ok)
        smtp_srv_reject(srv, ev.id, 535, "5.7.8", "no", 2);
      else if (ev.id)
        smtp_srv_accept(srv, ev.id, 2);
    if (rows[r].ok)
      ck_assert_str_eq(smtp_srv_auth_user(srv), rows[r].user);
    else
      ck_assert_ptr_null(smtp_srv_auth_user(srv));
    g_string_free(in, TRUE);
  }
  smtp_srv_free(srv);
}
END_TEST

/* Pulls one event; fails the test if there is none. */
static smtp_srv_event must_event(smtp_srv *srv, smtp_srv_event_type want) {
  smtp_srv_event ev;
  ck_assert_msg(smtp_srv_next_event(srv, &ev), "no event, want %s", smtp_srv_event_type_name(want));
  ck_assert_msg(ev.type == want, "got %s want %s", smtp_srv_event_type_name(ev.type),
                smtp_srv_event_type_name(want));
  return ev;
}

static void feed_s(smtp_srv *srv, const char *s, int64_t now) {
  smtp_srv_feed(srv, s, strlen(s), now);
}

START_TEST(no_read_ahead) {
  /* RFC 2920 §3: a pipelined RCPT waits, unread, behind a pending MAIL. */
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 0);
  feed_s(srv, "HELO c\r\n", 1);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_HELO).id, 1);
  g_free(out_str(srv));
  feed_s(srv, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@y.z>\r\nQUIT\r\n", 2);
  smtp_srv_event ev = must_event(srv, SMTP_SRV_EV_DECIDE_MAIL);
  smtp_srv_event none;
  ck_assert(!smtp_srv_next_event(srv, &none));
  size_t n;
  smtp_srv_output_peek(srv, &n);
  ck_assert_uint_eq(n, 0);
  ck_assert_str_eq(smtp_srv_state_name(srv), "MAIL_WAIT");
  ck_assert(smtp_srv_deadline(srv) == SMTP_NO_DEADLINE);
  ck_assert(!smtp_srv_accept(srv, ev.id + 1, 3));
  ck_assert(smtp_srv_accept(srv, ev.id, 3));
  smtp_srv_event rc = must_event(srv, SMTP_SRV_EV_DECIDE_RCPT);
  ck_assert_str_eq(rc.rcpt->to, "x@y.z");
  ck_assert_str_eq(rc.mail->from, "a@b.c");
  ck_assert(!smtp_srv_accept(srv, ev.id, 3)); /* answered already */
  smtp_srv_reject(srv, rc.id, 550, "5.1.1", "no such user", 4);
  must_event(srv, SMTP_SRV_EV_CLOSE);
  char *o = out_str(srv);
  ck_assert_str_eq(o, "250 2.1.0 Ok\r\n550 5.1.1 no such user\r\n221 2.0.0 Bye\r\n");
  g_free(o);
  smtp_srv_free(srv);
}
END_TEST

START_TEST(starttls_forgets_everything) {
  /* RFC 3207 §4.2: after TLS the HELO name, the AUTH identity and any
   * pipelined plaintext are gone. */
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 0);
  feed_s(srv, "EHLO c\r\n", 1);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_HELO).id, 1);
  feed_s(srv, "AUTH PLAIN " PLAIN_ALICE "\r\n", 2);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_AUTH).id, 2);
  ck_assert_str_eq(smtp_srv_auth_user(srv), "alice");
  ck_assert_str_eq(smtp_srv_helo(srv), "c");
  g_free(out_str(srv));
  feed_s(srv, "STARTTLS\r\nMAIL FROM:<evil@x.y>\r\n", 3);
  must_event(srv, SMTP_SRV_EV_STARTTLS);
  feed_s(srv, "RCPT TO:<evil@x.y>\r\n", 4); /* still plaintext: discarded */
  smtp_srv_event none;
  ck_assert(!smtp_srv_next_event(srv, &none));
  char *o = out_str(srv);
  ck_assert_str_eq(o, "220 2.0.0 Ready to start TLS\r\n");
  g_free(o);
  ck_assert(!smtp_srv_tls_active(srv));
  smtp_srv_tls_started(srv, 5);
  ck_assert(smtp_srv_tls_active(srv));
  ck_assert_ptr_null(smtp_srv_helo(srv));
  ck_assert_ptr_null(smtp_srv_auth_user(srv));
  ck_assert(smtp_srv_deadline(srv) == 5 + cfg.timeout);
  feed_s(srv, "MAIL FROM:<a@b.c>\r\nSTARTTLS\r\n", 6);
  o = out_str(srv);
  ck_assert_str_eq(o, "503 5.5.1 Error: send HELO/EHLO first\r\n"
                      "503 5.5.1 Error: send HELO/EHLO first\r\n");
  g_free(o);
  ck_assert(!smtp_srv_next_event(srv, &none));
  smtp_srv_free(srv);
}
END_TEST

/* EHLO on ENGINE at NOW, accepted; returns the reply. */
static char *ehlo_reply(smtp_srv *srv, int64_t now) {
  feed_s(srv, "EHLO c.test\r\n", now);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_HELO).id, now);
  return out_str(srv);
}

#define EHLO_WIRE_HEAD "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-VRFY\r\n"
#define EHLO_WIRE_TAIL "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n"

/* The EHLO reply is formatted once and reused while its text is the
 * same: it must follow every change of its inputs (TLS up, AUTH done, a
 * renewal with another hostname or extensions, a hostname too long to
 * keep), and the same inputs must give the same bytes again. */
START_TEST(ehlo_reply_follows_its_inputs) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  smtp_srv *srv = smtp_srv_new(&cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 0);
  g_free(out_str(srv));
  const char *first = EHLO_WIRE_HEAD "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n" EHLO_WIRE_TAIL;
  for (int i = 0; i < 2; i++) {
    char *o = ehlo_reply(srv, 1);
    ck_assert_msg(strcmp(o, first) == 0, "EHLO %d: got\n%s", i, o);
    g_free(o);
  }
  feed_s(srv, "STARTTLS\r\n", 2);
  must_event(srv, SMTP_SRV_EV_STARTTLS);
  g_free(out_str(srv));
  smtp_srv_tls_started(srv, 3);
  char *o = ehlo_reply(srv, 4);
  ck_assert_str_eq(o, EHLO_WIRE_HEAD "250-AUTH PLAIN LOGIN\r\n" EHLO_WIRE_TAIL);
  g_free(o);
  feed_s(srv, "AUTH PLAIN " PLAIN_ALICE "\r\n", 5);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_AUTH).id, 5);
  g_free(out_str(srv));
  o = ehlo_reply(srv, 6); /* no second AUTH offered */
  ck_assert_str_eq(o, EHLO_WIRE_HEAD EHLO_WIRE_TAIL);
  g_free(o);
  ck_assert_str_eq(smtp_srv_helo(srv), "c.test");
  feed_s(srv, "EHLO d.test\r\n", 6); /* refused: no name any more */
  smtp_srv_reject(srv, must_event(srv, SMTP_SRV_EV_DECIDE_HELO).id, 550, NULL, NULL, 6);
  g_free(out_str(srv));
  ck_assert_ptr_null(smtp_srv_helo(srv));
  /* renewed: another hostname, no DSN, then the first inputs again */
  cfg.hostname = "other.test";
  cfg.ext_dsn = false;
  srv = smtp_srv_renew(srv, &cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 7);
  g_free(out_str(srv));
  ck_assert_ptr_null(smtp_srv_helo(srv)); /* nothing kept from the session before */
  o = ehlo_reply(srv, 8);
  ck_assert_str_eq(smtp_srv_helo(srv), "c.test");
  ck_assert_str_eq(o, "250-other.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-VRFY\r\n"
                      "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
                      "250 8BITMIME\r\n");
  g_free(o);
  cfg.hostname = "my.test"; /* the same length as before */
  cfg.ext_dsn = true;
  srv = smtp_srv_renew(srv, &cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 9);
  g_free(out_str(srv));
  o = ehlo_reply(srv, 9);
  ck_assert_str_eq(o + 13, first + 13); /* after the first line */
  ck_assert(g_str_has_prefix(o, "250-my.test\r\n"));
  g_free(o);
  harness_config(&cfg);
  srv = smtp_srv_renew(srv, &cfg, NULL);
  smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 9);
  g_free(out_str(srv));
  o = ehlo_reply(srv, 10);
  ck_assert_str_eq(o, first);
  g_free(o);
  /* a hostname longer than what is kept: formatted every time */
  char *host = g_strnfill(1500, 'h');
  cfg.hostname = host;
  for (int i = 0; i < 2; i++) {
    srv = smtp_srv_renew(srv, &cfg, NULL);
    smtp_srv_accept(srv, must_event(srv, SMTP_SRV_EV_DECIDE_CONNECT).id, 11);
    g_free(out_str(srv));
    o = ehlo_reply(srv, 12);
    ck_assert(g_str_has_prefix(o, "250-hhhh") && strlen(o) == 1500 + strlen(first) - 7);
    ck_assert(g_str_has_suffix(o, "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n" EHLO_WIRE_TAIL));
    g_free(o);
  }
  g_free(host);
  smtp_srv_free(srv);
}
END_TEST

START_TEST(extensions_off) {
  smtp_srv_config cfg;
  harness_config(&cfg);
  cfg.ext_pipelining = cfg.ext_size = cfg.ext_8bitmime = cfg.ext_enhancedstatuscodes = false;
  cfg.ext_starttls = cfg.ext_auth = cfg.ext_dsn = false;
  const char *script = "EHLO c.test\r\nSTARTTLS\r\nAUTH PLAIN " PLAIN_ALICE "\r\n"
                       "MAIL FROM:<a@b.c> SIZE=1\r\nMAIL FROM:<a@b.c> AUTH=<>\r\nHELP\r\n";
  char *got = harness_run(&cfg, script, strlen(script), (split_plan){SPLIT_BYTES, 0, false});
  ck_assert_str_eq(got,
                   GREET "E: EHLO c.test\nS: 250-mx.test\nS: 250 VRFY\n"
                         "S: 502 Error: command not implemented\n"
                         "S: 502 Error: authentication not enabled\n"
                         "S: 555 Unsupported option\nS: 555 Unsupported option\n"
                         "S: 214 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\n");
  g_free(got);
}
END_TEST

/* Commands and DATA lines longer and shorter than sixteen octets, each
 * octet in turn replaced by CR, LF, NUL, "." and "x": the transcript of
 * the script fed whole (lines scanned sixteen octets a step) is the one
 * fed octet by octet, under both bare-CR/LF policies, with answers given
 * at once and late. The script and five replacements are checked
 * against their exact transcript (the scan's results, not only its
 * agreement with itself). */
START_TEST(every_octet_every_place) {
  static const char script[] =
      "HELO c.test\r\nMAIL FROM:<abcdefghijklmnopqrstuvwxyz@b.c>\r\nRCPT TO:<x@y.z>\r\n"
      "DATA\r\n0123456789abcdefghijklmnopqrstuvwxyz0123\r\nshort\r\n"
      ".a dot line of more than sixteen octets\r\n0123456789abcdef\r\n.\r\nNOOP\r\n";
  static const char octets[] = {'\r', '\n', '\0', '.', 'x'};
  size_t len = sizeof script - 1;
  char m[sizeof script];
  static const split_plan plans[] = {
      {SPLIT_WHOLE, 0, false}, {SPLIT_BYTES, 0, false}, {SPLIT_WHOLE, 0, true},
      {SPLIT_BYTES, 0, true}};
  for (int pol = 0; pol < 2; pol++) {
    smtp_srv_config cfg;
    make_config(pol ? CFG_NORMALIZE : CFG_DEFAULT, &cfg);
    for (size_t at = 0; at < len; at++) {
      for (size_t k = 0; k < sizeof octets; k++) {
        memcpy(m, script, len);
        m[at] = octets[k];
        char *want = harness_run(&cfg, m, len, plans[1]);
        for (size_t p = 0; p < G_N_ELEMENTS(plans); p += 2) {
          char *got = harness_run(&cfg, m, len, plans[p]);
          char *late = harness_run(&cfg, m, len, plans[p + 1]);
          ck_assert_msg(strcmp(got, want) == 0 && strcmp(late, want) == 0,
                        "policy %d, 0x%02x at %zu:\ngot:\n%s\nlate:\n%s\nwant:\n%s", pol,
                        (unsigned)(unsigned char)octets[k], at, got, late, want);
          g_free(got);
          g_free(late);
        }
        g_free(want);
      }
    }
  }
  /* The whole script, and five exact cases (reject policy). */
  smtp_srv_config cfg;
  make_config(CFG_DEFAULT, &cfg);
  static const struct {
    size_t at;
    char octet;
    const char *has;
  } rows[] = {
      {0, 'H', "E: MESSAGE <abcdefghijklmnopqrstuvwxyz@b.c> -> <x@y.z> 107: "
               "0123456789abcdefghijklmnopqrstuvwxyz0123\\r\\nshort\\r\\na dot line of more "
               "than sixteen octets\\r\\n0123456789abcdef\\r\\n\n"},
      {114, '\r', "bare <CR> or <LF> in message data"}, /* "xyz0123" with a CR for its y */
      {124, '\n', "bare <CR> or <LF> in message data"}, /* in "short" */
      {100, '\0', "NUL character in message data"},
      {28, '\0', "S: 500 5.5.2 Error: NUL character received\n"}, /* in MAIL's address */
      {170, '.', "octets\\r\\n123456789abcdef\\r\\n\n"}, /* a dot line, unstuffed */
  };
  for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
    memcpy(m, script, len);
    m[rows[r].at] = rows[r].octet;
    char *got = harness_run(&cfg, m, len, plans[0]);
    ck_assert_msg(strstr(got, rows[r].has), "row %zu: got:\n%s\nwant it to hold: %s", r, got,
                  rows[r].has);
    g_free(got);
  }
}
END_TEST

START_TEST(random_input_never_breaks) {
  /* Deterministic noise made of SMTP fragments: the engine must neither
   * crash nor stall, whatever the order (run under ASan/UBSan in CI). */
  static const char *const frags[] = {"EHLO x\r\n",
                                      "HELO y\r\n",
                                      "MAIL FROM:<a@b.c>\r\n",
                                      "RCPT TO:<d@e.f>\r\n",
                                      "DATA\r\n",
                                      ".\r\n",
                                      "\r\n.\r\n",
                                      "\n.\n",
                                      "\r.\r",
                                      "RSET\r\n",
                                      "AUTH LOGIN\r\n",
                                      "AUTH PLAIN\r\n",
                                      "*\r\n",
                                      "YWxpY2U=\r\n",
                                      "STARTTLS\r\n",
                                      "NOOP\r\n",
                                      "\0",
                                      "\r",
                                      "\n",
                                      "x",
                                      "..",
                                      "BDAT 1\r\n",
                                      "MAIL FROM:<\"q\\\">\"@x>\r\n",
                                      "QUIT\r\n"};
  GRand *rng = g_rand_new_with_seed(20231218);
  for (int round = 0; round < 400; round++) {
    smtp_srv_config cfg;
    harness_config(&cfg);
    cfg.bare_policy = round % 2 ? SMTP_SRV_BARE_NORMALIZE : SMTP_SRV_BARE_REJECT;
    cfg.max_errors = 1000;
    smtp_srv *srv = smtp_srv_new(&cfg, NULL);
    int64_t now = 0;
    for (int i = 0; i < 60 && !smtp_srv_closed(srv); i++) {
      const char *f = frags[g_rand_int_range(rng, 0, G_N_ELEMENTS(frags))];
      smtp_srv_feed(srv, f, f[0] ? strlen(f) : 1, ++now);
      smtp_srv_event ev;
      while (smtp_srv_next_event(srv, &ev)) {
        if (ev.type == SMTP_SRV_EV_STARTTLS)
          smtp_srv_tls_started(srv, now);
        else if (ev.id && g_rand_boolean(rng))
          smtp_srv_accept(srv, ev.id, now);
        else if (ev.id)
          smtp_srv_reject(srv, ev.id, 450, NULL, NULL, now);
      }
      size_t n;
      smtp_srv_output_peek(srv, &n);
      smtp_srv_output_consume(srv, n);
      ck_assert(smtp_srv_closed(srv) || smtp_srv_deadline(srv) != SMTP_NO_DEADLINE);
    }
    smtp_srv_free(srv);
  }
  g_rand_free(rng);
}
END_TEST

int main(void) {
  Suite *s = suite_create("smtp_srv");
  TCase *tc = tcase_create("conversations");
  tcase_add_loop_test(tc, conversation, 0, G_N_ELEMENTS(convs));
  suite_add_tcase(s, tc);
  tc = tcase_create("every split point");
  tcase_add_loop_test(tc, conversation_every_split, 0, G_N_ELEMENTS(convs));
  suite_add_tcase(s, tc);
  tc = tcase_create("engine");
  tcase_add_loop_test(tc, renewed_engine, 0, G_N_ELEMENTS(convs));
  tcase_add_test(tc, keep_spare);
  tcase_add_test(tc, keep_spare_list);
  tcase_add_test(tc, connect_refused);
  tcase_add_test(tc, idle_timeout);
  tcase_add_test(tc, long_lines);
  tcase_add_test(tc, flow_control);
  tcase_add_test(tc, trace_hook);
  tcase_add_test(tc, auth_user_across_renewals);
  tcase_add_test(tc, no_read_ahead);
  tcase_add_test(tc, starttls_forgets_everything);
  tcase_add_test(tc, extensions_off);
  tcase_add_test(tc, ehlo_reply_follows_its_inputs);
  tcase_add_test(tc, random_input_never_breaks);
  tcase_add_test(tc, every_octet_every_place);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
