"""A run's collected answers and scores as CSV or JSON Lines, streamed.

Rows come from a server-side cursor (``answers.stream_export_rows``) or, for
downloads, by keyset pages on short transactions (``paged_rows``), are
formatted one at a time and written out at once, so memory stays flat however
many answers a run has. The same rows feed these outlets:

- ``write_export(conn, run_id, fmt, out)``: to a text stream (``cronkeeper runs export``);
- ``export_to_path(...)``: to a file, through a temporary file renamed into
  place, so a failed export never leaves half a file behind;
- ``iter_export(...)``: encoded chunks, from one connection's cursor;
- ``iter_export_pages(...)``: the same chunks page by page, holding no
  connection between pages (the API's downloads: a stalled client holds nothing).

Auto-exports (``auto_export``) go to ``<export root>/<customer_id>/<path>``.

Paths are templates: ``{date}`` (the run's slot, ``scheduled_for``, as a UTC
``YYYY-MM-DD``), ``{job_id}`` and ``{run_id}``. A job whose metadata names
``output_format`` and ``output_path`` has its runs exported by the worker
(``cronkeeper.job_types``). See docs/exports.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import string
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import psycopg

from cronkeeper import csv_safe, runs
from cronkeeper.errors import CronkeeperError, ValidationError
from cronkeeper.models import JobRun
from cronkeeper.repo import answers as answers_repo
from cronkeeper.settings import Settings

FORMATS = ("csv", "jsonl")
COLUMNS = (
    "run_id", "scheduled_for", "job_id", "job_name", "job_type", "brand_id", "brand",
    "answer_id", "query_id", "query", "collector", "model", "answer", "sources", "latency_ms",
    "answered_at", "mentioned", "mention_count", "position", "sentiment", "share_of_voice",
    "competitors_mentioned", "scored_at",
)  # fmt: skip
CONTENT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson"}  # both UTF-8
PLACEHOLDERS = ("date", "job_id", "run_id")
CHUNK_BYTES = 64 * 1024
PAGE_ROWS = 500


def check_format(fmt: Any, field: str = "format") -> str:
    """``fmt`` lower-cased when it is ``csv`` or ``jsonl``; else ``ValidationError`` on ``field``."""
    if isinstance(fmt, str) and fmt.strip().lower() in FORMATS:
        return fmt.strip().lower()
    got = repr(fmt)[:60]
    raise ValidationError(f"{field} must be one of {', '.join(FORMATS)}; got {got}", field=field)


# -- formatting ----------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN: no value
        return None
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):  # sources, competitors: a JSON array in one cell
        return json.dumps(value, ensure_ascii=False)
    return _json_value(value)


def _lines(rows: Iterator[Mapping[str, Any]], fmt: str) -> Iterator[str]:
    """The export's text, one record at a time (CSV: the header first)."""
    if fmt == "jsonl":
        for row in rows:
            record = {c: _json_value(row[c]) for c in COLUMNS}
            yield json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quoted as needed, CRLF line ends
    writer.writerow(COLUMNS)
    yield buffer.getvalue()
    safe = csv_safe.escaper()  # text a spreadsheet would run as a formula gets a leading '
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe(_csv_value(row[c])) for c in COLUMNS])
        yield buffer.getvalue()


def export_lines(conn: psycopg.Connection, run_id: int, fmt: str) -> Iterator[str]:
    """The run's export as text, one record per piece (CSV: the header first), from a
    server-side cursor. Checks the format, not the run: see ``write_export``."""
    return _lines(answers_repo.stream_export_rows(conn, run_id), check_format(fmt))


def write_export(
    conn: psycopg.Connection, run_id: int, fmt: str, out: TextIO, *, customer_id: UUID | None = None
) -> int:
    """Write the run's export to ``out``; return the number of rows (the CSV header not counted).

    Raises ``ValidationError`` (field ``format``) for a bad format and
    ``NotFound`` for a run that does not exist or is not ``customer_id``'s.
    ``out`` should be opened with ``newline=""`` (CSV writes its own CRLFs).
    """
    fmt = check_format(fmt)
    runs.get_run(conn, run_id, customer_id=customer_id)
    return _write(conn, run_id, fmt, out)


