#!/usr/bin/python3
"""dkimpy as an independent DKIM peer for tests/test_dkim.c.

  dkim_pypeer.py verify MSG KEYS      prints one result per signature, top first
  dkim_pypeer.py sign MSG KEY ALG SELECTOR DOMAIN HCANON BCANON HEADERS [l]
                                      prints the DKIM-Signature field (with l=
                                      when the last argument is "l")

KEYS: lines "name<TAB>record text" answering TXT lookups; KEY: a PEM RSA
private key or a base64 Ed25519 seed; HEADERS: colon-separated names.
Exit 77 when dkimpy is not importable.
"""
import sys

try:
    import dkim
except ImportError:
    print("SKIP: python3-dkim (dkimpy) is not installed")
    sys.exit(77)


def main():
    mode = sys.argv[1]
    msg = open(sys.argv[2], "rb").read()
    if mode == "verify":
        keys = {}
        for line in open(sys.argv[3], "rb").read().splitlines():
            name, rec = line.split(b"\t", 1)
            keys[name.lower().rstrip(b".")] = rec

        def dnsfunc(name, timeout=5):
            if isinstance(name, str):
                name = name.encode()
            return keys.get(name.lower().rstrip(b"."))

        d = dkim.DKIM(msg, minkey=1024)
        n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
        for i in range(n):
            try:
                ok = d.verify(idx=i, dnsfunc=dnsfunc)
            except dkim.DKIMException as e:
                print("error", e)
                continue
            print("pass" if ok else "fail")
    elif mode == "sign":
        key, alg, sel, dom, hc, bc, hdrs = sys.argv[3:10]
        keydata = open(key, "rb").read()
        sig = dkim.sign(msg, sel.encode(), dom.encode(), keydata,
                        canonicalize=(hc.encode(), bc.encode()),
                        signature_algorithm=alg.encode(),
                        include_headers=[h.encode() for h in hdrs.split(":")],
                        length=len(sys.argv) > 10 and sys.argv[10] == "l")
        sys.stdout.buffer.write(sig)
    else:
        sys.exit(2)


main()
