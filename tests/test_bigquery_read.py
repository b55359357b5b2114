"""BigQuery at size: results read through the Storage Read API where it is installed and its
endpoint known, through REST otherwise (a decision `[warehouse] read_api` makes, tested here
without a network), the same rows either way; and the client's own retries for transient
errors (5xx answers, a job that failed on the backend) injected by a proxy in front of the
emulator, while invalid SQL fails at once with its one-line error."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipeline.config.load import load_warehouse_section
from pipeline.core.errors import ConfigError, WarehouseError
from pipeline.core.vocabulary import ReadApi
from pipeline.warehouse import bigquery_read
from pipeline.warehouse.bigquery import BigQueryWarehouse
from pipeline.warehouse.bigquery_read import _at_most, choose_read_api
from tests.conftest import EmulatorEndpoints, write_config
from tests.flaky_proxy import Fault, flaky_proxy
from tests.test_bigquery import bigquery_config, raw_into_emulator

auto, rest, storage = ReadApi.auto, ReadApi.rest, ReadApi.storage
EMULATOR = "http://127.0.0.1:9050"


@pytest.mark.parametrize(
    ("setting", "installed", "endpoint", "storage_endpoint", "chosen"),
    [
        (auto, True, None, None, storage),  # BigQuery itself
        (auto, False, None, None, rest),  # the package is not installed
        (auto, True, EMULATOR, None, rest),  # an emulator's REST endpoint says no gRPC address
        (auto, True, EMULATOR, "127.0.0.1:9060", storage),
        (auto, False, EMULATOR, "127.0.0.1:9060", rest),
        (rest, True, None, None, rest),
        (rest, True, EMULATOR, "127.0.0.1:9060", rest),
        (storage, True, None, None, storage),
        (storage, True, EMULATOR, "127.0.0.1:9060", storage),
    ],
)
def test_read_api_choice(
    setting: ReadApi,
    installed: bool,
    endpoint: str | None,
    storage_endpoint: str | None,
    chosen: ReadApi,
) -> None:
    assert choose_read_api(setting, installed, endpoint, storage_endpoint) is chosen


def test_read_api_storage_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ConfigError, match=r"pip install '\.\[bigquery-storage\]'"):
        choose_read_api(storage, False, None, None)
    with pytest.raises(ConfigError, match="needs storage_endpoint"):
        choose_read_api(storage, True, EMULATOR, None)


def _section(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "warehouse.toml"
    path.write_text(
        '[warehouse]\ntype = "bigquery"\nproject = "p"\n'
        f'endpoint = "{EMULATOR}"\nanonymous = true\n{extra}'
    )
    return path


@pytest.mark.parametrize(
    ("extra", "chosen"),
    [
        ("", rest),
        ('storage_endpoint = "127.0.0.1:9060"\n', storage),
        ('read_api = "rest"\nstorage_endpoint = "127.0.0.1:9060"\n', rest),
    ],
)
def test_warehouse_says_which_api_it_reads_with(
    tmp_path: Path, extra: str, chosen: ReadApi
) -> None:
    """Built from the config without reaching the endpoints (clients connect on first use)."""
    with BigQueryWarehouse.from_config(load_warehouse_section(_section(tmp_path, extra))) as wh:
        assert wh.read_api is chosen


def test_unknown_read_api_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_warehouse_section(_section(tmp_path, 'read_api = "fast"\n'))
    assert "read_api" in str(err.value) and "\n" not in str(err.value)


def test_storage_frames_are_cut_to_batch_rows() -> None:
    batch = pa.record_batch({"x": pa.array(range(25))})  # x: (25,)
    parts = list(_at_most(batch, 10))
    assert [p.num_rows for p in parts] == [10, 10, 5]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([batch]))


# --- on the emulator (slow) ----------------------------------------------------------------
TABLE = "readapi.t"
ROWS = 30_000


@pytest.fixture(scope="module")
def emulator_table(bigquery_emulator_endpoints: EmulatorEndpoints) -> EmulatorEndpoints:
    """A table of ROWS rows of every column type the pipeline reads, in the emulator."""
    with BigQueryWarehouse(
        "test-proj", endpoint=bigquery_emulator_endpoints.rest, anonymous=True, timeout=60
    ) as wh:
        wh.replace_table(
            TABLE,
            "SELECT x AS id, x * 0.5 AS f, CAST(x AS STRING) AS s, MOD(x, 3) = 0 AS b, "
            "IF(MOD(x, 7) = 0, NULL, x) AS n, TIMESTAMP '2020-01-01 00:00:00' AS ts "
            f"FROM UNNEST(GENERATE_ARRAY(1, {ROWS})) AS x",
        )
    return bigquery_emulator_endpoints


def _warehouse(endpoints: EmulatorEndpoints, **options: object) -> BigQueryWarehouse:
    return BigQueryWarehouse(
        "test-proj",
        endpoint=options.pop("endpoint", endpoints.rest),  # type: ignore[arg-type]
        anonymous=True,
        timeout=60,
        **options,  # type: ignore[arg-type]
    )


def test_storage_and_rest_read_the_same_rows(
    emulator_table: EmulatorEndpoints, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = []
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient

    create = BigQueryReadClient.create_read_session

    def counted(self: BigQueryReadClient, *args: object, **kwargs: object) -> object:
        sessions.append(1)
        return create(self, *args, **kwargs)

    monkeypatch.setattr(BigQueryReadClient, "create_read_session", counted)
    by_rest = _warehouse(emulator_table, read_api=rest)
    by_storage = _warehouse(emulator_table, read_api=storage, storage_endpoint=emulator_table.grpc)
    assert (by_rest.read_api, by_storage.read_api) == (rest, storage)
    ordered = f"SELECT * FROM {TABLE} ORDER BY id"
    a, b = by_rest.query_arrow(ordered), by_storage.query_arrow(ordered)
    assert len(sessions) == 1
    assert a.num_rows == ROWS and a.schema == b.schema and a.equals(b)

    batches = list(by_storage.stream_batches(f"SELECT * FROM {TABLE}", 7_000))
    assert len(sessions) == 2
    assert max(x.num_rows for x in batches) <= 7_000
    streamed = pa.Table.from_batches(batches).sort_by("id")
    assert streamed.equals(a)

    # a result that fits in the first REST page is read from it: no read session
    small = by_storage.query_arrow(f"SELECT count(*) AS n, sum(id) AS total FROM {TABLE}")
    assert small.to_pylist() == [{"n": ROWS, "total": ROWS * (ROWS + 1) // 2}]
    assert len(sessions) == 2
    by_rest.close()
    by_storage.close()


def test_auto_falls_back_to_rest_when_storage_is_unreachable(
    emulator_table: EmulatorEndpoints, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import _free_port

    nowhere = f"127.0.0.1:{_free_port()}"
    with _warehouse(emulator_table, storage_endpoint=nowhere) as wh:
        assert wh.read_api is storage
        with caplog.at_level(logging.WARNING, logger="pipeline"):
            table = wh.query_arrow(f"SELECT * FROM {TABLE}")
        assert table.num_rows == ROWS and wh.read_api is rest
        assert any("reading results through REST" in r.getMessage() for r in caplog.records)
    with _warehouse(emulator_table, read_api=storage, storage_endpoint=nowhere) as wh:
        with pytest.raises(WarehouseError) as err:
            wh.query_arrow(f"SELECT * FROM {TABLE}")
        assert "\n" not in str(err.value)


JOBS = r"/projects/[^/]+/jobs(\?|$)"  # jobs.insert
RESULTS = r"/projects/[^/]+/queries/"  # jobs.getQueryResults


@pytest.mark.parametrize(
    ("faults", "inserts"),
    [
        ([Fault("POST", JOBS, 503, "backendError", times=2)], 3),
        ([Fault("POST", JOBS, 429, "rateLimitExceeded", times=1)], 2),
        ([Fault("GET", RESULTS, 500, "internalError", times=2)], 1),
        # the job itself failed on the backend: only running it again helps (job retry)
        ([Fault("POST", JOBS, reason="backendError", fail_job=True)], 2),
        ([Fault("GET", RESULTS, 500, "jobBackendError")], 1),
    ],
    ids=["insert-503", "insert-429", "results-500", "job-failed", "job-backend-error"],
)
def test_transient_errors_are_retried(
    emulator_table: EmulatorEndpoints, faults: list[Fault], inserts: int
) -> None:
    with (
        flaky_proxy(emulator_table.rest, faults) as proxy,
        _warehouse(emulator_table, endpoint=proxy.url, read_api=rest) as wh,
    ):
        n = wh.query_arrow(f"SELECT count(*) AS n FROM {TABLE}").column(0)[0].as_py()
    assert n == ROWS
    assert all(f.used == f.times for f in faults), proxy.seen
    assert proxy.count("POST", JOBS) == inserts, proxy.seen


def test_invalid_sql_fails_at_once(emulator_table: EmulatorEndpoints) -> None:
    """A 400 is not retried (one jobs.insert, no rerun), and reads as one line; behind a
    transient 503 too."""
    for faults in ([], [Fault("POST", JOBS, 503)]):
        with (
            flaky_proxy(emulator_table.rest, faults) as proxy,
            _warehouse(emulator_table, endpoint=proxy.url) as wh,
        ):
            start = time.monotonic()
            with pytest.raises(WarehouseError) as err:
                wh.query_arrow(f"SELEC id FROM {TABLE}")
            elapsed = time.monotonic() - start
        message = str(err.value)
        assert message.startswith("BigQuery: Syntax error") and "\n" not in message
        assert [s for m, p, s in proxy.seen if m == "POST"] == [f.status for f in faults] + [200]
        assert elapsed < 10


def test_pipeline_reads_through_storage(
    tmp_path: Path,
    bigquery_emulator_endpoints: EmulatorEndpoints,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """preprocess, train and predict on the emulator with every large read through the Storage
    API (a first REST page of 50 rows) give the model and predictions of DuckDB."""
    from pipeline.stages.base import RunOptions
    from pipeline.stages.ledger import new_run_id
    from pipeline.stages.runner import run_stages
    from tests.synthetic import write_warehouse

    monkeypatch.setattr(bigquery_read, "FIRST_PAGE_ROWS", 50)
    warehouse = tmp_path / "warehouse.duckdb"
    write_warehouse(warehouse, 600, 200)
    local = write_config(
        tmp_path, warehouse, n_estimators="5", output_schema='"readapi"', batch_rows="70"
    )
    config = bigquery_config(local, bigquery_emulator_endpoints.rest)
    config.write_text(
        config.read_text().replace(
            "anonymous = true\n",
            f'anonymous = true\nread_api = "storage"\n'
            f'storage_endpoint = "{bigquery_emulator_endpoints.grpc}"\n',
        )
    )
    raw_into_emulator(warehouse, config, tmp_path, prefix="readapi_")

    def run(path: Path, name: str) -> str:
        options = RunOptions(
            config_path=path,
            run_id=new_run_id(),
            models_dir=tmp_path / name / "models",
            out_dir=tmp_path / name / "runs",
        )
        results = run_stages(options, ["preprocess", "train", "predict"])
        (model,) = [r.model_id for r in results if r.model_id and r.stage == "train"]
        return str(model)

    assert run(config, "bq") == run(local, "duck")
    key = "SELECT PassengerId, dataset, prediction, score FROM readapi.predictions"
    with BigQueryWarehouse.from_config(load_warehouse_section(config)) as wh:
        assert wh.read_api is storage
        there = sorted(tuple(r.values()) for r in wh.query_arrow(key).to_pylist())
    con = duckdb.connect(str(warehouse), read_only=True)
    here = sorted(con.execute(key).fetchall())
    con.close()
    assert len(here) == len(there) > 0 and [r[:3] for r in here] == [r[:3] for r in there]
    assert [r[3] for r in here] == pytest.approx([r[3] for r in there], rel=1e-9, abs=1e-12)
