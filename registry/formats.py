"""Reading a submitted file (registry or profile import) as a stream of rows, CSV or XLSX.

:func:`open_submission` looks at a file by its content, never its name: an XLSX workbook (a ZIP
holding ``[Content_Types].xml`` and ``xl/workbook.xml``; first sheet, streamed by openpyxl in
read-only mode), or CSV text in UTF-8 (with or without BOM) or GB18030. Anything else gives a
:class:`FileProblem`, not an exception. Each :meth:`OpenedFile.rows` call reads the file again,
so memory does not grow with the file. ``rows()`` adds a ``FILE-TYPE`` problem if the body turns
out unreadable part-way, so look at ``problems`` again after iterating. Record checks belong to
the caller, which also runs :func:`looks_like_mojibake` and :func:`unreadable` on each value.

A defect of the whole file is a :class:`FileProblem`; one confined to some cells is left to the
record checks, so that a receipt lists every row's defects in one pass. Bytes the encoding
cannot read, in a minority of the data lines of a CSV file whose header reads, come through as
lone surrogates (``surrogateescape``), one per byte, which :func:`unreadable` finds and shows;
garbled text (mojibake) stops the file only in its header or in most of its sampled text cells.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "EXTRA_KEY",
    "RULE_IDS",
    "ColumnSpec",
    "FileProblem",
    "OpenedFile",
    "looks_like_mojibake",
    "mojibake_repair",
    "normalise_header",
    "open_submission",
    "unreadable",
]

FILE_TYPE: Final = "FILE-TYPE"
FILE_EMPTY: Final = "FILE-EMPTY"
FILE_ENCODING: Final = "FILE-ENCODING"
FILE_MOJIBAKE: Final = "FILE-MOJIBAKE"
HDR_MISSING: Final = "HDR-MISSING"
HDR_UNKNOWN: Final = "HDR-UNKNOWN"
HDR_DUPLICATE: Final = "HDR-DUPLICATE"
RULE_IDS: Final = (
    *(FILE_TYPE, FILE_EMPTY, FILE_ENCODING, FILE_MOJIBAKE),
    *(HDR_MISSING, HDR_UNKNOWN, HDR_DUPLICATE),
)

EXTRA_KEY: Final = "__extra__"  # cells beyond the header, joined by ","
CHUNK: Final = 1 << 20
SAMPLE_ROWS: Final = 200  # data rows checked for mojibake when opening
# Bytes of multi-byte UTF-8 decoded before the first invalid byte from which the file is taken
# to be damaged UTF-8 rather than GB18030 (a GB18030 file fails within its first characters).
UTF8_EVIDENCE: Final = 16


@dataclass(frozen=True)
class ColumnSpec:
    key: str  # English key, e.g. "fi_code"
    aliases: tuple[str, ...]  # accepted header names, e.g. ("fi_code", "金融机构编码")
    required: bool  # the column must be present in the header (its values may be empty)


@dataclass(frozen=True)
class FileProblem:
    """A file-level or header-level problem (rule ids: :data:`RULE_IDS`)."""

    rule_id: str
    severity: Literal["error", "warning"]
    column: str | None  # the header name concerned (HDR-MISSING: the spec key)
    value: str | None  # the offending value: header text, bytes, garbled text, file kind
    row: int | None  # physical row (1 = header row in a normal file) where relevant
    detail: str | None = None  # what it probably is / should be, for the message


# --- mojibake -------------------------------------------------------------------------------------


def _gb2312_level1() -> frozenset[str]:
    pairs = (bytes((lead, trail)) for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF))
    return frozenset(c for p in pairs for c in p.decode("gb2312", "replace")) - {"\ufffd"}


# The 3,755 common characters of GB 2312 plus the punctuation seen in names and addresses.
_COMMON: Final = _gb2312_level1() | frozenset(
    "，。、；：？！（）【】《》〈〉「」『』“”‘’—－…·～〇℃°№×￥"
    + "".join(map(chr, range(0xFF01, 0xFF5F)))
)
_CP1252_TO_LATIN1: Final = {
    ord(bytes((b,)).decode("cp1252")): chr(b)
    for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
# A UTF-8 lead byte of CJK text or punctuation (E2-EF) read together with its next byte as GBK.
_UTF8_LEAD_AS_GBK: Final = frozenset(
    bytes((lead, trail)).decode("gbk", "replace")
    for lead in range(0xE2, 0xF0)
    for trail in range(0x80, 0xC0)
) - {"\ufffd"}
_LATIN_LENIENT: Final = {**_CP1252_TO_LATIN1, 0xFFFD: "\xff"}  # a byte never valid in UTF-8


def _cjk(text: str) -> int:
    return sum(1 for c in text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")


def _rare(text: str) -> int:
    return sum(1 for c in text if c > "\x7f" and c not in _COMMON)


def _from_gbk_misreading(text: str) -> str | None:
    """UTF-8 bytes that were decoded as GBK/GB18030: encode back and decode as UTF-8."""
    if _UTF8_LEAD_AS_GBK.isdisjoint(text):
        return None  # a garbled run of CJK always starts with such a character
    try:
        raw = text.encode("gb18030")
    except UnicodeEncodeError:  # lone surrogates
        return None
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        fixed = raw.decode("utf-8", "replace")  # bytes lost to "?" or dropped by the misreading
        cjk, rare, rare_before = _cjk(fixed), _rare(fixed), _rare(text)
        if not cjk or rare >= rare_before:
            return None
        marks = sum(1 for c in text if c in _UTF8_LEAD_AS_GBK)
        lossy = marks >= 2 and marks * 3 >= sum(1 for c in text if c > "\x7f")
        partial = cjk >= 2 and fixed.count("\ufffd") * 2 <= cjk and rare * 2 < rare_before
        return fixed if lossy or partial else None
    if fixed == text:
        return None
    return fixed if "\ufffd" in fixed or (_cjk(fixed) and _rare(fixed) < _rare(text)) else None


def _from_latin_misreading(text: str) -> str | None:
    """UTF-8 (or GBK) bytes that were decoded as cp1252/Latin-1."""
    if max(text) > "\u2122" and "\ufffd" not in text:
        return None  # beyond the last cp1252 character: not this kind
    try:
        raw = text.translate(_CP1252_TO_LATIN1).encode("latin-1")
        try:
            return raw.decode("utf-8")  # valid multi-byte UTF-8 made of Latin letters
        except UnicodeDecodeError:
            fixed = raw.decode("gb18030", "replace")  # or GBK bytes read as Latin-1
        if (cjk := _cjk(fixed)) >= 2 and "\ufffd" not in fixed and _rare(fixed) * 2 <= cjk:
            return fixed
        fixed = text.translate(_LATIN_LENIENT).encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return None
    return fixed if (cjk := _cjk(fixed)) and fixed.count("\ufffd") <= cjk else None


def looks_like_mojibake(text: str) -> tuple[bool, str | None]:
    """Whether ``text`` is garbled by a wrong conversion, and what it probably said.

    ``(False, None)``: sound text. ``(True, repaired)``: the misreading can be undone
    (``repaired`` holds U+FFFD where bytes were lost). ``(True, None)``: garbled beyond repair,
    e.g. U+FFFD replacement characters, or "锟斤拷" (U+FFFD itself misread as GBK).
    """
    if text.isascii():
        return False, None
    fixed = _from_latin_misreading(text) or _from_gbk_misreading(text)
    for _ in range(2):  # twice garbled ("Ã¤Â¸Â­")
        again = None if fixed is None or fixed.isascii() else _from_latin_misreading(fixed)
        if again is None:
            break
        fixed = again
    if fixed is None:
        return "\ufffd" in text, None
    return True, (fixed if fixed.replace("\ufffd", "").strip() else None)


def mojibake_repair(text: str) -> str | None:
    """The probable original of a garbled ``text``; None when it is sound or beyond repair."""
    return looks_like_mojibake(text)[1]


# --- headers --------------------------------------------------------------------------------------

_MARKER: Final = re.compile(r"(?:\s*(?:\(必填\)|\*))+$")
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_header(name: str) -> str:
    """Header text as compared with aliases: NFKC (full-width forms, U+3000), trimmed of
    whitespace, BOM and zero-width spaces, a trailing "(必填)"/"*" dropped, ASCII lower-cased."""
    text = unicodedata.normalize("NFKC", name).replace("\ufeff", "").replace("\u200b", "")
    return _MARKER.sub("", text.strip()).strip().translate(_ASCII_LOWER)


def _map_header(
    header: list[str], spec: Sequence[ColumnSpec], row: int
) -> tuple[list[str | None], list[FileProblem]]:
    names = {normalise_header(a): s.key for s in spec for a in (s.key, *s.aliases)}
    columns: list[str | None] = []
    problems: list[FileProblem] = []
    first: dict[str, str] = {}
    for text in header:
        key = names.get(normalise_header(text))
        if key is None:
            problems.append(FileProblem(HDR_UNKNOWN, "warning", text or None, text, row))
        elif key in first:
            detail = f"same column as {first[key]!r}"
            problems.append(FileProblem(HDR_DUPLICATE, "error", text, text, row, detail))
            key = None
        else:
            first[key] = text
        columns.append(key)
    for s in spec:
        if s.required and s.key not in first:
            aliases = " / ".join(dict.fromkeys((s.key, *s.aliases)))
            problems.append(FileProblem(HDR_MISSING, "error", s.key, aliases, row))
    return columns, problems


# --- cells ----------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a person sees: 2584001234 not 2584001234.0, dates YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


# --- sniffing -------------------------------------------------------------------------------------

_MAGIC: Final = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003 .xls: save as .xlsx or CSV"),
    (b"%PDF", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"{\\rtf", "RTF document"),
)
_UTF16: Final = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32 has NULs


def _zip_kind(path: Path) -> str | None:
    """None for an XLSX workbook, else what the ZIP is."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return "damaged ZIP archive"
    if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
        return None
    if "xl/workbook.bin" in names:
        return "Excel binary workbook (.xlsb): save as .xlsx or CSV"
    if "word/document.xml" in names:
        return "Word document"
    return "ZIP archive, not an XLSX workbook"


