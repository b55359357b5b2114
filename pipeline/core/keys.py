"""Signing keys: the secret a project holds to vouch for its model directories. Reading one is
a config-time check (a missing or weak key fails before the first write), so it lives below
both the config and the model directory; signing and verifying live in `pipeline.model.signing`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import ConfigError

log = logging.getLogger("pipeline")

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
