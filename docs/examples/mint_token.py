#!/usr/bin/env python3
"""Mints a browser token for orderbook-gateway (docs/security.md, "Browser auth").

Your backend runs this (or the three lines of mint() in its own code) after it
has logged the user in, and hands the token to the page, which opens
  wss://gateway/ws/<client_id>?token=<token>
or sends {"action":"auth","token":"<token>"} as its first message.

  mint_token.py CLIENT_ID [--symbols AAPL,US.*] [--ttl 300]
                [--secret-file F | --private-key-file F [--algorithm RS256|ES256]]
                [--issuer I] [--audience A]

The HS256 secret is read from --secret-file or the JWT_SECRET environment
variable (the gateway's --jwt_secret), never from the command line. Needs
PyJWT (Debian: python3-jwt; RS256/ES256 also python3-cryptography).
"""
import argparse
import os
import sys
import time

import jwt


def mint(client_id, key, algorithm="HS256", ttl=300, symbols=None, issuer=None, audience=None):
    now = int(time.time())
    claims = {"sub": client_id, "iat": now, "exp": now + ttl}
    if symbols is not None:
        claims["symbols"] = symbols  # exact names and PREFIX.* patterns
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, key, algorithm=algorithm)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client_id", help="the token's sub: the client_id of /ws/{client_id}")
    parser.add_argument("--symbols", help="comma-separated symbols and PREFIX.* patterns; "
                        "omitted: every symbol")
    parser.add_argument("--ttl", type=int, default=300, help="seconds until exp (default 300)")
    parser.add_argument("--secret-file", help="HS256 secret file (else $JWT_SECRET)")
    parser.add_argument("--private-key-file", help="PEM private key (RS256/ES256)")
    parser.add_argument("--algorithm", choices=["RS256", "ES256"],
                        help="with --private-key-file (default: RS256)")
    parser.add_argument("--issuer")
    parser.add_argument("--audience")
    args = parser.parse_args()

    if args.private_key_file:
        with open(args.private_key_file, "rb") as f:
            key = f.read()
        algorithm = args.algorithm or "RS256"
    else:
        if args.secret_file:
            with open(args.secret_file, "rb") as f:
                key = f.read()
            # As the gateway reads JWT_SECRET_FILE: one trailing newline dropped.
            key = key[:-1] if key.endswith(b"\n") else key
            key = key[:-1] if key.endswith(b"\r") else key
        else:
            key = os.environ.get("JWT_SECRET", "").encode()
        if len(key) < 32:
            sys.exit("mint_token.py: the HS256 secret must be at least 32 bytes")
        algorithm = "HS256"
    symbols = args.symbols.split(",") if args.symbols is not None else None
    print(mint(args.client_id, key, algorithm, args.ttl, symbols, args.issuer, args.audience))


if __name__ == "__main__":
    main()
