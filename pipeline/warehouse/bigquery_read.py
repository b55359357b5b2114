"""How BigQuery query results come back: through the Storage Read API (Arrow streams over gRPC,
read in parallel) when its package is installed (`pip install '.[bigquery-storage]'`) and its
endpoint is known, else through the REST API (JSON pages, one request after another).

`[warehouse] read_api` decides: `rest` always REST; `storage` always Storage (a ConfigError
when the package is missing, or when an `endpoint` is set without a `storage_endpoint`); `auto`
(the default) Storage when the package is installed and the endpoint is BigQuery's own or a
`storage_endpoint` is given, REST otherwise: a REST `endpoint` alone (an emulator) does not say
where its gRPC service listens. Under `auto`, a Storage read refused before its first row (no
permission to create read sessions, the endpoint unreachable) falls back to REST, with a
warning, for the rest of the session. Results that fit in the first REST page (counts,
statistics, metrics) skip the Storage API either way: a read session costs a round trip.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import ConfigError
from pipeline.core.vocabulary import ReadApi

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger("pipeline")

#: rows of the first REST page when Storage may read the rest: a result this small is read
#: from that page alone
FIRST_PAGE_ROWS = 10_000
#: what [warehouse] read_api = "storage" needs installed
STORAGE_EXTRA = "pip install '.[bigquery-storage]'"


def storage_installed() -> bool:
    """Whether the BigQuery Storage client can be imported (not imported here: it is heavy)."""
    try:
        return importlib.util.find_spec("google.cloud.bigquery_storage_v1") is not None
    except ModuleNotFoundError:  # pragma: no cover - google.cloud itself missing
        return False


def choose_read_api(
    setting: ReadApi, installed: bool, endpoint: str | None, storage_endpoint: str | None
) -> ReadApi:
    """The API results are read through (`rest` or `storage`), from `[warehouse] read_api`,
    whether the Storage package is installed and which endpoints are configured."""
    if setting is ReadApi.rest:
        return ReadApi.rest
    known = storage_endpoint is not None or endpoint is None
    if setting is ReadApi.storage:
        if not installed:
            raise ConfigError(
                f'[warehouse] read_api = "storage" needs the BigQuery Storage client: '
                f"{STORAGE_EXTRA}"
            )
        if not known:
            raise ConfigError(
                '[warehouse] read_api = "storage" with an endpoint needs storage_endpoint '
                "(host:port of its Storage Read API)"
            )
        return ReadApi.storage
    return ReadApi.storage if installed and known else ReadApi.rest


def storage_client(bq_client: Any, storage_endpoint: str | None, anonymous: bool) -> Any:
    """A BigQuery Storage read client with the REST client's credentials; without credentials
    (an emulator on loopback) over a plain-text gRPC channel. Connects on first use."""
    from google.cloud import bigquery_storage_v1

    if anonymous and storage_endpoint:
        import grpc
        from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
            BigQueryReadGrpcTransport,
        )

        channel = grpc.insecure_channel(storage_endpoint)
        return bigquery_storage_v1.BigQueryReadClient(
            transport=BigQueryReadGrpcTransport(channel=channel)
        )
    options = {"api_endpoint": storage_endpoint} if storage_endpoint else None
    return bigquery_storage_v1.BigQueryReadClient(
        credentials=bq_client._credentials, client_options=options
    )


class ResultReader:
    """Reads a finished query job's rows through the chosen API (`api`)."""

    def __init__(
        self, api: ReadApi, client: Any | None, fallback: bool, timeout: float, retry: Any = None
    ):
        self.api, self._client, self._fallback = api, client, fallback
        self._wait = {"timeout": timeout, "retry": retry}  # for job.result()

    @classmethod
    def build(
        cls,
        setting: ReadApi,
        bq_client: Any,
        endpoint: str | None,
        storage_endpoint: str | None,
        anonymous: bool,
        timeout: float,
        retry: Any = None,
    ) -> ResultReader:
        api = choose_read_api(setting, storage_installed(), endpoint, storage_endpoint)
        client = None
        if api is ReadApi.storage:
            client = storage_client(bq_client, storage_endpoint, anonymous)
        log.debug("BigQuery results are read through the %s API (read_api = %r)", api, setting)
        return cls(api, client, setting is ReadApi.auto, timeout, retry)

    def _page_size(self, rows: int | None) -> int | None:
        # REST alone keeps the server's page size; with Storage the first page is kept small
        if self._client is None:
            return rows
        return rows or FIRST_PAGE_ROWS

    def _refused(self, exc: BaseException) -> None:
        """Under `auto`, a Storage read refused before its first row switches to REST for
        good; anything else raises."""
        from google.api_core.exceptions import GoogleAPIError

        if not (self._fallback and isinstance(exc, GoogleAPIError)):
            raise exc
        log.warning(
            "the BigQuery Storage Read API refused the read (%s); reading results through "
            'REST from now on (set [warehouse] read_api = "rest" to skip the attempt)',
            " ".join(str(exc).split())[:200],
        )
        self.api, self._client = ReadApi.rest, None

    def close(self) -> None:
        if self._client is not None:
            self._client._transport.close()

    def table(self, job: Any) -> pa.Table:
        """All of the job's rows, once it is done (waiting here: the first wait fetches the
        first page when `page_size` asks for it, and a small result needs no more)."""
        if self._client is not None:
            rows = job.result(page_size=self._page_size(None), **self._wait)
            try:
                return rows.to_arrow(bqstorage_client=self._client)
            except Exception as exc:
                self._refused(exc)
        rows = job.result(**self._wait)
        return rows.to_arrow(create_bqstorage_client=False)

    def batches(self, job: Any, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """The job's rows in batches of at most `batch_rows` rows."""
        if self._client is not None:
            rows = job.result(page_size=self._page_size(batch_rows), **self._wait)
            stream = rows.to_arrow_iterable(bqstorage_client=self._client)
            try:
                first = next(stream, None)
            except Exception as exc:
                self._refused(exc)
            else:
                if first is not None:
                    yield from _at_most(first, batch_rows)
                    for batch in stream:
                        yield from _at_most(batch, batch_rows)
                return
        rows = job.result(page_size=batch_rows, **self._wait)
        yield from rows.to_arrow_iterable(bqstorage_client=None)


def _at_most(batch: pa.RecordBatch, rows: int) -> Iterator[pa.RecordBatch]:
    """`batch` in slices of at most `rows` rows (zero-copy): a Storage stream's frames are as
    large as the server makes them."""
    for start in range(0, batch.num_rows, rows):
        yield batch.slice(start, rows)
