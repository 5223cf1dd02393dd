#!/usr/bin/env python3
"""The cost of decrypting a passphrase-protected export: a stack of N resources with one encrypted secret
each (key derivation once, then one AES-GCM open per value) against the same stack exported with
--show-secrets, and that file again with `--show-secrets` given (no redaction). Both files come from Tests/Secrets/make_encrypted_exports.py --bench, which needs PyPI
`cryptography`:

    python3 -m venv /tmp/cryptovenv && /tmp/cryptovenv/bin/pip install cryptography
    python3 bench/secrets_bench.py --binary .build/release/policy-host --crypto-python /tmp/cryptovenv/bin/python

Runs `analyze --format json` with POLICY_HOST_TIMINGS=1, interleaved (encrypted, plaintext, …), and takes
medians of the phases: "read inputs" (JSON and the state schema; plaintext secrets are parsed here),
"derive the secrets key" (PBKDF2, 1 000 000 rounds, and the check value) and "encode requests" (where
ciphertexts are opened, parsed and read).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSPHRASE = "correct horse battery staple"
PHASES = ("read inputs", "derive the secrets key", "encode requests", "redact report")


def timings(binary, stack, pack, env, extra=()):
    started = time.perf_counter()
    p = subprocess.run([binary, "analyze", "-q", stack, "--policy-pack", pack, "--format", "json", *extra],
                       env=env, capture_output=True, text=True)
    whole = (time.perf_counter() - started) * 1000
    if p.returncode not in (0, 1):
        sys.exit(f"analyze failed ({p.returncode}):\n{p.stderr}")
    out = {"whole run": whole}
    for line in p.stderr.splitlines():
        m = re.match(r"timing: (.+?)\s+([0-9.]+) ms", line)
        if m and m.group(1) in PHASES:
            out[m.group(1)] = float(m.group(2))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/policy-host"))
    ap.add_argument("--crypto-python", default="/tmp/cryptovenv/bin/python")
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pack", default=os.path.join(ROOT, "Fixtures/packs/aws-basics"))
    args = ap.parse_args()
    subprocess.run([args.binary, "install", "-q", args.pack], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([args.crypto_python, os.path.join(ROOT, "Tests/Secrets/make_encrypted_exports.py"),
                        "--bench", str(args.resources), tmp], check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG_PASSPHRASE")}
        env["POLICY_HOST_TIMINGS"] = "1"
        runs = {"encrypted": [], "plaintext": [], "shown": []}
        for _ in range(args.rounds):
            runs["encrypted"].append(timings(args.binary, os.path.join(tmp, "bench-encrypted.json"), args.pack,
                                             {**env, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}))
            runs["plaintext"].append(timings(args.binary, os.path.join(tmp, "bench-plaintext.json"), args.pack, env))
            runs["shown"].append(timings(args.binary, os.path.join(tmp, "bench-plaintext.json"), args.pack, env,
                                         ("--show-secrets",)))
    med = {k: {p: statistics.median(r.get(p, 0.0) for r in v) for p in PHASES + ("whole run",)} for k, v in runs.items()}
    n = args.resources
    e, p, sh = med["encrypted"], med["plaintext"], med["shown"]
    # The secrets' share of reading and encoding: what the encrypted file costs beyond the plaintext one.
    per_value = ((e["read inputs"] + e["encode requests"]) - (p["read inputs"] + p["encode requests"])) / n * 1000
    print(f"| {n} resources, {n} secrets (medians of {args.rounds}) | encrypted (passphrase) | plaintext export "
          "| plaintext export, `--show-secrets` given |")
    print("|---|---|---|---|")
    for phase in PHASES:
        print(f"| {phase} | {e[phase]:.1f} ms | {p[phase]:.1f} ms | {sh[phase]:.1f} ms |")
    print(f"| whole `analyze` run | {e['whole run'] / 1000:.2f} s | {p['whole run'] / 1000:.2f} s | {sh['whole run'] / 1000:.2f} s |")
    print(f"| per secret value, beyond plaintext (read + encode) | {per_value:.1f} µs | | |")


if __name__ == "__main__":
    main()
