#!/usr/bin/env python3
"""Writes the stack exports of Fixtures/stacks/secrets/: secrets encrypted as Pulumi's passphrase
secrets provider encrypts them, by an implementation that shares nothing with policy-host's (PyPI
`cryptography`: PBKDF2HMAC and AESGCM over OpenSSL; policy-host uses swift-crypto over BoringSSL).

The format, from pulumi/pulumi (pkg/secrets/passphrase/manager.go, sdk/go/common/resource/config/crypt.go):

* `secrets_providers: {"type": "passphrase", "state": {"salt": "v1:<base64 salt>:<check>"}}`, where the
  salt is 8 random bytes and <check> is the string "pulumi" encrypted like any value;
* key = PBKDF2-HMAC-SHA256(passphrase, salt, 1 000 000 rounds, 32 bytes);
* a value is `v1:<base64 12-byte nonce>:<base64 AES-256-GCM ciphertext and 16-byte tag>` (no
  additional data) of the compact JSON text of the secret's value;
* a secret inside a secret is written with the CLI's NopEncrypter: its `ciphertext` is its JSON text.

Salts and nonces come from a seeded generator so that a rerun writes the same bytes: fine for
fixtures, never for real secrets.

    python3 -m venv /tmp/cryptovenv && /tmp/cryptovenv/bin/pip install cryptography
    /tmp/cryptovenv/bin/python Tests/Secrets/make_encrypted_exports.py             # the fixtures
    /tmp/cryptovenv/bin/python Tests/Secrets/make_encrypted_exports.py --bench 1000 /tmp/bench
        # /tmp/bench/bench-encrypted.json and bench-plaintext.json: 1,000 resources, one secret each
"""

import argparse
import base64
import json
import os
import random
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PASSPHRASE = "correct horse battery staple"
ROUNDS = 1_000_000
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Fixtures", "stacks", "secrets")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def compact(value) -> str:
    """JSON as Go's json.Marshal writes it: compact, non-ASCII as is."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Passphrase:
    """The passphrase secrets manager of one stack: a salt, a derived key, seeded nonces."""

    def __init__(self, passphrase: str, rng: random.Random):
        self.rng = rng
        self.salt = bytes(rng.getrandbits(8) for _ in range(8))
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=self.salt, iterations=ROUNDS)
        self.key = kdf.derive(passphrase.encode("utf-8"))

    def nonce(self, size: int = 12) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(size))

    def encrypt(self, plaintext: bytes, nonce: bytes = None) -> str:
        nonce = nonce if nonce is not None else self.nonce()
        return f"v1:{b64(nonce)}:{b64(AESGCM(self.key).encrypt(nonce, plaintext, None))}"

    @property
    def state(self) -> dict:
        return {"salt": f"v1:{b64(self.salt)}:{self.encrypt(b'pulumi')}"}


class Secret:
    """A secret in a fixture: encrypted, or plaintext in the `--show-secrets` twin."""

    def __init__(self, value):
        self.value = value


def serialize(value, crypter, inside_secret=False):
    """`SerializePropertyValue`: a secret's value is serialized with NopEncrypter, then encrypted."""
    if isinstance(value, Secret):
        inner = compact(serialize(value.value, crypter, inside_secret=True))
        if inside_secret:
            return {SIG: SECRET_SIG, "ciphertext" if crypter else "plaintext": inner}
        if crypter is None:
            return {SIG: SECRET_SIG, "plaintext": inner}
        return {SIG: SECRET_SIG, "ciphertext": crypter.encrypt(inner.encode("utf-8"))}
    if isinstance(value, dict):
        return {k: serialize(v, crypter, inside_secret) for k, v in value.items()}
    if isinstance(value, list):
        return [serialize(v, crypter, inside_secret) for v in value]
    return value


# MARK: The stack

STACK = "urn:pulumi:prod::payments::pulumi:pulumi:Stack::payments-prod"
PROVIDER = "urn:pulumi:prod::payments::pulumi:providers:aws::default_6_52_0"
DB = "urn:pulumi:prod::payments::aws:rds/instance:Instance::ledger"
BUCKET = "urn:pulumi:prod::payments::aws:s3/bucket:Bucket::receipts"

# The secret whose length the integration test's pack checks (19 characters).
DB_PASSWORD = "s3cr3t-ledger-pw-19"


