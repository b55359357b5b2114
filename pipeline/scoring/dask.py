"""Scoring on a Dask cluster: the same tasks as local workers, run by `distributed`.

`Client.get_executor()` is a `concurrent.futures.Executor`, so the bounded streaming loop in
`pipeline.scoring.submit` drives a cluster exactly as it drives a local process pool. What differs
is that a remote worker shares neither this machine's disk nor its memory:

- the model directory travels once, inside a worker plugin, which writes it under each worker's
  local directory, verifies its manifest, loads it, and does the same for workers that join
  later;
- each task returns its JSON Lines part as bytes, which this process writes (`PartJob.ship`), so
  the load into the warehouse is the same as after local scoring.

Workers must have this package installed (`pip install .[dask]` on the cluster's image).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ConfigError, ModelIntegrityError, ScoringError
from pipeline.core.keys import SigningKey
from pipeline.core.vocabulary import Executor
from pipeline.model.signing import SIGNATURE, verify_signature
from pipeline.scoring.stream import Placement

if TYPE_CHECKING:
    from pipeline.model.trained import TrainedModel

try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # the optional extra is missing; dask_executor says so
    WorkerPlugin = object  # type: ignore[misc,assignment]


def model_files(model_dir: Path, key: SigningKey | None = None) -> dict[str, bytes]:
    """Every file of a model directory, by its path relative to the directory, checked here
    (signature with `key`, then the manifest's hashes) in the very bytes that are shipped:
    workers load what this process verified, and never see the key."""
    from pipeline.model.trained import MANIFEST

    files = {
        p.relative_to(model_dir).as_posix(): p.read_bytes()
        for p in sorted(model_dir.rglob("*"))
        if p.is_file()
    }
    if key is not None:
        verify_signature(model_dir, files.get(MANIFEST), files.get(SIGNATURE), key)
    try:
        listed: dict[str, str] = json.loads(files[MANIFEST])["files"]
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelIntegrityError(f"{model_dir / MANIFEST} is not a valid manifest: {exc}") from exc
    shipped = {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}
    for rel in sorted(set(shipped) - {MANIFEST, SIGNATURE} | set(listed)):
        if shipped.get(rel) != listed.get(rel):
            raise ModelIntegrityError(
                f"{model_dir / rel} does not match {model_dir / MANIFEST}: refusing to ship it"
            )
    return files


class ShipModel(WorkerPlugin):  # type: ignore[misc,valid-type]
    """Installs one model directory on a worker and registers it under the parent's path, so
    `pipeline.scoring.tasks.score_part` finds it as it would in a forked worker."""

    def __init__(self, parent_dir: str, model_id: str, files: dict[str, bytes]):
        self.parent_dir = parent_dir
        self.model_id = model_id
        self.files = files
        self._target: Path | None = None

    def setup(self, worker: Any) -> None:
        from pipeline.model.trained import TrainedModel
        from pipeline.scoring.workers import register_model

        root = Path(worker.local_directory) / "pipeline-models"
        root.mkdir(parents=True, exist_ok=True)
        target = root / self.model_id
        if not target.is_dir():
            tmp = Path(tempfile.mkdtemp(prefix=f".{self.model_id}.", dir=root))
            for rel, data in self.files.items():
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp / rel).write_bytes(data)
            tmp.rename(target)
        self._target = target
        register_model(self.parent_dir, TrainedModel.load(target))  # verifies the manifest

    def teardown(self, worker: Any) -> None:
        from pipeline.scoring.workers import forget_model

        forget_model(self.parent_dir)
        if self._target is not None:
            shutil.rmtree(self._target, ignore_errors=True)


@contextmanager
def dask_executor(
    scheduler: str, model: TrainedModel, timeout: float = 10.0
) -> Iterator[Placement]:
    """An executor on the cluster at `scheduler` whose workers hold `model`, as many tasks at
    once as it has worker threads; the model is removed from the workers afterwards."""
    try:
        from distributed import Client
        from distributed.scheduler import KilledWorker
    except ImportError as exc:
        raise ConfigError(
            "--executor dask needs Dask's distributed package: pip install '.[dask]'"
        ) from exc
    assert model.directory is not None, "dask scoring needs a saved model directory"
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ScoringError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    name = f"pipeline-model-{model.model_id}"
    try:
        threads = sum(client.nthreads().values())
        if not threads:
            raise ScoringError(f"the Dask cluster at {scheduler} has no workers")
        files = model_files(model.directory, model.signing_key)
        plugin = ShipModel(str(model.directory), model.model_id, files)
        client.register_plugin(plugin, name=name)
        try:
            yield Placement(
                client.get_executor(pure=False),
                threads,
                scored_by=Executor.dask,
                reason=f"{threads} worker threads at {scheduler}",
                ship=True,
            )
        except KilledWorker as exc:
            raise ScoringError(
                f"a Dask worker died while scoring (killed, or out of memory): {exc}"
            ) from exc
        finally:
            # a cluster that went away mid-run must not hide the error that says so
            with suppress(Exception):
                client.unregister_worker_plugin(name)
    finally:
        client.close()
