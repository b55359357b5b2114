"""Verifying a model directory: the manifest (sha256 of every file) is checked before anything
is unpickled, with a signing key the manifest's own signature first, and after unpickling the
object's class against the one model.json records."""

from __future__ import annotations

import hashlib
import json
from contextlib import suppress
from pathlib import Path
from typing import Any

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


def check_estimator_class(estimator: Any, dotted: str, pickle_path: Path) -> None:
    """The unpickled object must be the class model.json records: anything else (an int, a
    function) would fail later with a traceback, or score nonsense. The recorded class is
    imported only from the package the object's own class already came from."""
    import importlib

    kind = type(estimator)
    found = f"{kind.__module__}.{kind.__qualname__}"
    if not dotted:  # a model.json that records no class: it must at least predict
        if not callable(getattr(estimator, "predict", None)):
            raise ModelIntegrityError(
                f"{pickle_path} holds a {found}, which has no predict(): refusing to load it"
            )
        return
    module_name, _, class_name = dotted.rpartition(".")
    same = found == dotted
    if not same and module_name and kind.__module__.partition(".")[0] == dotted.partition(".")[0]:
        with suppress(ImportError, AttributeError, ValueError):
            same = getattr(importlib.import_module(module_name), class_name) is kind
    if not same:
        raise ModelIntegrityError(
            f"{pickle_path} holds a {found}, not the {dotted} recorded in "
            f"{pickle_path.parent / 'model.json'}: refusing to load it"
        )