def iter_export(
    conn: psycopg.Connection, run_id: int, fmt: str, *, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[bytes]:
    """The run's export as UTF-8 chunks of about ``chunk_bytes``, for an HTTP stream.

    Check the format and the run (``check_format``, ``runs.get_run``) before
    streaming: once the response has started, a 404 can no longer be sent.
    """
    return _chunked(export_lines(conn, run_id, fmt), chunk_bytes)


def paged_rows(
    connect: Callable[[], AbstractContextManager[psycopg.Connection]], run_id: int, page_size: int = PAGE_ROWS
) -> Iterator[dict[str, Any]]:
    """The run's export rows, page by page (keyset on the answer id), each page read on a
    connection of its own taken from ``connect`` (``pool.connection``) and given back at once.

    Nothing is held between pages, so a reader that stalls holds no connection and no
    transaction. Pages are separate snapshots: rows stored during a download may appear.
    """
    after = 0
    while True:
        with connect() as conn:
            page = answers_repo.export_page(conn, run_id, after_id=after, limit=page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]["answer_id"]


def iter_export_pages(
    connect: Callable[[], AbstractContextManager[psycopg.Connection]], run_id: int, fmt: str,
    *, chunk_bytes: int = CHUNK_BYTES, page_size: int = PAGE_ROWS,
) -> Iterator[bytes]:
    """``iter_export`` for an HTTP download: the same chunks, from ``paged_rows``."""
    return _chunked(_lines(paged_rows(connect, run_id, page_size), check_format(fmt)), chunk_bytes)


def _chunked(pieces: Iterator[str], chunk_bytes: int) -> Iterator[bytes]:
    pending: list[str] = []
    size = 0
    for piece in pieces:
        pending.append(piece)
        size += len(piece)
        if size >= chunk_bytes:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()


def _write(conn: psycopg.Connection, run_id: int, fmt: str, out: TextIO) -> int:
    pieces = 0
    for piece in export_lines(conn, run_id, fmt):
        out.write(piece)
        pieces += 1
    return pieces - 1 if fmt == "csv" else pieces


# -- files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    path: Path
    rows: int


def check_path_template(template: Any, field: str = "output") -> str:
    """``template`` when it is a usable path template; else ``ValidationError`` on ``field``.

    Only ``{date}``, ``{job_id}`` and ``{run_id}`` may appear, bare (no format
    spec or conversion); ``{{`` and ``}}`` are literal braces.
    """
    if not isinstance(template, str) or not template.strip() or "\x00" in template:
        raise ValidationError(f"{field} must be a non-empty path; got {template!r}", field=field)
    allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(
            f"{field} is not a valid template ({exc}); write {{{{ or }}}} for a literal brace",
            field=field,
        ) from None
    for _literal, name, spec, conversion in parsed:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            raise ValidationError(f"{field} may only hold {allowed}; got {template!r}", field=field)
    if ".." in Path(template).parts:
        raise ValidationError(f"{field} may not go up a directory ('..'); got {template!r}", field=field)
    return template


def check_export_path(template: Any, field: str = "metadata.output_path") -> str:
    """``template`` when it is fit for an auto-export: ``check_path_template``, and relative to
    the customer's export directory (no absolute path, no ``~``, no ``.`` or ``..`` step, a file
    name at the end); else ``ValidationError`` on ``field``."""
    check_path_template(template, field)
    steps = template.split("/")
    if template.startswith(("/", "~")) or any(step in (".", "..") for step in steps) or not steps[-1]:
        raise ValidationError(
            f"{field} must be a relative file path inside the export directory, like "
            f"'{{job_id}}/{{date}}.csv' (no leading '/' or '~', no '.' or '..' step); got {template[:120]!r}",
            field=field,
        )
    return template


def confine(path: Path, root: Path) -> Path:
    """``path`` (relative paths start at ``root``) once it is certain to name a file strictly inside ``root``.

    Symbolic links are followed before the check, so a link inside the root
    cannot lead out of it. ``CronkeeperError`` otherwise; its message shows
    ``path`` as given, never ``root`` (nor the home directory).
    """
    base = root.expanduser().resolve()
    target = (base / path).resolve()  # an absolute ``path`` replaces ``base``
    if target == base or not target.is_relative_to(base):
        raise CronkeeperError(f"{path} is outside the customer's export directory")
    return target


def render_path(template: str, run: JobRun, field: str = "output") -> Path:
    """The path ``template`` names for ``run``; ``{date}`` is its slot's UTC date (``YYYY-MM-DD``)."""
    check_path_template(template, field)
    return Path(_render(template, run)).expanduser()


def _render(template: str, run: JobRun) -> str:
    date = run.scheduled_for.astimezone(dt.UTC).date().isoformat()
    return template.format(date=date, job_id=run.scheduled_job_id, run_id=run.id)


def export_to_path(
    conn: psycopg.Connection, run: JobRun, fmt: str, template: str, *, field: str = "output",
    root: Path | None = None,
) -> Exported:
    """Export ``run`` to the file ``template`` names, creating its directory.

    The rows go to a temporary file beside it (``.NAME.*.part``, mode 0600),
    synced and then renamed over the target: the file is whole or absent. A
    file-system error becomes a ``CronkeeperError`` naming the target. With
    ``root``, the file must lie strictly inside it (``confine``), and the
    returned path and every message show it relative to ``root``.
    """
    fmt = check_format(fmt)
    if root is None:
        path = render_path(template, run, field)
        shown = path
    else:
        shown = Path(_render(template, run))
        path = confine(shown, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise CronkeeperError(f"cannot write {shown}: {exc.strerror or type(exc).__name__}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            rows = _write(conn, run.id, fmt, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise CronkeeperError(f"cannot write {shown}: {exc.strerror or type(exc).__name__}") from None
        raise
    return Exported(path if root is None else shown, rows)


# -- jobs that export every run ----------------------------------------------------


def validate_output_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` with ``output_format`` lower-cased, after checking the export keys.

    Both ``output_format`` (csv|jsonl) and ``output_path`` (a template, see
    ``check_path_template``) are set, or neither; ``ValidationError`` names
    ``metadata.output_format`` or ``metadata.output_path``.
    """
    out = dict(metadata)
    fmt, path = out.get("output_format"), out.get("output_path")
    if fmt is None and path is None:
        return out
    if fmt is None:
        raise ValidationError(
            "metadata.output_format (csv or jsonl) is required with metadata.output_path",
            field="metadata.output_format",
        )
    if path is None:
        raise ValidationError(
            "metadata.output_path is required with metadata.output_format",
            field="metadata.output_path",
        )
    out["output_format"] = check_format(fmt, "metadata.output_format")
    check_export_path(path, "metadata.output_path")
    return out


def wants_export(metadata: Mapping[str, Any] | None) -> bool:
    return bool(metadata and metadata.get("output_format") and metadata.get("output_path"))


def customer_dir(root: Path, run: JobRun) -> Path:
    """The run's customer's export directory: ``<root>/<customer_id>``."""
    return root / str(run.customer_id)


def auto_export(
    conn: psycopg.Connection, run: JobRun, metadata: Mapping[str, Any], root: Path | None = None
) -> Exported:
    """Export ``run`` as its job's metadata asks (``output_format``, ``output_path``).

    Whoever may edit a job chooses the path, and the worker writes it: the file
    lies inside the run's customer's directory ``<root>/<customer_id>`` (root:
    the ``CRONKEEPER_EXPORT_ROOT`` setting, else ``CRONKEEPER_DATA_DIR/exports``),
    where the path starts. The path is checked again here (``check_export_path``:
    it may have been stored before the rule). The returned path is relative to
    the customer's directory, as are error messages: neither shows the root.
    """
    if root is None:
        root = Settings.from_env().exports_dir
    template = check_export_path(metadata["output_path"], "metadata.output_path")
    return export_to_path(
        conn, run, metadata["output_format"], template, field="metadata.output_path", root=customer_dir(root, run)
    )
