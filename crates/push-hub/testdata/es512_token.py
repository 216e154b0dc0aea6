"""Signs the ES512 test token (testdata/es512.jwt) with Python's `cryptography`, an
implementation nobody here wrote: `python3 testdata/es512_token.py > testdata/es512.jwt`.

The token's claims grant publishing and subscribing to everything, with no expiry, for
testdata/keys/p521.key (a test-only key). The JWS signature is r || s, 66 bytes each (RFC 7518
section 3.4), not the DER that `cryptography` gives.
"""

import base64
import json
import pathlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


here = pathlib.Path(__file__).parent
key = serialization.load_pem_private_key((here / "keys/p521.key").read_bytes(), None)
header = {"alg": "ES512", "typ": "JWT"}
claims = {"mercure": {"publish": ["*"], "subscribe": ["*"]}}
signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA512()))
r, s = decode_dss_signature(der)
print(signing_input + "." + b64(r.to_bytes(66, "big") + s.to_bytes(66, "big")))
