"""The model directory: one directory reproduces a model.

    model.joblib        the fitted estimator (unpickled only after the manifest checks out)
    model.json          id, estimator and parameters, task, classes, feature names, training
                        rows and fingerprint, template hashes, library versions, config hash
                        (`ModelMeta`, model/meta.py)
    stats.json          the frozen training-split statistics (`Stats`, features/stats.py)
    categories.json     the category <-> column table (`CategoryColumn`, features/plan.py)
    bins.json           the numeric features' training quantile bins, for drift (`Bins`,
                        features/bins.py); absent from directories saved before it existed
    config.toml         the project config the model was trained with
    cv_results.json     with [tune]: the search that chose its parameters (stages/tune.py)
    sql/                the preprocessing templates (and macros) it was trained with
    manifest.json       sha256 of every file above
    signature           with a [model] signing_key: an HMAC of manifest.json (model/signing.py)

`TrainedModel.load(dir).predict(df)` replays the frozen SQL on a DataFrame in an in-memory
DuckDB and then the estimator: the same code path the batch predict stage uses. Saving lives
in model/save.py, verification in model/manifest.py, the array helpers in model/arrays.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DataError, ModelIntegrityError
from pipeline.core.keys import SigningKey
from pipeline.core.vocabulary import Dataset
from pipeline.features.bins import BINS_FILE, Bins
from pipeline.features.plan import FeaturePlan, plan
from pipeline.features.sql import Source, Spec, transform_sql, unseen_sql
from pipeline.features.stats import Stats
from pipeline.model.arrays import column, feature_matrix, predict_arrays
from pipeline.model.manifest import MANIFEST, check_estimator_class, sha256_file, verify_manifest
from pipeline.model.meta import ModelMeta
from pipeline.model.save import SQL_PARTS, save_directory
from pipeline.render.templates import Templates, hash_tree, templates_for

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from pipeline.render.compile import CompiledModel
    from pipeline.render.dialect import Dialect

# imported from here by the stages, the scoring workers and the tests
__all__ = [
    "MANIFEST",
    "ModelMeta",
    "TrainedModel",
    "column",
    "feature_matrix",
    "predict_arrays",
    "sha256_file",
    "verify_manifest",
]

#: the view predict(df) registers its rows as
SERVING_VIEW = "input_rows"


@dataclass
class TrainedModel:
    estimator: Any
    meta: ModelMeta
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
    #: more JSON files for the model directory (and its manifest), by name: a [tune] search
    #: (cv_results.json); saved, not read back by load
    extras: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: the training quantile bins for drift (bins.json); None for a model saved without them
    bins: Bins | None = field(default=None, repr=False)

    @property
    def model_id(self) -> str:
        return self.meta.model_id

    @property
    def spec(self) -> Spec:
        return self.meta.spec

    @property
    def feature_names(self) -> list[str]:
        return list(self.meta.feature_names)

    def plans(self) -> list[FeaturePlan]:
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
                f"model {self.model_id}: {self.meta.estimator_name} refuses "
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
                    wh.dialect, [Source(SERVING_VIEW, False, Dataset.input)], None
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
        """Write the model directory (model/save.py: under a temporary name, then renamed
        into place); with a key, the manifest is signed."""
        target = save_directory(self, models_dir, key)
        self.directory = target
        self.sql_dir = target / "sql"
        self.signing_key = key
        return target

    @staticmethod
    def read_meta(model_dir: Path | str, key: SigningKey | None = None) -> ModelMeta:
        """model.json of a verified model directory, without unpickling the estimator."""
        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ModelIntegrityError(f"model directory {model_dir} not found")
        verify_manifest(model_dir, key)
        return _read_meta(model_dir)

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
        meta = _read_meta(model_dir)
        stats = Stats.from_json(json.loads((model_dir / "stats.json").read_text()))
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
        check_estimator_class(estimator, meta.estimator, pickle_path)
        bins = None
        if BINS_FILE in files:  # verified with the others; older directories have none
            bins = Bins.from_json(json.loads((model_dir / BINS_FILE).read_text()))
        return cls(
            estimator=estimator,
            meta=meta,
            stats=stats,
            sql_dir=model_dir / "sql",
            config_text=(model_dir / "config.toml").read_text(),
            directory=model_dir,
            signing_key=key,
            bins=bins,
        )

    def changed_templates(self, project_sql_dir: Path) -> list[str]:
        """Templates whose text in the project differs from the model's copy."""
        ours = hash_tree(self.sql_dir)
        theirs = {
            k: v for k, v in hash_tree(project_sql_dir).items() if k.split("/")[0] in SQL_PARTS
        }
        return sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))


def _read_meta(model_dir: Path) -> ModelMeta:
    path = model_dir / "model.json"
    try:
        return ModelMeta.from_json(json.loads(path.read_text()))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelIntegrityError(
            f"{path} is not a model.json this version reads ({type(exc).__name__}: {exc}); "
            "retrain the model"
        ) from exc