# A character no decoding of text yields: "surrogateescape" turns each unreadable byte into one.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _shown_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def unreadable(text: str) -> str | None:
    """``text`` with its unreadable bytes shown as ``\\xNN``, or None when it has none.

    They can be neither stored (PostgreSQL text is valid UTF-8) nor guessed, so a cell
    holding one is reported with this storable form and otherwise left unused.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return None
    return _SURROGATE.sub(_shown_surrogate, text)


@dataclass
class _Scan:
    ok: bool
    offset: int = 0  # of the first invalid byte
    line: int = 0  # its line number
    bad: bytes = b""
    evidence: int = 0  # bytes beyond one per character decoded before it


def _scan(path: Path, encoding: str, start: int) -> _Scan:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    pos, lines, evidence = start, 1, 0
    with path.open("rb") as fh:
        fh.seek(start)
        while True:
            chunk = fh.read(CHUNK)
            pending = len(decoder.getstate()[0])  # held back from the last chunk, no newline
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                good = exc.object[: exc.start]
                evidence += len(good) - len(good.decode(encoding, "ignore"))
                line = lines + good.count(b"\n")
                bad = exc.object[exc.start : exc.end]
                return _Scan(False, pos - pending + exc.start, line, bad, evidence)
            if not chunk:
                return _Scan(True)
            evidence += len(chunk) - len(text)
            lines += chunk.count(b"\n")
            pos += len(chunk)


def _confined(path: Path, encoding: str, start: int) -> bool:
    """Whether the bytes ``encoding`` cannot read are confined to some data lines.

    They are when the header (the first non-blank line) reads and at most half of the data
    lines holding non-ASCII bytes have such bytes: then the file is in ``encoding`` and those
    lines are damaged, which the record checks report row by row. More, and the file is in
    some other encoding: nothing in it can be trusted. Only damaged files pay for this pass.
    """
    decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
    text_lines = bad_lines = 0
    header: bool | None = None  # whether the header is damaged, once it is seen
    carry = ""  # the unfinished last line of the previous chunk
    with path.open("rb") as fh:
        fh.seek(start)
        while True:
            chunk = fh.read(CHUNK)
            lines = (carry + decoder.decode(chunk, final=not chunk)).split("\n")
            carry = "" if not chunk else lines.pop()
            for line in lines:
                if header is None:
                    if line.strip(" \t\r,;"):
                        header = _SURROGATE.search(line) is not None
                elif not line.isascii():
                    text_lines += 1
                    bad_lines += _SURROGATE.search(line) is not None
            if not chunk:
                return header is False and bad_lines * 2 <= text_lines


def _detect_encoding(path: Path) -> tuple[str | None, str, FileProblem | None]:
    """The file's encoding, the decoding errors to read it with, or why it cannot be read.

    "surrogateescape" when the file is in that encoding but some data lines are damaged
    (:func:`_confined`); either candidate may be the one whose damage is confined.
    """
    with path.open("rb") as fh:
        bom = fh.read(3) == codecs.BOM_UTF8
    utf8_name = "utf-8-sig" if bom else "utf-8"
    utf8 = _scan(path, "utf-8", 3 if bom else 0)
    if utf8.ok:
        return utf8_name, "strict", None
    bad, judged = utf8, "UTF-8"
    candidates = [(utf8_name, 3 if bom else 0)]
    if not bom and utf8.evidence < UTF8_EVIDENCE:
        gb = _scan(path, "gb18030", 0)
        if gb.ok:
            return "gb18030", "strict", None
        candidates.append(("gb18030", 0))
        if gb.offset > utf8.offset:
            bad, judged = gb, "GB18030"
            candidates.reverse()
    for encoding, start in candidates:
        if _confined(path, encoding, start):
            return encoding, "surrogateescape", None
    value = f"byte {bad.offset}: {bad.bad!r}"
    detail = f"invalid {judged} at byte offset {bad.offset}; neither UTF-8 nor GB18030"
    return None, "strict", FileProblem(FILE_ENCODING, "error", None, value, bad.line, detail)


def _sniff_delimiter(path: Path, encoding: str, errors: str) -> str:
    """Comma, unless the first non-blank line has none but has semicolons or tabs."""
    with path.open(encoding=encoding, errors=errors, newline="") as fh:
        while line := fh.readline(1 << 16):
            if line.strip():
                break
    if "," in line or not (";" in line or "\t" in line):
        return ","
    return ";" if line.count(";") >= line.count("\t") else "\t"


def _sniff_kind(path: Path, head: bytes) -> tuple[Literal["csv", "xlsx"], FileProblem | None]:
    def problem(rule: str, value: str, row: int | None = None) -> FileProblem:
        return FileProblem(rule, "error", None, value, row)

    if not head:
        return "csv", problem(FILE_EMPTY, "0 bytes")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        what = _zip_kind(path)
        return ("csv", problem(FILE_TYPE, what)) if what else ("xlsx", None)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return "csv", problem(FILE_TYPE, name)
    if head.startswith(_UTF16):
        return "csv", problem(FILE_ENCODING, "UTF-16 text: save as UTF-8 CSV", 1)
    if b"\x00" in head:
        return "csv", problem(FILE_TYPE, "binary data (NUL bytes), not CSV text")
    return "csv", None


def _sample_mojibake(sample: list[tuple[int, list[str]]], header: list[str]) -> list[FileProblem]:
    """One FILE-MOJIBAKE problem naming the first garbled value and the rows that have one,
    when the whole file is garbled: its header, or most of the sampled cells holding non-ASCII
    text. Fewer garbled cells are the record checks' to report (FLD-MOJIBAKE), each with its
    row, column and repair, while every other row is validated as usual."""
    found: list[tuple[int, int, str, str | None]] = []
    text_cells = garbled_cells = 0
    for row, cells in sample:
        first = True
        for i, cell in enumerate(cells):
            if cell.isascii():
                continue
            garbled, repaired = looks_like_mojibake(cell.strip())
            text_cells += row != sample[0][0]
            garbled_cells += garbled and row != sample[0][0]
            if garbled and first:
                found.append((row, i, cell.strip(), repaired))
                first = False
    header_garbled = bool(found) and found[0][0] == sample[0][0]
    if not (header_garbled or garbled_cells * 2 > text_cells):
        return []
    row, i, text, repaired = found[0]
    column = header[i] if row != sample[0][0] and i < len(header) else None
    rows = ", ".join(str(r) for r, *_ in found[:20]) + (" ..." if len(found) > 20 else "")
    detail = f"probably {repaired!r}; " if repaired else ""
    detail += f"rows {rows} (header and first {SAMPLE_ROWS} data rows checked)"
    return [FileProblem(FILE_MOJIBAKE, "error", column, text, row, detail)]


# --- the opened file ------------------------------------------------------------------------------


class _UnreadableError(Exception):
    """The body of a file that opened cannot be parsed (CSV limits, damaged workbook XML)."""


@dataclass
class OpenedFile:
    """An opened submission; ``kind`` is "csv" for a refused non-XLSX file."""

    kind: Literal["csv", "xlsx"]
    encoding: str | None  # "utf-8", "utf-8-sig" or "gb18030" for CSV; None for XLSX
    columns: list[str | None]  # per physical column: the ColumnSpec.key, or None (ignored)
    problems: list[FileProblem]
    path: Path
    keys: tuple[str, ...]  # the spec's keys, each present in every row dict
    delimiter: str = ","
    header_row: int | None = None  # None: nothing can be read
    data_rows_seen: int = 0  # data rows the last rows() pass yielded
    # "surrogateescape": some data lines hold bytes the encoding cannot read (see unreadable)
    errors: str = "strict"

    @property
    def damaged(self) -> bool:
        """Some cells may hold unreadable bytes: rows must go through the record checks."""
        return self.errors != "strict"

    def _records(self) -> Generator[tuple[int, list[str]]]:
        """Every non-blank record, header included, with its first physical row number."""
        if self.kind == "xlsx":
            yield from _xlsx_records(self.path)
            return
        with self.path.open(encoding=self.encoding, errors=self.errors, newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            line = 0
            try:
                for cells in reader:
                    start, line = line + 1, reader.line_num
                    if "".join(cells).strip():
                        yield start, cells
            except csv.Error as exc:
                raise _UnreadableError(f"CSV from line {line + 1}: {exc}") from exc

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {key: stripped text}) for each data row; blank rows are skipped.

        Cells beyond the header's width go, joined by ",", under :data:`EXTRA_KEY`.
        """
        if self.header_row is None:
            return
        keys, width = self.keys, len(self.columns)
        pairs = [(i, key) for i, key in enumerate(self.columns) if key is not None]
        self.data_rows_seen = 0
        records = self._records()
        try:
            for row, cells in records:
                if row <= self.header_row:
                    continue
                out = dict.fromkeys(keys, "")
                n = len(cells)
                for i, key in pairs:
                    if i < n:
                        out[key] = cells[i].strip()
                if n > width and (extra := _trimmed(cells[width:])):
                    out[EXTRA_KEY] = ",".join(extra)
                self.data_rows_seen += 1
                yield row, out
        except _UnreadableError as exc:
            value = f"unreadable after {self.data_rows_seen} data rows: {exc}"
            problem = FileProblem(FILE_TYPE, "error", None, value, None)
            if problem not in self.problems:
                self.problems.append(problem)
        finally:
            records.close()


