#!/usr/bin/env python3
"""Real peers for protocols/tls: the openssl command line tools.

1. `openssl verify` accepts the generated leaf against the generated CA at
   the simulated epoch and refuses it after its fixed end date; `openssl x509`
   sees the SAN names.
2. `openssl s_client` (a real client) handshakes with tls_conn as a server
   over loopback, verifies the chain and the name, and gets its line echoed.
3. tls_conn as a client handshakes with `openssl s_server -www` and reads
   the HTTP reply.

Usage: tls_peer_test.py TLS_PEER_TOOL. Exit 77 (skip) without openssl."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

EPOCH = 1767225600  # TLS_EPOCH_UNIX: 2026-01-01T00:00:00Z
AFTER = 2051222400  # TLS_CERT_NOT_AFTER


def check(cond, what, got):
    if not cond:
        print(f"FAIL {what}: got {got!r}")
        sys.exit(1)
    print(f"ok   {what}")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def main():
    tool = sys.argv[1]
    openssl = shutil.which("openssl")
    if openssl is None:
        print("openssl not installed: skipped")
        return 77
    d = tempfile.mkdtemp(prefix="tls_peer_")
    try:
        r = run([tool, "gen", d])
        check(r.returncode == 0, "gen", r.stderr)
        ca, cert, key = (os.path.join(d, f) for f in ("ca.pem", "cert.pem", "key.pem"))
        with open(cert) as f:
            first = f.read()
        run([tool, "gen", d])
        with open(cert) as f:
            check(f.read() == first, "gen is reproducible", "different bytes")

        r = run([openssl, "verify", "-CAfile", ca, "-attime", str(EPOCH), cert])
        check(r.returncode == 0 and r.stdout.strip().endswith(": OK"), "openssl verify at the epoch", r.stdout + r.stderr)
        r = run([openssl, "verify", "-CAfile", ca, "-attime", str(AFTER + 1), cert])
        check(r.returncode != 0 and "expired" in (r.stdout + r.stderr), "openssl verify after the end date", r.stdout + r.stderr)
        r = run([openssl, "x509", "-in", cert, "-noout", "-ext", "subjectAltName", "-serial", "-dates"])
        out = r.stdout
        check("DNS:mx.example, IP Address:127.0.0.1" in out, "SAN", out)
        check("notBefore=Jan  1 00:00:00 2025 GMT" in out and "notAfter=Jan  1 00:00:00 2035 GMT" in out, "validity", out)
        r = run([openssl, "x509", "-in", ca, "-noout", "-subject", "-serial"])
        check("subject=CN = mailsim CA" in r.stdout and "serial=01" in r.stdout, "CA subject and serial", r.stdout)
        r = run([openssl, "pkey", "-in", key, "-noout", "-text"])
        check(r.returncode == 0 and "ED25519" in r.stdout, "key is Ed25519 PKCS#8", r.stdout + r.stderr)

        # 2. openssl s_client -> tls_conn server
        srv = subprocess.Popen([tool, "serve"], stdout=subprocess.PIPE, text=True)
        try:
            line = srv.stdout.readline().split()
            check(len(line) == 2 and line[0] == "PORT", "server port", line)
            r = run([openssl, "s_client", "-connect", f"127.0.0.1:{line[1]}", "-CAfile", ca,
                     "-servername", "mx.example", "-verify_hostname", "mx.example",
                     "-verify_return_error", "-brief", "-ign_eof"], input="hello tls\n")
            both = r.stdout + r.stderr
            check("Protocol version: TLSv1.3" in both, "s_client: TLS 1.3", both)
            check("Ciphersuite: TLS_AES_256_GCM_SHA384" in both, "s_client: cipher", both)
            check("Verification: OK" in both, "s_client: chain and name verified", both)
            check("echo: hello tls" in r.stdout, "s_client: line echoed", both)
            out, _ = srv.communicate(timeout=30)
            check("ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384" in out and "sni=mx.example" in out,
                  "tls_conn server: established with SNI", out)
            check("GOT hello tls" in out, "tls_conn server: read the line", out)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()

        # 3. tls_conn client -> openssl s_server
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        ssrv = subprocess.Popen([openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert,
                                 "-key", key, "-www", "-naccept", "1", "-quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            out = ""
            for _ in range(100):  # until s_server listens; a refused connect exits 1
                r = run([tool, "connect", str(port), "mx.example"])
                if r.returncode == 0:
                    out = r.stdout
                    break
                time.sleep(0.1)
            check("ESTABLISHED TLSv1.3 TLS_AES_256_GCM_SHA384 x25519 verified=1 cn=mx.example sni=mx.example" in out,
                  "tls_conn client: established and verified", out)
            check("REPLY HTTP/1.0 200 ok" in out, "tls_conn client: HTTP reply read", out)
        finally:
            if ssrv.poll() is None:
                ssrv.kill()
            ssrv.wait()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
