"""The model directory's manifest: sha256 of every file, checked before anything is unpickled
(and, with a signing key, the manifest's own signature first)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.core.errors import ModelIntegrityError
from pipeline.core.keys import SigningKey
from pipeline.model.signing import SIGNATURE, verify_signature

MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, value: object) -> None:
    """The one JSON layout of the model directory (its bytes are hashed: keep it stable)."""
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


def write_manifest(directory: Path) -> None:
    """manifest.json listing every file under `directory` with its sha256."""
    files = {
        p.relative_to(directory).as_posix(): sha256_file(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
    write_json(directory / MANIFEST, {"files": files})


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def verify_manifest(
    model_dir: Path, key: SigningKey | None = None, manifest: bytes | None = None
) -> dict[str, str]:
    """Check every file against the manifest before anything is unpickled; with a key, first
    check that the key signed the manifest. `manifest`: its bytes, already read."""
    manifest_path = model_dir / MANIFEST
    if manifest is None:
        manifest = _read_optional(manifest_path)
    if key is not None:
        verify_signature(model_dir, manifest, _read_optional(model_dir / SIGNATURE), key)
    if manifest is None:
        raise ModelIntegrityError(
            f"{manifest_path} not found: {model_dir} is not a model directory"
        )
    try:
        files: dict[str, str] = json.loads(manifest)["files"]
        if not isinstance(files, dict):
            raise ValueError("'files' is not a table")
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f"{manifest_path} is not a valid manifest: {exc}") from exc
    for rel, expected in sorted(files.items()):
        path = model_dir / rel
        if not path.is_file():
            raise ModelIntegrityError(f"{path} is listed in the manifest but missing")
        if sha256_file(path) != expected:
            raise ModelIntegrityError(
                f"{path} does not match its sha256 in {manifest_path}: the file changed after "
                "the model was saved; refusing to load it"
            )
    present = {
        p.relative_to(model_dir).as_posix()
        for p in model_dir.rglob("*")
        if p.is_file() and p.relative_to(model_dir).as_posix() not in (MANIFEST, SIGNATURE)
    }
    extra = sorted(present - set(files))
    if extra:
        raise ModelIntegrityError(f"{model_dir} holds files not in its manifest: {extra}")
    return files
