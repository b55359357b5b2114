"""Are frozen statistics and model ids the same on every rerun and at every DuckDB thread count?

    nice python -m bench.determinism [--rows 2000000] [--reruns 10] [--threads 1 2 4]

Generates one synthetic warehouse, then runs the preprocess stage `reruns` times at each thread
count ([warehouse] threads) and prints how many distinct stats.json contents, training
fingerprints and model ids came out (1 each is the goal). The model id is computed as
pipeline/stages/train.py computes it (estimator, params, spec, stats, training-matrix
fingerprint, template hashes) without fitting the model, which does not enter the id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import REPO, write_config
from pipeline.features.plan import feature_names, plan
from pipeline.model.manifest import write_json
from pipeline.model.trained import feature_matrix
from pipeline.stages.base import RunOptions
from pipeline.stages.common import read_stats
from pipeline.stages.ledger import new_run_id
from pipeline.stages.project import Project
from pipeline.stages.runner import run_stages
from pipeline.stages.train import fingerprint
from pipeline.tools.synthetic import generate
from pipeline.warehouse.duckdb import DuckDBWarehouse

ESTIMATOR = "sklearn.linear_model.LogisticRegression"
PARAMS = {"max_iter": 200}


def model_id(project: Project, directory: Path) -> tuple[str, str, str]:
    """(sha256 of stats.json, training fingerprint, model id) of the latest preprocess."""
    wh, cfg = project.warehouse, project.config
    stats = read_stats(project)
    path = directory / "stats.json"
    write_json(path, stats.to_json())  # the bytes TrainedModel.save writes
    stats_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    table = wh.dialect.quote(project.table("features_train"))
    features = wh.query_arrow(f"SELECT * FROM {table} ORDER BY {wh.dialect.quote(cfg.id_column)}")
    X = feature_matrix(features, feature_names(plan(project.spec.features, stats)))
    y = features.column(cfg.label_column).to_numpy(zero_copy_only=False)
    fp = fingerprint(X, y)
    identity = {
        "estimator": cfg.model.estimator,
        "params": cfg.model.params,
        "spec": project.spec.to_dict(),
        "stats": stats.to_json(),
        "fingerprint": fp,
        "templates": project.templates.source_hashes(),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    return stats_hash, fp, f"{cfg.model.estimator.rpartition('.')[2].lower()}-{digest[:12]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--reruns", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        # a copy of the templates: an edit in the repo during the bench cannot change ids
        sql_dir = directory / "sql"
        shutil.copytree(REPO / "sql", sql_dir)
        start = time.perf_counter()
        with DuckDBWarehouse(directory / "warehouse.duckdb") as wh:
            generate(wh, REPO / "sql", args.rows, 1_000)
        print(f"generated {args.rows} labelled rows in {time.perf_counter() - start:.1f} s")
        results: list[tuple[int, str, str, str]] = []
        for threads in args.threads:
            config = write_config(directory, ESTIMATOR, PARAMS, threads=str(threads))
            text = config.read_text().replace(f'threads = "{threads}"', f"threads = {threads}")
            text = text.replace(f'"{(REPO / "sql").as_posix()}"', f'"{sql_dir.as_posix()}"')
            config.write_text(text)
            for _ in range(args.reruns):
                options = RunOptions(
                    config_path=config,
                    run_id=new_run_id(),
                    models_dir=directory / "models",
                    out_dir=directory / "runs",
                )
                start = time.perf_counter()
                run_stages(options, ["preprocess"])
                seconds = time.perf_counter() - start
                with Project.open(config) as project:
                    (setting,) = (
                        project.warehouse.query_arrow("SELECT current_setting('threads') AS t")
                        .column(0)
                        .to_pylist()
                    )
                    assert int(setting) == threads, (setting, threads)
                    stats_hash, fp, mid = model_id(project, directory)
                results.append((threads, stats_hash, fp, mid))
                print(
                    f"threads {threads}: preprocess {seconds:.1f} s, stats.json "
                    f"{stats_hash[:12]}, fingerprint {fp[:12]}, model id {mid}",
                    flush=True,
                )
        print(
            f"{len(results)} runs ({args.reruns} at each of threads {args.threads}) on "
            f"{args.rows} rows: {len({r[1] for r in results})} distinct stats.json, "
            f"{len({r[2] for r in results})} distinct training fingerprints, "
            f"{len({r[3] for r in results})} distinct model ids"
        )


if __name__ == "__main__":
    main()
