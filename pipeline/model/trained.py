"""The model directory: one directory reproduces a model.

    model.joblib        the fitted estimator (unpickled only after the manifest checks out)
    model.json          id, estimator and parameters, task, classes, feature names, training
                        rows and fingerprint, template hashes, library versions, config hash
    stats.json          the frozen training-split statistics
    categories.json     the category <-> column table
    config.toml         the project config the model was trained with
    sql/                the preprocessing templates (and macros) it was trained with
    manifest.json       sha256 of every file above
    signature           with a [model] signing_key: an HMAC of manifest.json (model/signing.py)

`TrainedModel.load(dir).predict(df)` replays the frozen SQL on a DataFrame in an in-memory
DuckDB and then the estimator: the same code path the batch predict stage uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DataError, ModelIntegrityError
from pipeline.core.keys import SigningKey
from pipeline.features.plan import Stats, plan
from pipeline.features.sql import Source, Spec, transform_sql, unseen_sql
from pipeline.model.signing import SIGNATURE, signature_bytes, verify_signature
from pipeline.render.templates import Templates, hash_tree, templates_for

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.render.compile import CompiledModel
    from pipeline.render.dialect import Dialect

MANIFEST = "manifest.json"
#: the view predict(df) registers its rows as
SERVING_VIEW = "input_rows"
# the templates a model needs to replay its preprocessing
SQL_PARTS = ("preprocess", "macros")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def predict_arrays(estimator: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels and a score for feature rows. X: (n_rows, n_features) float64.

    For a classifier the label is the argmax of predict_proba (what scikit-learn's forests do
    internally), so one call gives both; the score is P(classes_[1]) for binary tasks and the
    top class's probability otherwise. Regression has no score."""
    import numpy as np

    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)  # (n_rows, n_classes)
        labels = estimator.classes_.take(np.argmax(proba, axis=1))  # (n_rows,)
        score = proba[:, 1] if proba.shape[1] == 2 else proba.max(axis=1)  # (n_rows,)
        return labels, score
    return estimator.predict(X), None


