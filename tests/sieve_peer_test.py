#!/usr/bin/env python3
"""Real peer for the Sieve interpreter: Pigeonhole's sieve-test (Debian
package dovecot-sieve) and our sieve_tool run the same scripts on the same
messages and envelopes; the mailboxes and redirects they choose, and
whether they refuse a script, must agree.

The scripts are the RFC 5228 examples plus ones generated from our subset's
grammar with a seeded generator (random.Random(SEED): same scripts on every
run). Exits 77 (skipped) when sieve-test is not installed or cannot run
here.

usage: sieve_peer_test.py SIEVE_TOOL [COUNT]
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile

SEED = 5228

MESSAGES = [
    "From: \"Wile E. Coyote\" <coyote@desert.example>\r\n"
    "To: me@example.com, Road Runner <rr@acme.example>\r\n"
    "Cc: team: a@x.example, b@y.example;\r\n"
    "Subject: =?UTF-8?Q?Make_money_fast_=E2=82=AC?=\r\n"
    "X-Spam: Yes\r\n"
    "List-Id: <news.example.org>\r\n"
    "\r\n"
    "Body.\r\n",
    "From: boss@Example.COM\r\n"
    "To: me@example.com\r\n"
    "Subject: University diplomas\r\n"
    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
    "\r\n"
    "Hello.\r\n",
    "From: Friend <friend@elsewhere.example>\r\n"
    "To: pal@elsewhere.example\r\n"
    "Subject:   dinner at 8  \r\n"
    "X-Spam: no\r\n"
    "\r\n" + "x" * 70 + "\r\n" * 1 + ("y" * 78 + "\r\n") * 30,
]

ENVELOPES = [
    ("wile@desert.example", "me@example.com"),
    ("bounce+123@lists.example", "me@example.com"),  # sieve-test cannot take a null sender
    ("boss@example.com", "me+tag@example.com"),
]

HEADER_NAMES = ["subject", "from", "To", "x-spam", "list-id", "x-none", "cc"]
HEADER_KEYS = ["money", "Make money fast \u20ac", "make*", "*fast ?", "yes", "YES", "",
               "*", "?", "news.example.org", "<news.example.org>", "university*",
               "dinner at 8", "dinner*8", "coyote", "zzz", "*example*", "*\\**"]
ADDR_NAMES = ["from", "to", "cc", "reply-to", "sender"]
ADDR_KEYS = ["coyote@desert.example", "desert.example", "coyote", "me@example.com", "rr",
             "acme.example", "*.example", "b@y.example", "team", "example.com",
             "EXAMPLE.COM", "boss", "*@*", "*?@*", ""]
ENV_KEYS = ["wile@desert.example", "", "desert.example", "me", "me+tag", "example.com",
            "*", "me@example.com", "?"]
FOLDERS = ["Junk", "INBOX", "Lists", "inbox"]
REDIRECTS = ["a@b.example", "c@d.example"]

# Keys of the form "?" + literal + ... + "*" are left out: Pigeonhole 0.5.19
# (Debian 12) matches "abc" against "?x*" (see test_sieve.c match_table).

EXAMPLES = [
    'require ["fileinto"];\n'
    'if header :is "Sender" "owner-ietf-mta-filters@imc.org" { fileinto "filter"; }\n'
    'elsif address :DOMAIN :is ["From", "To"] "example.com" { keep; }\n'
    'elsif anyof (NOT address :all :contains ["To", "Cc", "Bcc"] "me@example.com",\n'
    '             header :matches "subject" ["*make*money*fast*", "*university*dipl*mas*"])\n'
    '  { fileinto "spam"; }\n'
    'else { fileinto "personal"; }\n',
    'require "fileinto";\n'
    'if header :contains "from" "coyote" { discard; }\n'
    'elsif header :contains ["subject"] ["$$$"] { discard; }\n'
    'else { fileinto "INBOX"; }\n',
    'if size :over 500K { discard; }\n',
    'if exists ["From","Date"] { redirect "a@b.example"; }\n',
    'require "envelope";\nif envelope :all :is "from" "wile@desert.example" { discard; }\n',
]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strlist(rng, pool, maxn=3):
    items = rng.sample(pool, rng.randint(1, min(maxn, len(pool))))
    if len(items) == 1 and rng.random() < 0.5:
        return quote(items[0])
    return "[" + ", ".join(quote(i) for i in items) + "]"


def match_tags(rng):
    tags = []
    if rng.random() < 0.8:
        tags.append(rng.choice([":is", ":contains", ":matches"]))
    if rng.random() < 0.3:
        tags.append(":comparator " + quote(rng.choice(["i;octet", "i;ascii-casemap"])))
    rng.shuffle(tags)
    return tags


def gen_test(rng, depth):
    # No "true" / "false": Pigeonhole drops code it proves dead (allof (false, ...),
    # if false {...}) before validating it, so an invalid test there would be
    # refused by us (RFC 5228: the script has an error) and accepted by it.
    kinds = ["header", "address", "envelope", "exists", "size"]
    if depth < 3:
        kinds += ["not", "allof", "anyof"] * 2
    k = rng.choice(kinds)
    if k in ("true", "false"):
        return k
    if k == "not":
        return "not " + gen_test(rng, depth + 1)
    if k in ("allof", "anyof"):
        return k + " (" + ", ".join(gen_test(rng, depth + 1) for _ in range(rng.randint(1, 3))) + ")"
    if k == "exists":
        return "exists " + strlist(rng, HEADER_NAMES)
    if k == "size":
        return "size " + rng.choice([":over", ":under"]) + " " + rng.choice(
            ["100", "500", "1K", "2K", "3K", "0"])
    tags = match_tags(rng)
    if k == "header":
        return " ".join(["header"] + tags + [strlist(rng, HEADER_NAMES), strlist(rng, HEADER_KEYS)])
    part = [rng.choice([":all", ":localpart", ":domain"])] if rng.random() < 0.7 else []
    tags = part + tags
    rng.shuffle(tags)
    if k == "address":
        names = strlist(rng, ADDR_NAMES)
        if rng.random() < 0.03:
            names = '["x-spam"]'  # not an address field: both must refuse the script
        return " ".join(["address"] + tags + [names, strlist(rng, ADDR_KEYS)])
    return " ".join(["envelope"] + tags + [strlist(rng, ["from", "to"]), strlist(rng, ENV_KEYS)])


def gen_action(rng):
    k = rng.choice(["keep", "discard", "fileinto", "fileinto", "redirect", "stop"])
    if k == "fileinto":
        return "fileinto " + quote(rng.choice(FOLDERS)) + ";"
    if k == "redirect":
        return "redirect " + quote(rng.choice(REDIRECTS)) + ";"
    return k + ";"


def gen_block(rng, depth):
    cmds = []
    for _ in range(rng.randint(1, 3)):
        if depth < 2 and rng.random() < 0.3:
            cmds.append(gen_if(rng, depth + 1))
        else:
            cmds.append(gen_action(rng))
    return "{ " + " ".join(cmds) + " }"


def gen_if(rng, depth):
    s = "if " + gen_test(rng, 0) + " " + gen_block(rng, depth)
    for _ in range(rng.randint(0, 2)):
        s += "\nelsif " + gen_test(rng, 0) + " " + gen_block(rng, depth)
    if rng.random() < 0.5:
        s += "\nelse " + gen_block(rng, depth)
    return s


def gen_script(rng):
    body = []
    for _ in range(rng.randint(1, 3)):
        body.append(gen_if(rng, 0) if rng.random() < 0.8 else gen_action(rng))
    return 'require ["fileinto", "envelope"];\n' + "\n".join(body) + "\n"


def norm_folder(f):
    return "INBOX" if f.upper() == "INBOX" else f


def ours(tool, script, msg, env):
    out = subprocess.run([tool, script, msg, env[0], env[1]], capture_output=True, text=True,
                         check=True).stdout
    if out.startswith("error:"):
        return "error"
    got = set()
    for line in out.splitlines():
        words = line.split(" ", 1)
        if words[0] == "runtime-error":
            continue
        if line in ("keep", "implicit keep"):
            got.add("folder:INBOX")
        elif words[0] == "fileinto":
            got.add("folder:" + norm_folder(words[1]))
        elif words[0] == "redirect":
            got.add("redirect:" + words[1].lower())
    return sorted(got)


def theirs(sieve_test, conf, script, msg, env):
    args = [sieve_test, "-c", conf, "-r", env[1], "-a", env[1]]
    args += ["-f", env[0]]
    p = subprocess.run(args + [script, msg], capture_output=True, text=True)
    text = p.stdout + p.stderr
    if "failed to compile" in text or "validation failed" in text:
        return "error"
    got = set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("* store message in folder: "):
            got.add("folder:" + norm_folder(line[len("* store message in folder: "):]))
        elif line.startswith("* redirect message to: "):
            got.add("redirect:" + line[len("* redirect message to: "):].strip("<>").lower())
    if "final result" not in text:
        raise RuntimeError("sieve-test said: " + text)
    return sorted(got)


def main():
    tool = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 250
    sieve_test = shutil.which("sieve-test")
    if not sieve_test:
        print("sieve-test (dovecot-sieve) not installed: skipped")
        return 77
    work = tempfile.mkdtemp(prefix="sieve_peer_")
    os.chmod(work, 0o755)
    os.makedirs(os.path.join(work, "mail"), exist_ok=True)
    os.chmod(os.path.join(work, "mail"), 0o777)
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("mail_uid = 65534\nmail_gid = 65534\nfirst_valid_uid = 1\n"
                "mail_location = maildir:%s/mail\n" % work)
    msgs = []
    for i, m in enumerate(MESSAGES):
        path = os.path.join(work, "m%d.eml" % i)
        with open(path, "w", newline="") as f:
            f.write(m)
        msgs.append(path)
    rng = random.Random(SEED)
    scripts = EXAMPLES + [gen_script(rng) for _ in range(count)]
    probe = os.path.join(work, "probe.sieve")
    with open(probe, "w") as f:
        f.write("keep;\n")
    for path in [conf, probe] + msgs:
        os.chmod(path, 0o644)
    try:
        if theirs(sieve_test, conf, probe, msgs[0], ENVELOPES[0]) != ["folder:INBOX"]:
            raise RuntimeError("probe gave an unexpected result")
    except (RuntimeError, OSError) as e:
        print("sieve-test cannot run here (%s): skipped" % e)
        return 77
    runs = fails = refused = 0
    for n, text in enumerate(scripts):
        sp = os.path.join(work, "s%d.sieve" % n)
        with open(sp, "w") as f:
            f.write(text)
        os.chmod(sp, 0o644)
        for mi, mp in enumerate(msgs):
            env = ENVELOPES[(n + mi) % len(ENVELOPES)]
            a = ours(tool, sp, mp, env)
            b = theirs(sieve_test, conf, sp, mp, env)
            runs += 1
            refused += a == "error"
            if a != b:
                fails += 1
                if fails <= 10:
                    print("MISMATCH script %d, message %d, envelope %r:\n%s\n  ours:   %s\n"
                          "  theirs: %s" % (n, mi, env, text, a, b))
    shutil.rmtree(work, ignore_errors=True)
    print("%d runs, %d refused by both, %d mismatches" % (runs, refused, fails))
    print("%d passed, %d failed" % (runs - fails, fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