def resources():
    """A stack with secrets of every shape, in inputs and outputs, the provider's inputs included."""
    return [
        {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack",
         "outputs": {"adminPassword": Secret(DB_PASSWORD), "bucketName": "receipts-prod"}},
        {"urn": PROVIDER, "custom": True, "id": "p-1", "type": "pulumi:providers:aws",
         "inputs": {"region": "eu-west-1", "secretKey": Secret("AKIA-not-a-real-key"), "version": "6.52.0"},
         "outputs": {"region": "eu-west-1", "secretKey": Secret("AKIA-not-a-real-key"), "version": "6.52.0"}},
        {"urn": DB, "custom": True, "id": "ledger-db", "type": "aws:rds/instance:Instance",
         "inputs": {
             "engine": "postgres",
             "password": Secret(DB_PASSWORD),
             "port": Secret(5432),
             "storageEncrypted": Secret(True),
             "allocatedStorage": Secret(20.5),
             "credentials": Secret({"user": "ledger", "pass": "hunter22", "roles": ["rw", "admin"]}),
             "tags": {"env": "prod", "token": Secret("tok-äöü-✓")},
             "connection": Secret({"host": "db.internal", "password": Secret("inner-pw"),
                                   "replicas": [Secret({"host": "r1", "key": Secret("k1")})]}),
             "maintenance": Secret(None),
             "emptyPassword": Secret(""),
             "list": [Secret("a"), "b", Secret(["c", 1])],
         },
         "outputs": {
             "engine": "postgres",
             "password": Secret(DB_PASSWORD),
             "port": Secret(5432),
             "endpoint": Secret("ledger.abc.eu-west-1.rds.amazonaws.com:5432"),
             "arn": "arn:aws:rds:eu-west-1:123456789012:db:ledger",
         },
         "parent": STACK, "provider": PROVIDER + "::p-1"},
        {"urn": BUCKET, "custom": True, "id": "receipts-prod", "type": "aws:s3/bucket:Bucket",
         "inputs": {"bucket": "receipts-prod", "acl": "private"},
         "outputs": {"bucket": "receipts-prod", "acl": "private", "arn": "arn:aws:s3:::receipts-prod"},
         "parent": STACK, "provider": PROVIDER + "::p-1"},
    ]


MANIFEST = {"time": "2026-11-20T10:00:00Z", "magic": "0f1e", "version": "v3.190.0"}


def deployment(version, provider, crypter, res=None):
    body = {"manifest": MANIFEST}
    if provider is not None:
        body["secrets_providers"] = provider
    body["resources"] = serialize(res if res is not None else resources(), crypter)
    return {"version": version, "deployment": body}


def checkpoint(version, provider, crypter):
    latest = {"manifest": MANIFEST, "secrets_providers": provider, "resources": serialize(resources(), crypter)}
    return {"version": version, "checkpoint": {"stack": "acme/payments/prod", "latest": latest}}


def write(name, doc):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(path)


# MARK: Providers that cannot be decrypted offline

def opaque(rng, n=48):
    """A ciphertext of a provider policy-host cannot reach: any bytes will do."""
    return b64(bytes(rng.getrandbits(8) for _ in range(n)))


def offline_only(rng):
    """Each provider the CLI writes that needs a service or a KMS, with three secrets."""
    cloud = lambda url: {"type": "cloud", "state": {"url": url, "encryptedkey": opaque(rng, 32)}}
    providers = {
        "service": {"type": "service", "state": {"url": "https://api.pulumi.com", "owner": "acme",
                                                 "project": "payments", "stack": "prod"}},
        "awskms": cloud("awskms://alias/pulumi-secrets?region=eu-west-1"),
        "azurekeyvault": cloud("azurekeyvault://acme-vault.vault.azure.net/keys/pulumi"),
        "gcpkms": cloud("gcpkms://projects/acme/locations/global/keyRings/pulumi/cryptoKeys/secrets"),
        "hashivault": cloud("hashivault://pulumi"),
    }
    for name, provider in providers.items():
        res = [
            {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack",
             "outputs": {"adminPassword": {SIG: SECRET_SIG, "ciphertext": opaque(rng)}}},
            {"urn": DB, "custom": True, "id": "ledger-db", "type": "aws:rds/instance:Instance",
             "inputs": {"engine": "postgres", "password": {SIG: SECRET_SIG, "ciphertext": opaque(rng)},
                        "port": {SIG: SECRET_SIG, "ciphertext": opaque(rng)}},
             "outputs": {"engine": "postgres"}, "parent": STACK},
        ]
        write(f"{name}.json", deployment(3, provider, None, res))


# MARK: Hostile values, encrypted with the fixtures' key

