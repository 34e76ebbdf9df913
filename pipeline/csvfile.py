"""Reading a person's CSV file strictly: CR, LF or CRLF line ends, and no field that runs
over lines (in these files that is an unclosed quote, which csv would otherwise read up to
the next quote, swallowing the lines between into one value)."""

from __future__ import annotations

import csv
import io
from pathlib import Path


class CsvProblem(ValueError):
    """What is wrong and on which line (1-based, as an editor shows it)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def csv_records(text: str) -> tuple[list[str], list[tuple[int, dict[str | None, object]]]]:
    """The header (stripped) and every non-blank record as (line, {column: value}); values
    beyond the header's columns are a list under the key None, as csv.DictReader does."""
    # Old Mac and some exporters end lines with CR alone.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text), strict=True)
    header: list[str] | None = None
    records: list[tuple[int, dict[str | None, object]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # strict csv says "unexpected end of data" when the file ends inside quotes
            raise CsvProblem(
                start, "a quote opened here is not closed: the field runs on to the end of the file"
            ) from None
        if reader.line_num > start:
            raise CsvProblem(
                start,
                f"a quote opened here is not closed: the field runs on to line {reader.line_num}",
            )
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [h.strip() for h in row]
            continue
        record: dict[str | None, object] = {
            name: (row[i] if i < len(row) else None) for i, name in enumerate(header)
        }
        if len(row) > len(header):
            record[None] = row[len(header) :]
        records.append((start, record))
    return header or [], records


class CsvFileProblem(ValueError):
    """A CSV file that cannot be read, decoded or parsed; the message names the file."""


def read_csv_file(
    path: Path, encodings: tuple[str, ...] = ("utf-8-sig",), described: str = "UTF-8"
) -> tuple[list[str], list[tuple[int, dict[str | None, object]]]]:
    """csv_records of the file at ``path``, decoded with the first of ``encodings`` that
    fits (``described`` names them in the error)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvFileProblem(f"{path}: cannot read: {exc.strerror or exc}") from exc
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CsvFileProblem(f"{path}: not {described} text")
    try:
        return csv_records(text)
    except CsvProblem as exc:
        raise CsvFileProblem(f"{path}, {exc}") from None
