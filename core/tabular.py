"""Tabular imports: templates, parsing CSV and XLSX, and per-row validation with errors
that name the row and the column.

An import is two steps: a preview that validates every row and lists each rejected one,
and a commit that applies the whole file in one transaction, refused while any row is
rejected. The same file imported twice changes nothing (each import matches existing rows
on a natural key: a personal file number, a login, a timetable slot).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Callable

import marshmallow as ma
from flask_babel import gettext as _

from core.errors import Refused

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024  # the file as uploaded
# An XLSX is a zip: a small file can inflate to gigabytes. The members' sizes are checked,
# declared and then as actually inflated, before the workbook is opened.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_COLUMNS = 100


@dataclass
class Column:
    header: str  # the Russian header of the template
    key: str
    required: bool = False
    parse: Callable | None = None  # str -> value; raises ValueError with a translated message
    example: str = ""
    max_length: int | None = None  # the longest text the column it fills can store


def length_of(attribute) -> int | None:
    """The length of a model's ``String(n)`` column (``Pupil.last_name``), for ``max_length``."""
    return getattr(attribute.property.columns[0].type, "length", None)


@dataclass
class RowError:
    row: int  # the row number as the spreadsheet shows it (the header is row 1)
    column: str  # the header, as the user sees it
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)  # each with "_row": its number
    errors: list[RowError] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # header -> Column.key

    def reject(self, row: int, column: str, message: str):
        self.errors.append(RowError(row, column, str(message)))

    @property
    def rejected_rows(self) -> set[int]:
        return {e.row for e in self.errors}

    def errors_by_path(self) -> dict:
        """API.md's form: ``rows.17.birth_date`` → messages, named by the column's key
        (pages show the header the user sees, :meth:`RowError.as_dict`)."""
        out: dict[str, list[str]] = {}
        for error in self.errors:
            out.setdefault(f"rows.{error.row}.{self.keys.get(error.column, error.column)}", []).append(error.message)
        return out


class ReportSchema(ma.Schema):
    """What checking or importing a file answers: rows read, rows rejected, each error."""

    rows = ma.fields.Integer()
    rejected = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Dict())
    committed = ma.fields.Boolean()



def file_refused(message) -> Refused:
    """The whole file is refused (unreadable, too large, a column missing)."""
    return Refused.on("file", message)