def _trimmed(cells: list[str]) -> list[str]:
    out = [c.strip() for c in cells]
    while out and not out[-1]:
        out.pop()
    return out


def _xlsx_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # here, so that CSV-only use does not pay for it

    fh = path.open("rb")  # a file object: openpyxl refuses file names not ending in .xlsx
    try:
        book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails in many ways on damaged XML
        fh.close()
        raise _UnreadableError(f"XLSX workbook: {exc}") from exc
    try:
        if not book.worksheets:
            return
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not trust the stored <dimension>; rows come unpadded
        number = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:
                raise _UnreadableError(f"XLSX sheet after row {number}: {exc}") from exc
            if values is None:
                return
            number += 1  # gaps in the sheet come as empty rows, so this is the sheet row
            cells = [_cell_text(v) for v in values]
            if "".join(cells).strip():
                yield number, cells
    finally:
        book.close()
        fh.close()


def open_submission(path: Path, spec: Sequence[ColumnSpec]) -> OpenedFile:
    """Open a submitted file. Bad content gives problems, never an exception (a missing file
    still raises OSError); when the file cannot be read at all, ``rows()`` yields nothing."""
    keys = tuple(s.key for s in spec)
    with path.open("rb") as fh:
        head = fh.read(8192)
    kind, problem = _sniff_kind(path, head)
    opened = OpenedFile(kind, None, [], [], path, keys)
    if problem is None and kind == "csv":
        opened.encoding, opened.errors, problem = _detect_encoding(path)
        if opened.encoding is not None:
            opened.delimiter = _sniff_delimiter(path, opened.encoding, opened.errors)
    if problem is not None:
        opened.problems.append(problem)
        return opened
    records = opened._records()
    try:
        first = next(records, None)
        sample = list(itertools.islice(records, SAMPLE_ROWS))
    except _UnreadableError as exc:
        opened.problems.append(FileProblem(FILE_TYPE, "error", None, str(exc), None))
        return opened
    finally:
        records.close()
    if first is None:
        opened.problems.append(FileProblem(FILE_EMPTY, "error", None, "no header", None))
        return opened
    header_row, header = first[0], _trimmed(first[1])
    if damaged_header := [shown for cell in header if (shown := unreadable(cell)) is not None]:
        # _confined took another line for the header (a quoted line break, a line of quotes)
        detail = "the header cannot be read as " + (opened.encoding or "")
        problem = FileProblem(FILE_ENCODING, "error", None, damaged_header[0], header_row, detail)
        opened.problems.append(problem)
        return opened
    opened.columns, opened.problems = _map_header(header, spec, header_row)
    opened.problems += _sample_mojibake([(header_row, header), *sample], header)
    if not sample:
        opened.problems.append(FileProblem(FILE_EMPTY, "error", None, "no data rows", None))
    opened.header_row = header_row
    return opened
