"""Saving a model directory: written under a temporary name and renamed into place, so a
crash never leaves a half-written model where a complete one is expected; temporaries that
killed saves left behind are removed by the next save."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import ModelIntegrityError
from pipeline.core.keys import SigningKey
from pipeline.features.bins import BINS_FILE
from pipeline.features.plan import category_columns
from pipeline.model.manifest import MANIFEST, write_json, write_manifest
from pipeline.model.signing import SIGNATURE, signature_bytes

if TYPE_CHECKING:
    from pipeline.model.trained import TrainedModel

# the templates a model needs to replay its preprocessing
SQL_PARTS = ("preprocess", "macros")


def save_directory(model: TrainedModel, models_dir: Path, key: SigningKey | None) -> Path:
    """Write `model` to models_dir/<model id> (signed with a key); returns that directory. A
    full disk is a one-line error, and nothing is left."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / model.model_id
    if key is not None:
        key.check_outside(target)
    remove_stale_temporaries(models_dir, model.model_id)
    tmp: Path | None = None
    try:
        prefix = f".{model.model_id}.pid{os.getpid()}."  # whose it is, for the cleanup
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=models_dir))
        write_files(model, tmp, key)
        if target.exists():
            old = models_dir / f".{model.model_id}.old"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except OSError as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        where = exc.filename or tmp or models_dir
        raise ModelIntegrityError(
            f"cannot write the model directory {target}: "
            f"{(exc.strerror or str(exc)).lower()} ({where}); "
            "no model was saved"
        ) from exc
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def write_files(model: TrainedModel, directory: Path, key: SigningKey | None) -> None:
    """Every file of the model directory, then the manifest over them (and its signature)."""
    import joblib

    joblib.dump(model.estimator, directory / "model.joblib")
    write_json(directory / "model.json", model.meta.to_json())
    write_json(directory / "stats.json", model.stats.to_json())
    categories = [c.to_json() for c in category_columns(model.plans())]
    write_json(directory / "categories.json", categories)
    if model.bins is not None:  # covered by the manifest (and signature) like the rest
        write_json(directory / BINS_FILE, model.bins.to_json())
    (directory / "config.toml").write_text(model.config_text)
    for name, value in sorted(model.extras.items()):
        write_json(directory / name, value)
    for part in SQL_PARTS:
        if (model.sql_dir / part).is_dir():
            shutil.copytree(model.sql_dir / part, directory / "sql" / part)
    write_manifest(directory)
    if key is not None:
        signature = signature_bytes(key, (directory / MANIFEST).read_bytes())
        (directory / SIGNATURE).write_bytes(signature)
    os.chmod(directory, 0o755)


def remove_stale_temporaries(models_dir: Path, model_id: str) -> None:
    """Remove what saves killed midway left behind: every `.<model_id>.*` directory (runs are
    exclusive, so no live save of this model owns one), and the temporaries of any other model
    whose saving process is gone (their names carry its pid, `.<id>.pid<N>.*`)."""
    for path in models_dir.glob(".*.*"):
        if not path.is_dir() or path.is_symlink():
            continue
        owner = re.search(r"\.pid(\d+)\.", path.name)
        if path.name.startswith(f".{model_id}.") or (owner and not _alive(int(owner.group(1)))):
            with suppress(OSError):
                shutil.rmtree(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
