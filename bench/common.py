"""Shared set-up for the benchmarks: projects on synthetic warehouses, stages in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tomlkit

REPO = Path(__file__).resolve().parent.parent


def write_config(directory: Path, estimator: str, params: dict[str, Any], **warehouse: str) -> Path:
    """The example config, pointed at this repo's sql/ and a warehouse in `directory`, with
    `estimator` and its `params` as the only parameter table and `warehouse` keys added.

    Edited through tomlkit, so the example's comments and order stay."""
    doc = tomlkit.parse((REPO / "pipeline.toml").read_text())
    doc["sql_dir"] = (REPO / "sql").as_posix()
    section = doc["warehouse"]
    section["path"] = (directory / "warehouse.duckdb").as_posix()
    del section["seed_from"]
    section.update(warehouse)
    model = doc["model"]
    model["estimator"] = estimator
    table = tomlkit.table()
    table.update(params)
    model["params"] = tomlkit.table(is_super_table=True)
    model["params"][estimator.rpartition(".")[2]] = table
    path = directory / "pipeline.toml"
    path.write_text(tomlkit.dumps(doc))
    return path


def run_stage(
    config: Path, stage: str, executor: str | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """One stage in a fresh process: its wall time, peak RSS, chosen scoring mode."""
    args = [sys.executable, str(REPO / "bench" / "_stage.py"), str(config), stage]
    if executor:
        args.append(executor)
    out = subprocess.run(args, capture_output=True, text=True, check=False, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{stage} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's own peak resident set (VmHWM). Not ru_maxrss: Linux carries that across
    fork and exec, so a subprocess would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextmanager
def section(title: str) -> Iterator[None]:
    print(f"\n== {title}", flush=True)
    start = time.perf_counter()
    yield
    print(f"   ({time.perf_counter() - start:.0f} s)", flush=True)


def fmt_rows(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"