def template_xlsx(columns: list[Column], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([c.header for c in columns])
    sheet.append([c.example for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(14, len(column.header) + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv(columns: list[Column]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([c.header for c in columns])
    writer.writerow([c.example for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def read_table(filename: str, data: bytes) -> list[list]:
    """Rows of cells from an XLSX or CSV file (UTF-8 or Windows-1251, ';' or ','), the
    header and at most ``MAX_ROWS`` rows after it: a longer file is refused while reading."""
    if len(data) > MAX_BYTES:
        raise file_refused(_("The file is larger than %(mb)s MB.", mb=MAX_BYTES // 1024 // 1024))
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return _bounded(_xlsx_rows(data))
    text = _decoded(data)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ";", delimiters=";,\t")
    except csv.Error:
        dialect = _Semicolon
    try:
        return _bounded(csv.reader(io.StringIO(text), dialect))
    except csv.Error as error:
        raise file_refused(_("The file is not a readable CSV table.")) from error


def _decoded(data: bytes) -> str:
    """The CSV's text, in UTF-8 or else Windows-1251. A UTF-8 file with a few rows pasted in
    from a Windows-1251 one is refused naming those rows: decoded whole as Windows-1251 it
    would import every other row garbled."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    bad = [number for number, line in enumerate(lines, start=1) if not _is_utf8(line)]
    if any(not line.isascii() and _is_utf8(line) for line in lines):
        raise Refused({f"rows.{number}": [_("Row %(n)s is not in the encoding of the rest of the file (UTF-8): "
                                            "save the whole file as UTF-8.", n=number)] for number in bad[:20]})
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        raise file_refused(_("The file is neither UTF-8 nor Windows-1251 text.")) from None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _bounded(rows) -> list[list]:
    table = []
    for row in rows:
        if len(table) > MAX_ROWS:
            raise file_refused(_("The file has more than %(n)s rows.", n=MAX_ROWS))
        table.append(list(row))
    return table


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        # read-only mode streams the sheet's XML row by row
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield row
    except Refused:
        raise
    except Exception as error:  # noqa: BLE001 - any unreadable or truncated workbook
        raise file_refused(_("The file is not a readable XLSX workbook.")) from error


def _check_unpacked_size(data: bytes):
    """Refuse a workbook whose members inflate beyond ``MAX_UNPACKED_BYTES``: first by the
    sizes the zip declares, then by inflating each member (a declared size can lie)."""
    import zipfile

    too_large = file_refused(_("The workbook unpacks to more than %(mb)s MB: save it again without "
                                  "empty rows and formatting, or split it.", mb=MAX_UNPACKED_BYTES // 1024 // 1024))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise too_large
        total = 0
        for member in members:
            with archive.open(member) as stream:
                while chunk := stream.read(1024 * 1024):
                    total += len(chunk)
                    if total > MAX_UNPACKED_BYTES:
                        raise too_large
    except Refused:
        raise
    except Exception as error:  # noqa: BLE001 - not a zip, a broken member, a bad CRC
        raise file_refused(_("The file is not a readable XLSX workbook.")) from error


class _Semicolon(csv.excel):
    delimiter = ";"


def parse(filename: str, data: bytes, columns: list[Column]) -> Parsed:
    """Cells to dicts keyed by ``Column.key``; missing or unparsable cells are rejected."""
    table = read_table(filename, data)
    result = Parsed(keys={column.header: column.key for column in columns})
    if not table:
        raise file_refused(_("The file is empty."))
    headers = [str(h).strip() if h is not None else "" for h in table[0]]
    positions = {}
    for column in columns:
        if column.header in headers:
            positions[column.key] = headers.index(column.header)
        elif column.required:
            raise file_refused(_("The column «%(column)s» is missing. Download the template.", column=column.header))
    for number, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        row = {"_row": number}
        for column in columns:
            index = positions.get(column.key)
            raw = cells[index] if index is not None and index < len(cells) else None
            if isinstance(raw, str):
                raw = raw.strip()
            if raw is None or raw == "":
                if column.required:
                    result.reject(number, column.header, _("Fill in this cell."))
                row[column.key] = None
                continue
            try:
                _check_cell(column, raw)
                row[column.key] = column.parse(raw) if column.parse else str(raw)
            except ValueError as error:
                result.reject(number, column.header, str(error))
                row[column.key] = None
        result.rows.append(row)
    return result


def _check_cell(column: Column, raw):
    """What the database could not store is a rejected cell in the preview, not a failed
    commit."""
    from core.inputs import bad_text, bad_text_message, too_long_message

    if not isinstance(raw, str):
        return
    if bad_text(raw):
        raise ValueError(bad_text_message())
    if column.max_length and len(raw) > column.max_length:
        raise ValueError(too_long_message(column.max_length))


def parse_date(raw) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"):
        try:
            return dt.datetime.strptime(str(raw).strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(_("Not a date: «%(value)s». Write it as 05.10.2014.", value=raw))


def parse_int(raw) -> int:
    import math

    try:
        value = float(str(raw).replace(",", "."))
    except ValueError:
        raise ValueError(_("Not a number: «%(value)s».", value=raw)) from None
    if not math.isfinite(value) or abs(value) > 2 ** 31:
        raise ValueError(_("Not a number: «%(value)s».", value=raw))
    if value != int(value):
        raise ValueError(_("Not a whole number: «%(value)s».", value=raw))
    return int(value)


def parse_text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw).strip()
