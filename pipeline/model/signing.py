"""Signed model directories: a model directory is code (its estimator is a pickle), so one made
elsewhere is loaded only if it carries a signature made with the project's key.

The manifest lists the sha256 of every file; that finds accidents, but anyone who can replace
`model.joblib` can rewrite the manifest too. The `signature` file holds an HMAC-SHA256 of the
manifest's exact bytes under a secret key the project holds, and the key's id (the first 16 hex
digits of its sha256), so a directory signed with another key is reported as such. Checking the
signature first, then the manifest's hashes, then unpickling, means nothing in a directory is
trusted before the key vouches for it.
"""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path

from pipeline.core.errors import ModelIntegrityError
from pipeline.core.keys import SigningKey

log = logging.getLogger("pipeline")

SIGNATURE = "signature"
ALGORITHM = "hmac-sha256"


def signature_bytes(key: SigningKey, manifest: bytes) -> bytes:
    """The `signature` file's content for a manifest."""
    value = {"algorithm": ALGORITHM, "key_id": key.key_id, "manifest_hmac": key.sign(manifest)}
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def verify_signature(
    model_dir: Path, manifest: bytes | None, signature: bytes | None, key: SigningKey
) -> None:
    """Refuse a directory whose manifest `key` did not sign. `manifest` and `signature` are
    the files' bytes (None: absent); the manifest's hashes are trusted only after this."""
    key.check_outside(model_dir)
    if manifest is None:
        raise ModelIntegrityError(
            f"{model_dir / 'manifest.json'} not found: {model_dir} is not a model directory"
        )
    if signature is None:
        raise ModelIntegrityError(
            f"{model_dir} is not signed and a signing key is configured: refusing to load a "
            "model directory the key does not vouch for"
        )
    try:
        sig = json.loads(signature)
        key_id, mac = str(sig["key_id"]), str(sig["manifest_hmac"])
        if sig.get("algorithm") != ALGORITHM:
            raise ValueError(f"algorithm {sig.get('algorithm')!r}, not {ALGORITHM!r}")
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(
            f"{model_dir / SIGNATURE} is not a valid signature ({exc}): refusing to load "
            f"{model_dir}"
        ) from None
    if not hmac.compare_digest(key_id, key.key_id):
        raise ModelIntegrityError(
            f"{model_dir} is signed with key {key_id}, not the configured key {key.key_id}: "
            "refusing to load it"
        )
    if not hmac.compare_digest(mac, key.sign(manifest)):
        raise ModelIntegrityError(
            f"{model_dir}: the signature does not match manifest.json under key {key.key_id}; "
            "the directory changed after it was signed: refusing to load it"
        )
