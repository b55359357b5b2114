"""Shared set-up for the benchmarks: projects on synthetic warehouses, stages in subprocesses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def write_config(directory: Path, estimator: str, params: dict[str, Any], **warehouse: str) -> Path:
    """The example config, pointed at this repo's sql/ and a warehouse in `directory`."""
    text = (REPO / "pipeline.toml").read_text()
    text = re.sub(r"(?m)^sql_dir = .*$", f'sql_dir = "{(REPO / "sql").as_posix()}"', text)
    text = re.sub(
        r"(?m)^path = .*$", f'path = "{(directory / "warehouse.duckdb").as_posix()}"', text
    )
    text = re.sub(r"(?m)^seed_from = .*$", "", text)
    text = re.sub(r'(?m)^estimator = ".*"$', f'estimator = "{estimator}"', text)
    extra = "".join(f'{k} = "{v}"\n' for k, v in warehouse.items())
    text = text.replace('type = "duckdb"\n', 'type = "duckdb"\n' + extra)
    name = estimator.rpartition(".")[2]
    body = "".join(f"{k} = {json.dumps(v)}\n" for k, v in params.items())
    text = re.sub(
        r"(?ms)^\[model\.params\.RandomForestClassifier\].*?(?=^\[scoring\])",
        f"[model.params.{name}]\n{body}\n",
        text,
    )
    path = directory / "pipeline.toml"
    path.write_text(text)
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
