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

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ConfigError, ModelIntegrityError

log = logging.getLogger("pipeline")

SIGNATURE = "signature"
ALGORITHM = "hmac-sha256"
KEY_BYTES = 32
#: shorter keys are refused: an HMAC is no stronger than its key
MIN_KEY_BYTES = 16
#: key files already warned about being readable by others, in this process
_WARNED_OPEN: set[Path] = set()


@dataclass(frozen=True)
class SigningKey:
    """A secret key and the file it came from (the file must not live in a model directory)."""

    secret: bytes = field(repr=False)
    path: Path | None = None

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:16]

    def sign(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()

    def check_outside(self, model_dir: Path) -> None:
        """A key kept inside the directory it vouches for proves nothing: whoever hands over
        the directory hands over the key."""
        if self.path is not None and self.path.resolve().is_relative_to(model_dir.resolve()):
            raise ConfigError(
                f"[model] signing_key {self.path} is inside the model directory {model_dir}; "
                "keep the key outside every model directory"
            )


def write_key(path: Path) -> SigningKey:
    """A new random key, as hex, in a file only its owner can read; an existing file is never
    overwritten (that would orphan every model signed with it). Missing parent folders are
    made readable by their owner alone (`~/.config/pipeline/` on a fresh machine)."""
    secret = secrets.token_bytes(KEY_BYTES)
    missing = [p for p in path.parents if not p.exists()]
    try:
        for folder in reversed(missing):  # Path.mkdir(parents=True) ignores `mode` for parents
            folder.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the key file {path}: {exc.strerror}") from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} already exists: refusing to overwrite a key") from None
    except OSError as exc:
        raise ConfigError(f"cannot create the key file {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(secret.hex() + "\n")
    return SigningKey(secret, path)


def read_key(path: Path) -> SigningKey:
    """The key in a file written by `pipeline keygen`; one that others may read is used,
    with a warning: anyone who can read it can sign a model this project will load."""
    try:
        text = path.read_text().strip()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(
            f"[model] signing_key {path} cannot be read ({exc.strerror}); "
            f"make one with `pipeline keygen --out {path}`"
        ) from exc
    if os.name == "posix" and mode & 0o077 and path not in _WARNED_OPEN:
        _WARNED_OPEN.add(path)  # once per run, not once per stage that loads it
        log.warning(
            "[model] signing_key %s can be read by group or others (mode %o); "
            "make it readable by you alone: chmod 600 %s",
            path,
            stat.S_IMODE(mode),
            path,
        )
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ConfigError(
            f"[model] signing_key {path} does not hold a hex key; "
            "make one with `pipeline keygen --out FILE`"
        ) from None
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigError(
            f"[model] signing_key {path} holds {len(secret)} bytes; at least {MIN_KEY_BYTES} "
            "are needed (`pipeline keygen` writes 32)"
        )
    return SigningKey(secret, path)


def load_key(path: Path | None) -> SigningKey | None:
    """The configured key ([model] signing_key), or None when there is none."""
    return None if path is None else read_key(path)


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