@dataclass
class TrainedModel:
    estimator: Any
    meta: dict[str, Any]
    stats: Stats
    sql_dir: Path  # the templates this model's preprocessing is rendered from
    config_text: str = ""
    directory: Path | None = field(default=None)
    #: predict(df)'s in-memory DuckDB and rendered SQL, made on first use
    _serving: tuple[Any, str] | None = field(default=None, repr=False, compare=False)
    _serving_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """A connection and a lock do not travel to other processes; they are remade there."""
        state = dict(self.__dict__)
        state["_serving"], state["_serving_lock"] = None, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _serving_lock=threading.Lock())

    #: the key this model was verified (or signed) with; forkserver workers reload with it
    signing_key: SigningKey | None = field(default=None, repr=False)

    @property
    def model_id(self) -> str:
        return str(self.meta["model_id"])

    @property
    def spec(self) -> Spec:
        return Spec.from_dict(self.meta["spec"])

    @property
    def feature_names(self) -> list[str]:
        return list(self.meta["feature_names"])

    def plans(self) -> list[dict[str, Any]]:
        return plan(self.spec.features, self.stats)

    def templates(self, dialect: Dialect) -> Templates:
        """This model's own copy of the SQL."""
        return templates_for(self.sql_dir, dialect)

    def transform_sql(
        self, dialect: Dialect, sources: list[Source], datasets: list[str] | None
    ) -> tuple[str, dict[str, str]]:
        """This model's frozen preprocessing, rendered in `dialect` over raw `sources`."""
        return transform_sql(
            self.templates(dialect), self.spec, self.plans(), sources, datasets, False
        )

    def unseen_sql(
        self, dialect: Dialect, sources: list[Source], datasets: list[str], run_id: str
    ) -> str:
        """Count the categorical values in `sources` that this model's training never saw."""
        return unseen_sql(
            self.templates(dialect),
            self.spec,
            self.plans(),
            sources,
            datasets,
            run_id,
            self.model_id,
        ).sql

    def in_warehouse_sql(
        self,
        dialect: Dialect,
        templates: Templates,
        sources: list[Source],
        datasets: list[str],
        run_id: str,
        prediction_type: str,
    ) -> tuple[str, dict[str, str], CompiledModel]:
        """The warehouse-side twin of `predict`: this model's frozen preprocessing and its
        estimator compiled to SQL, as one query that yields the predictions table's rows.
        `templates` holds the wrapping query (sql/predict/in_warehouse.sql)."""
        from pipeline.render.compile import compile_estimator, scoring_query

        features, hashes = self.transform_sql(dialect, sources, datasets)
        compiled = compile_estimator(self.estimator, self.feature_names, dialect)
        rendered = scoring_query(
            templates, compiled, features, self.spec.id, prediction_type, run_id, self.model_id
        )
        return rendered.sql, {**hashes, rendered.name: rendered.hash}, compiled

    def predict_arrays(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        try:
            return predict_arrays(self.estimator, X)
        except ValueError as exc:
            # scikit-learn's own input check: a value the estimator cannot take (trees compute
            # in float32), in rows the contracts passed as finite doubles
            if not str(exc).startswith("Input X contains"):
                raise
            import numpy as np

            odd = ~np.isfinite(X) | (np.abs(X) > np.finfo(np.float32).max)
            bad = [n for n, b in zip(self.feature_names, odd.any(axis=0), strict=True) if b]
            raise DataError(
                f"model {self.model_id}: {self.meta['estimator'].rpartition('.')[2]} refuses "
                f"the features {bad} of rows to score ({str(exc).rstrip('.')}); clip them "
                "([[features]] clip) and train again"
            ) from exc

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """Raw rows in, predictions out: the frozen SQL preprocessing, then the estimator.

        One in-memory DuckDB and the rendered SQL are kept for the model's life: opening a
        database and rendering the templates cost several times a one-row forest predict."""
        import pandas as pd

        with self._serving_lock:
            if self._serving is None:
                from pipeline.warehouse.duckdb import DuckDBWarehouse

                wh = DuckDBWarehouse.in_memory()
                sql, _ = self.transform_sql(
                    wh.dialect, [Source(SERVING_VIEW, False, "input")], None
                )
                self._serving = (wh, sql)
            wh, sql = self._serving
            wh.register(SERVING_VIEW, df)
            try:
                features = wh.query_arrow(sql)
            finally:
                wh.unregister(SERVING_VIEW)
        X = feature_matrix(features, self.feature_names)  # X: (n_rows, n_features)
        labels, score = self.predict_arrays(X)
        out = pd.DataFrame({self.spec.id: column(features, self.spec.id).to_pandas()})
        out["prediction"] = labels
        out["score"] = score
        return out

    # --- persistence -------------------------------------------------------------------
    def save(self, models_dir: Path, key: SigningKey | None = None) -> Path:
        """Write the directory under a temporary name, then rename it into place, so a
        crash never leaves a half-written model where a complete one is expected. With a key,
        the manifest is signed. A full disk is a one-line error, and nothing is left."""
        models_dir.mkdir(parents=True, exist_ok=True)
        target = models_dir / self.model_id
        if key is not None:
            key.check_outside(target)
        remove_stale_temporaries(models_dir, self.model_id)
        tmp: Path | None = None
        try:
            prefix = f".{self.model_id}.pid{os.getpid()}."  # whose it is, for the cleanup
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=models_dir))
            self._write(tmp, key)
            if target.exists():
                old = models_dir / f".{self.model_id}.old"
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
        self.directory = target
        self.sql_dir = target / "sql"
        self.signing_key = key
        return target

    def _write(self, tmp: Path, key: SigningKey | None) -> None:
        import joblib

        joblib.dump(self.estimator, tmp / "model.joblib")
        _write_json(tmp / "model.json", self.meta)
        _write_json(tmp / "stats.json", self.stats)
        _write_json(tmp / "categories.json", _categories(self))
        (tmp / "config.toml").write_text(self.config_text)
        for part in SQL_PARTS:
            if (self.sql_dir / part).is_dir():
                shutil.copytree(self.sql_dir / part, tmp / "sql" / part)
        files = {
            p.relative_to(tmp).as_posix(): sha256_file(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file()
        }
        _write_json(tmp / MANIFEST, {"files": files})
        if key is not None:
            (tmp / SIGNATURE).write_bytes(signature_bytes(key, (tmp / MANIFEST).read_bytes()))
        os.chmod(tmp, 0o755)

    @staticmethod
    def read_meta(model_dir: Path | str, key: SigningKey | None = None) -> dict[str, Any]:
        """model.json of a verified model directory, without unpickling the estimator."""
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ModelIntegrityError(f"model directory {model_dir} not found")
        verify_manifest(model_dir, key)
        meta: dict[str, Any] = json.loads((model_dir / "model.json").read_text())
        return meta

    @classmethod
    def load(cls, model_dir: Path | str, key: SigningKey | None = None) -> TrainedModel:
        """Verify the signature (with a key) and the manifest, then unpickle.

        Without a key, a directory is only checked for accidents: load only directories you
        made. The pickle is hashed and unpickled through one open file, so a file swapped in
        after the check is never the one unpickled."""
        import joblib

        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ModelIntegrityError(f"model directory {model_dir} not found")
        files = verify_manifest(model_dir, key)
        meta: dict[str, Any] = json.loads((model_dir / "model.json").read_text())
        stats = json.loads((model_dir / "stats.json").read_text())
        pickle_path = model_dir / "model.joblib"
        with pickle_path.open("rb") as f:
            h = hashlib.sha256()
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            if h.hexdigest() != files.get("model.joblib"):
                raise ModelIntegrityError(
                    f"{pickle_path} does not match its sha256 in {model_dir / MANIFEST}: "
                    "refusing to load it"
                )
            f.seek(0)
            try:
                estimator = joblib.load(f)
            except Exception as exc:  # a truncated or foreign pickle fails in many ways
                reason = (str(exc).splitlines() or [""])[0]
                raise ModelIntegrityError(
                    f"{pickle_path} cannot be unpickled ({type(exc).__name__}: {reason}): "
                    "the file is damaged, or was written by other library versions; retrain "
                    "the model"
                ) from exc
        check_estimator_class(estimator, str(meta.get("estimator", "")), pickle_path)
        return cls(
            estimator=estimator,
            meta=meta,
            stats=stats,
            sql_dir=model_dir / "sql",
            config_text=(model_dir / "config.toml").read_text(),
            directory=model_dir,
            signing_key=key,
        )

    def changed_templates(self, project_sql_dir: Path) -> list[str]:
        """Templates whose text in the project differs from the model's copy."""
        ours = hash_tree(self.sql_dir)
        theirs = {
            k: v for k, v in hash_tree(project_sql_dir).items() if k.split("/")[0] in SQL_PARTS
        }
        return sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))


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


def column(table: Any, name: str) -> Any:
    """An Arrow column by name, matched without regard to case when no exact match exists: SQL
    identifiers are case-insensitive (BigQuery, and DuckDB too), and an engine may return a
    name in another case than the alias that made it."""
    if name in table.column_names:
        return table.column(name)
    folded = [c for c in table.column_names if c.lower() == name.lower()]
    if len(folded) != 1:
        raise ModelIntegrityError(f"rows lack the column {name!r}; they have {table.column_names}")
    return table.column(folded[0])


def feature_matrix(table: Any, names: list[str]) -> np.ndarray:
    """Arrow columns to a C-ordered float64 matrix. X: (n_rows, n_features)."""
    import numpy as np

    present = {c.lower() for c in table.column_names}
    missing = [n for n in names if n.lower() not in present]
    if missing:
        raise ModelIntegrityError(f"feature rows lack the model's columns {missing}")
    X = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        X[:, j] = column(table, name).to_numpy(zero_copy_only=False)
    return X


def _categories(model: TrainedModel) -> list[dict[str, Any]]:
    from pipeline.features.plan import category_columns

    return category_columns(model.plans())


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
