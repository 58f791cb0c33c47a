"""Which text encoding a delivery's attributes are in.

Shapefiles from Chinese bureaus are usually GBK with no .cpg, sometimes UTF-8 with
one. GDAL would read a .dbf without .cpg as Latin-1 and produce mojibake (``Ã¥``),
so we decide first: honour the .cpg, else decode every text value (and the field
names, which are Chinese in 森林督查 files) strictly as UTF-8, then GBK, then
GB18030, and take the first that decodes all of them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..catalogue import msg, note
from ..errors import EncodingDetectionError

_CPG = {
    "utf-8": "UTF-8", "utf8": "UTF-8", "65001": "UTF-8",
    "gbk": "GBK", "936": "GBK", "cp936": "GBK", "gb2312": "GBK", "ansi 936": "GBK",
    "gb18030": "GB18030", "54936": "GB18030",
    "big5": "BIG5", "950": "BIG5",
    "iso-8859-1": "ISO-8859-1", "latin1": "ISO-8859-1", "88591": "ISO-8859-1", "1252": "CP1252",
}
CANDIDATES = ("UTF-8", "GBK", "GB18030")


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str
    reason: str


def normalise_encoding_name(name: str) -> str:
    key = name.strip().lower()
    return _CPG.get(key, name.strip().upper())


def read_cpg(shp: Path) -> str | None:
    for cpg in (shp.with_suffix(".cpg"), shp.with_suffix(".CPG")):
        if cpg.exists():
            text = cpg.read_bytes().decode("ascii", "ignore").strip()
            return normalise_encoding_name(text) if text else None
    return None


def dbf_text_values(dbf: Path) -> tuple[list[bytes], list[tuple[int, str, bytes]]]:
    """Raw bytes of the field names and of every non-ASCII text value in a .dbf.

    Returns ``(field_names, values)`` where each value is ``(record_no, field, raw)``
    with record_no counted from 1. Read through a memory map, one field at a time, so a
    national table never sits in memory whole.
    """
    size = dbf.stat().st_size
    if size < 32:
        raise EncodingDetectionError(msg("imports.dbf_too_short", name=dbf.name, size=size))
    data = np.memmap(dbf, dtype=np.uint8, mode="r")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12].tobytes())
    header = data[:header_len].tobytes()
    fields, pos, offset = [], 32, 1
    while pos + 32 <= min(header_len, size) and header[pos] != 0x0D:
        raw_name = header[pos:pos + 11].split(b"\x00", 1)[0]
        ftype, width = chr(header[pos + 11]), header[pos + 16]
        fields.append((raw_name, ftype, offset, width))
        offset += width
        pos += 32
    available = max(0, (size - header_len) // max(record_len, 1))
    n = min(n_records, available)
    table = data[header_len:header_len + n * record_len].reshape(n, record_len) if n \
        else np.zeros((0, record_len), np.uint8)
    values = []
    for raw_name, ftype, off, width in fields:
        if ftype not in "CM" or not n:
            continue
        block = table[:, off:off + width]
        rows = np.flatnonzero((block >= 0x80).any(axis=1))
        if not len(rows):
            continue
        # Decode each distinct value once: bureau tables repeat names (乡镇, 村) a lot.
        distinct, first = np.unique(block[rows].view(f"V{width}").ravel(), return_index=True)
        for value, row in zip(distinct, rows[first]):
            values.append((int(row) + 1, raw_name, bytes(value).rstrip(b" \x00")))
    return [f[0] for f in fields], values


def _decodes(raw: bytes, encoding: str, width_full: bool = False) -> bool:
    try:
        raw.decode(encoding)
        return True
    except UnicodeDecodeError as e:
        # A value cut at the field width may end in half a character.
        return width_full and e.start >= len(raw) - 3


def detect_dbf_encoding(shp: Path, override: str | None = None) -> EncodingDecision:
    """The encoding of a shapefile's attributes: --encoding, else .cpg, else detected."""
    if override:
        return EncodingDecision(normalise_encoding_name(override), note("imports.decision.encoding_given"))
    cpg = read_cpg(shp)
    dbf = companion(shp, ".dbf")
    names, values = dbf_text_values(dbf)
    texts = [n for n in names if any(b >= 0x80 for b in n)] + [v[2] for v in values]
    if cpg:
        try:
            fits = all(_decodes(t, cpg) for t in texts)
        except LookupError:
            fits = True  # an encoding Python does not know: let GDAL try it
        if fits:
            return EncodingDecision(cpg, note("imports.decision.encoding_cpg", cpg=shp.with_suffix(".cpg").name))
    if not texts:
        return EncodingDecision("UTF-8", note("imports.decision.encoding_ascii"))
    for encoding in CANDIDATES:
        if all(_decodes(t, encoding) for t in texts):
            reason = (note("imports.decision.encoding_cpg_wrong", cpg=shp.with_suffix(".cpg").name, declared=cpg,
                           count=len(texts), encoding=encoding) if cpg else
                      note("imports.decision.encoding_detected", count=len(texts), encoding=encoding))
            return EncodingDecision(encoding, reason)
    record, field, raw = next(
        (v for v in values if not _decodes(v[2], "GB18030")), (0, b"?", texts[0])
    )
    raise EncodingDetectionError(msg("imports.dbf_encoding_unknown", name=dbf.name, record=record,
                                     field=field.decode("latin-1"), raw=repr(raw[:24])))


def companion(shp: Path, suffix: str) -> Path:
    """The file of a shapefile set beside ``shp`` with ``suffix`` (``.dbf``, ``.shx``), in either case."""
    for candidate in (shp.with_suffix(suffix.lower()), shp.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return shp.with_suffix(suffix)


def decode_text(data: bytes, encoding: str | None = None, *, name: str = "the file") -> tuple[str, str]:
    """Decode a whole text file (坐标txt, CSV) or a name: ``encoding`` when given, else by its
    byte-order mark (UTF-8, or UTF-16: Notepad's 'Unicode'), else UTF-8, then GB18030 (GBK).

    Returns the text (without a byte-order mark) and the Python codec that decoded it;
    raises :class:`EncodingDetectionError` naming ``name`` when none does.
    """
    if encoding is not None:
        candidates = [encoding]
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for candidate in candidates:
        try:
            return data.decode(candidate).lstrip("\ufeff"), candidate
        except (UnicodeDecodeError, LookupError):
            continue
    raise EncodingDetectionError(msg("imports.text_undecodable", name=name, candidates="/".join(candidates)))
