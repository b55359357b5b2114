"""The SQL templates: a Jinja environment over one `sql/` directory, rendered for one dialect.

Dialect differences live in `sql/macros/`, as dbt does it: a template calls
`adapter.dispatch('median')(expr)`, which picks `<dialect>__median` or falls back to
`default__median`. Every rendered statement carries a content hash for the run ledger.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, TracebackType
from typing import TYPE_CHECKING, Any

import jinja2

from pipeline.core.errors import TemplateError

if TYPE_CHECKING:
    from pipeline.render.dialect import Dialect


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Rendered:
    name: str  # template path relative to the sql directory
    sql: str

    @property
    def hash(self) -> str:
        return sha256_text(self.sql)


class Adapter:
    """`adapter.dispatch(name)` in a template: the macro for this dialect, else the default."""

    def __init__(self, env: jinja2.Environment, dialect: str, root: Path):
        self._env = env
        self._root = root
        self.dialect = dialect
        self._macros: dict[str, Callable[..., str]] | None = None
        self._signature: tuple[tuple[str, float], ...] = ()

    def refresh(self) -> None:
        """Forget the macros when a macro file changed since they were loaded."""
        files = sorted((self._root / "macros").glob("*.sql"))
        signature = tuple((p.name, p.stat().st_mtime) for p in files)
        if signature != self._signature:
            self._signature, self._macros = signature, None

    def _load(self) -> dict[str, Callable[..., str]]:
        if self._macros is None:
            macros: dict[str, Callable[..., str]] = {}
            for name in self._env.list_templates(filter_func=_is_macro_file):
                module = self._env.get_template(name).module
                for attr in dir(module):
                    if "__" in attr and not attr.startswith("_"):
                        macros[attr] = getattr(module, attr)
            self._macros = macros
        return self._macros

    def dispatch(self, name: str) -> Callable[..., str]:
        macros = self._load()
        for candidate in (f"{self.dialect}__{name}", f"default__{name}"):
            if candidate in macros:
                return macros[candidate]
        raise jinja2.TemplateRuntimeError(
            f"no macro {self.dialect}__{name} or default__{name} in sql/macros/"
        )


def _is_macro_file(name: str) -> bool:
    return name.startswith("macros/") and name.endswith(".sql")


class _SameSourceCache(jinja2.BytecodeCache):
    """Compiled templates shared by every `Templates` in this process, keyed by the template's
    path under its sql directory: a model's copy of the SQL, or another project's, compiles
    once. Jinja checks the source's checksum, so an edited or different file compiles anew,
    and a reused compilation is pointed at this file, so errors name the file that failed."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return name

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        bucket = super().get_bucket(environment, name, filename, source)
        if bucket.code is not None and filename and bucket.code.co_filename != filename:
            bucket.code = _moved(bucket.code, filename)
        return bucket

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # resets itself when the checksum differs

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


def _moved(code: CodeType, filename: str) -> CodeType:
    """`code`, and every function compiled inside it, as compiled from `filename`."""
    consts = tuple(_moved(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


_COMPILED = _SameSourceCache()


class Templates:
    """All templates under one directory, rendered for one dialect: needs no connection.

    `templates_for(root, dialect)` shares one instance (and so one compilation of each
    template) per directory and dialect, since rendering depends on nothing else. Edited files
    are picked up: Jinja checks each file's modification time."""

    def __init__(self, root: Path, dialect: Dialect):
        root = Path(root)
        if not root.is_dir():
            raise TemplateError(f"SQL template directory {root} not found")
        self.root = root
        self.dialect = dialect
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(root)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            bytecode_cache=_COMPILED,
        )
        self.env.filters["ident"] = dialect.quote
        # a raw table's column, whose name may hold dots: quoted as one identifier
        self.env.filters["column"] = dialect.column
        self.env.filters["lit"] = dialect.literal
        self.adapter = Adapter(self.env, dialect.name, root)
        self.env.globals["adapter"] = self.adapter
        self.env.globals["dialect"] = dialect.name
        self.env.globals["types"] = {str(k): v for k, v in dialect.type_names.items()}

    def render(self, name: str, **context: Any) -> Rendered:
        self.adapter.refresh()
        try:
            sql = self.env.get_template(name).render(**context)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{exc.filename or self.root / name}, line {exc.lineno}: {exc.message}"
            ) from exc
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"SQL template {self.root / str(exc.name)} not found") from exc
        except (jinja2.TemplateError, TypeError, ValueError) as exc:
            where = _template_frame(exc.__traceback__) or str(self.root / name)
            raise TemplateError(f"{where}: {exc}") from exc
        return Rendered(name=name, sql=sql.strip() + "\n")

    def source_hashes(self) -> dict[str, str]:
        """sha256 of every template file, keyed by its path relative to the sql directory."""
        return hash_tree(self.root)


@functools.lru_cache(maxsize=64)
def _shared(root: str, dialect: Dialect) -> Templates:
    return Templates(Path(root), dialect)


def templates_for(root: Path | str, dialect: Dialect) -> Templates:
    """The shared `Templates` of one directory and dialect."""
    return _shared(str(Path(root).resolve()), dialect)


def hash_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.sql"))
    }


def _template_frame(tb: TracebackType | None) -> str | None:
    """Jinja rewrites tracebacks to point into the template: report the innermost .sql frame."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".sql"):
            found = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return found