def hostile(crypter):
    """Ciphertexts that must fail with a clear error, keyed by case, for the unit tests."""
    good = crypter.encrypt(b'"fine"')
    _, nonce, body = good.split(":")
    raw = base64.b64decode(body)
    cases = {
        "good": good,
        "notJSON": crypter.encrypt(b"not json{"),
        "nonUTF8String": crypter.encrypt(b'"\xff\xfeok"'),       # Go's json.Unmarshal: U+FFFD, accepted
        "nonUTF8Bare": crypter.encrypt(b"\xff\xfe"),             # not JSON at all
        "truncatedTag": f"v1:{nonce}:{b64(raw[:-1])}",
        "tagOnlyPart": f"v1:{nonce}:{b64(raw[-15:])}",           # shorter than a tag
        "flippedByte": f"v1:{nonce}:{b64(bytes([raw[0] ^ 1]) + raw[1:])}",
        "nonce16": crypter.encrypt(b'"sixteen"', nonce=crypter.nonce(16)),  # valid GCM, not Pulumi's
        "nonce8": crypter.encrypt(b'"eight"', nonce=crypter.nonce(8)),
        "notBase64Nonce": f"v1:!!!!:{body}",
        "notBase64Body": f"v1:{nonce}:***",
        "unpaddedBody": f"v1:{nonce}:{body.rstrip('=')}",
        "v2Prefix": "v2" + good[2:],
        "noPrefix": good[3:],
        "fourParts": good + ":x",
        "empty": "",
        "otherKey": Passphrase("another passphrase", random.Random(7)).encrypt(b'"other"'),
    }
    # PULUMI_CONFIG_PASSPHRASE="" is a passphrase like any other (CI stacks use it).
    empty = Passphrase("", random.Random(8))
    return {"state": crypter.state, "passphrase": PASSPHRASE, "cases": cases,
            "emptyPassphrase": {"state": empty.state, "value": empty.encrypt(b'"from an empty passphrase"')}}


# MARK: Stack settings files (`--stack-config`)

def stack_settings(crypter):
    """Pulumi.prod.yaml as `pulumi config set [--secret] [--path]` writes it: `encryptionsalt` is the
    provider's state, a secure value is the *text* of the secret encrypted (config secrets are not JSON)."""
    sec = lambda text: f"secure: {crypter.encrypt(text.encode('utf-8'))}"
    return f"""encryptionsalt: {crypter.state['salt']}
config:
  aws:region: eu-west-1
  instanceCount: 3
  payments:dbPassword:
    {sec(DB_PASSWORD)}
  payments:ratio: 0.25
  payments:debug: true
  payments:zip: "01234"
  payments:tiny: 1.0e-7
  payments:config:legacy: old-style key
  payments:database:
    host: db.internal
    port: 5432
    password:
      {sec("nested-pw")}
    note: "a<b & c>d"
    replicas:
      - host: r1
        key:
          {sec("k1")}
  payments:notSecure:
    secure: 5
"""


def offline_stack_settings(rng):
    return f"""secretsprovider: awskms://alias/pulumi-secrets?region=eu-west-1
encryptedkey: {opaque(rng, 32)}
config:
  payments:dbPassword:
    secure: {opaque(rng)}
  payments:plain: visible
"""


# MARK: The benchmark's export

def bench(n, out):
    rng = random.Random(1000)
    crypter = Passphrase(PASSPHRASE, rng)
    res = [{"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}}]
    for i in range(n):
        res.append({
            "urn": f"urn:pulumi:prod::payments::aws:rds/instance:Instance::db-{i}",
            "custom": True, "id": f"db-{i}", "type": "aws:rds/instance:Instance",
            "inputs": {"engine": "postgres", "instanceClass": "db.t3.micro", "password": Secret(f"password-{i:06d}")},
            "outputs": {"engine": "postgres", "instanceClass": "db.t3.micro", "arn": f"arn:aws:rds:eu-west-1:1:db:db-{i}"},
            "parent": STACK,
        })
    os.makedirs(out, exist_ok=True)
    for name, c in (("bench-encrypted.json", crypter), ("bench-plaintext.json", None)):
        doc = {"version": 3, "deployment": {
            "manifest": MANIFEST,
            "secrets_providers": {"type": "passphrase", "state": crypter.state},
            "resources": serialize(res, c)}}
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
        print(os.path.join(out, name))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=int, metavar="N", help="write the benchmark's exports of N resources instead")
    ap.add_argument("out", nargs="?", default=OUT)
    args = ap.parse_args()
    if args.bench:
        return bench(args.bench, args.out)
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20261120)
    crypter = Passphrase(PASSPHRASE, rng)
    provider = {"type": "passphrase", "state": crypter.state}
    write("passphrase-v3.json", deployment(3, provider, crypter))
    write("passphrase-v4.json", {**deployment(4, provider, crypter), "features": []})
    write("plaintext-v3.json", deployment(3, provider, None))  # the `--show-secrets` twin
    write("checkpoint-passphrase-v3.json", checkpoint(3, provider, crypter))
    # v1 and v2 deployments have no `secrets_providers`: their ciphertexts cannot be decrypted.
    write("no-provider-v2.json", deployment(2, None, crypter))
    offline_only(rng)
    write("hostile-values.json", hostile(crypter))
    for name, text in (("Pulumi.prod.yaml", stack_settings(crypter)), ("Pulumi.awskms.yaml", offline_stack_settings(rng))):
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(text)
        print(os.path.join(OUT, name))


if __name__ == "__main__":
    sys.exit(main())
