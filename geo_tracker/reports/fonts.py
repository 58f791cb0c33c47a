"""The report's fallback faces (Noto CJK) embedded in the DOCX, subset to the characters it prints.

Why: the runs name the office's faces (仿宋_GB2312, 方正小标宋简体, 黑体) and the font table gives
each a Noto CJK fallback as ``altName``; a Windows machine with neither shows substitutes. So each
fallback face is embedded per ECMA-376 Part 1 §17.8.3 (obfuscated fonts), in its own entry of the
font table, the way Word writes embedded fonts:

* subset to the document's text (plus digits, ASCII and CJK punctuation), so it weighs tens of
  kilobytes instead of 20 MB;
* converted to TrueType outlines (cu2qu): Noto CJK is CFF-flavoured OpenType, and Office embeds only
  fonts with TrueType outlines (its embedding service, T2Embed, takes no CFF); LibreOffice 7.4 does
  read a CFF part, but by the CFF's own name, which in Noto's collections is the JP face's;
* obfuscated: the first 32 bytes XORed with the GUID ``w:fontKey``, read as the 16 bytes of its
  hex digits last byte first (LibreOffice's writerfilter/source/dmapper/FontTable.cxx);
* related from ``word/fontTable.xml`` and announced in ``word/settings.xml``
  (``embedTrueTypeFonts``, ``saveSubsetFonts``), so Word keeps them when the office saves it again.

Noto CJK is under the SIL Open Font License, which allows embedding; fsType 0 (installable) says so.
When a face's file is not on this machine (fonts-noto-cjk not installed) it is left out with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import struct
import sys
import uuid
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from lxml import etree

log = logging.getLogger(__name__)

OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
#: Where the fallback faces are looked for (Debian's fonts-noto-cjk puts them in /usr/share/fonts/opentype/noto).
FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts",
             Path.home() / ".fonts")
#: Kept besides the text's own characters, so page numbers, edited figures and punctuation stay in the face.
EXTRA_CHARS = ("".join(map(chr, range(0x20, 0x7F)))                       # digits, ASCII letters and punctuation
               + "".join(map(chr, range(0x3000, 0x3012))) + "〔〕〖〗"   # 、。《》「」【】…
               + "".join(map(chr, range(0xFF01, 0xFF21))) + "［］＿｛｜｝～"  # ，：；！？（）％ and ０–９
               + "—–‘’“”…·×÷±≤≥№‰")
#: Largest deviation of the quadratic outlines from the cubic ones, in font units (of 1000 per em).
MAX_ERR = 1.0
#: Parts of the document whose runs are printed (body, headers, footers, notes).
_TEXT_PARTS = ("document.main+xml", "header+xml", "footer+xml", "footnotes+xml", "endnotes+xml")
#: Children of w:settings that come before w:embedTrueTypeFonts (CT_Settings is a sequence).
_SETTINGS_BEFORE = ("writeProtection", "view", "zoom", "removePersonalInformation", "removeDateAndTime",
                    "doNotDisplayPageBoundaries", "displayBackgroundShape", "printPostScriptOverText",
                    "printFractionalCharacterWidth", "printFormsData")


@dataclass(frozen=True)
class EmbeddedFont:
    """One embedded face: the font-table name, the part and its key, the subset's size and characters."""

    name: str
    partname: str
    key: str
    size: int
    chars: str


def embed_fallback_fonts(doc) -> list[EmbeddedFont]:
    """Embed every fallback face the font table declares (as some entry's altName), subset to the text of
    the runs set in it or in a face that falls back to it. Call it last, just before ``doc.save``."""
    table_part = next(r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE)
    table = etree.fromstring(table_part.blob)
    entries = {f.get(qn("w:name")): f for f in table.findall(qn("w:font"))}
    fallback_of = {name: alt.get(qn("w:val")) for name, f in entries.items()
                   if (alt := f.find(qn("w:altName"))) is not None}
    chars: dict[str, set[str]] = {name: set() for name in set(fallback_of.values()) if name in entries}
    for font, text in _runs(doc):
        face = font if font in chars else fallback_of.get(font)
        if face in chars:
            chars[face].update(text)
    embedded = []
    for name in sorted(chars):
        if not chars[name] or entries[name].find(qn("w:embedRegular")) is not None:
            continue
        found = find_face(name)
        if found is None:
            log.warning("font %s not found under %s: not embedded in the report", name,
                        ", ".join(map(str, FONT_DIRS)))
            continue
        data, covered = subset_truetype(*found, chars[name] | set(EXTRA_CHARS))
        key = _font_key(data)
        partname = PackURI(f"/word/fonts/font{len(embedded) + 1}.odttf")
        part = Part(partname, OBFUSCATED_FONT, obfuscate(data, key), doc.part.package)
        rid = table_part.relate_to(part, RT.FONT)
        node = etree.SubElement(entries[name], qn("w:embedRegular"))   # last child of w:font, as the schema has it
        node.set(qn("r:id"), rid)
        node.set(qn("w:fontKey"), key)
        node.set(qn("w:subsetted"), "1")
        embedded.append(EmbeddedFont(name, str(partname), key, len(data), covered))
    if embedded:
        table_part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)
        _keep_embedded(doc.settings.element)
    return embedded


def _runs(doc):
    """(East-Asian face, text) of every run in the printed parts; a run without its own face takes Normal's."""
    default = None
    for path in ("w:docDefaults/w:rPrDefault/w:rPr/w:rFonts", "w:style[@w:styleId='Normal']/w:rPr/w:rFonts"):
        for fonts in doc.styles.element.xpath(path):
            default = fonts.get(qn("w:eastAsia")) or default
    for part in doc.part.package.iter_parts():
        if not part.content_type.endswith(_TEXT_PARTS):
            continue
        root = part.element if hasattr(part, "element") else etree.fromstring(part.blob)
        for run in root.iter(qn("w:r")):
            fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
            face = fonts.get(qn("w:eastAsia")) if fonts is not None else None
            yield face or default, "".join(t.text or "" for t in run.iter(qn("w:t")))


@functools.cache
def find_face(family: str) -> tuple[Path, int] | None:
    """The file (and the face's index in a collection) of ``family``'s Regular style, e.g. "Noto Serif CJK SC"
    in NotoSerifCJK-Regular.ttc at index 2; files are picked by name, then checked by their name table."""
    squashed = family.replace(" ", "").lower()
    for folder in FONT_DIRS:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*Regular.*")):
            stem = path.stem.split("-")[0].lower()
            if path.suffix.lower() not in (".ttc", ".otc", ".otf", ".ttf") or not squashed.startswith(stem):
                continue
            try:
                for index, names in _faces(path):
                    if names.getDebugName(1) == family and names.getDebugName(2) == "Regular":
                        return path, index
            except Exception as e:  # noqa: BLE001 - an unreadable file is not this family's
                log.debug("skipping unreadable font file %s: %s", path, e)
    return None


def _faces(path: Path):
    """(index, name table) of each face in a font file or collection (.ttc)."""
    with path.open("rb") as file:
        header = file.read(12)
    count = struct.unpack(">I", header[8:12])[0] if header[:4] == b"ttcf" else 1
    for index in range(count):
        with TTFont(path, fontNumber=index, lazy=True) as font:
            yield index, font["name"]


def subset_truetype(path: Path, index: int, chars: set[str]) -> tuple[bytes, str]:
    """The face cut down to ``chars`` (those it has) with TrueType outlines, and the characters it covers.

    Built afresh rather than with fontTools.subset, which walks the whole CFF (65 535 CID glyphs) to
    desubroutinize it and close over the layout features: several times slower, and the report needs neither
    GSUB/GPOS nor vertical metrics. Only the few glyphs are read (cmap, charstrings and advances by glyph id);
    the name table (with the OFL notice), OS/2 (code pages: Word counts it a GB2312 face) and the metrics are
    the original's.
    """
    with TTFont(path, fontNumber=index, lazy=True) as source:
        mapping = _glyph_ids(source, {ord(c) for c in chars})
        kept = sorted({0, *mapping.values()})
        names = {gid: f"g{gid}" if gid else ".notdef" for gid in kept}
        glyphs = {}
        for gid in kept:
            pen = TTGlyphPen(None)
            _outline(source, gid).draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))   # TrueType winds clockwise
            glyphs[names[gid]] = pen.glyph()
        head, hhea, post = source["head"], source["hhea"], source["post"]
        builder = FontBuilder(head.unitsPerEm, isTTF=True)
        builder.setupGlyphOrder([names[gid] for gid in kept])
        builder.setupCharacterMap({cp: names[gid] for cp, gid in mapping.items()})
        builder.setupGlyf(glyphs)
        glyf, hmtx = builder.font["glyf"], source.reader["hmtx"]
        advance = {gid: struct.unpack_from(">H", hmtx, 4 * min(gid, hhea.numberOfHMetrics - 1))[0] for gid in kept}
        builder.setupHorizontalMetrics({names[g]: (advance[g], getattr(glyf[names[g]], "xMin", 0)) for g in kept})
        builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent, lineGap=hhea.lineGap)
        builder.setupHead(fontRevision=head.fontRevision, created=head.created, modified=head.modified,
                          macStyle=head.macStyle, flags=head.flags, lowestRecPPEM=head.lowestRecPPEM)
        builder.setupPost(keepGlyphNames=False, italicAngle=post.italicAngle, isFixedPitch=post.isFixedPitch,
                          underlinePosition=post.underlinePosition, underlineThickness=post.underlineThickness)
        builder.font["name"] = source["name"]
        os2 = source["OS/2"]
        os2.fsType = 0                       # installable embedding (OFL); LibreOffice drops restricted faces
        builder.font["OS/2"] = os2           # usFirst/LastCharIndex are recomputed from the new cmap on save
        builder.setupMaxp()
        out = BytesIO()
        builder.font.save(out)
    return out.getvalue(), "".join(sorted(map(chr, mapping)))


def _glyph_ids(font: TTFont, codepoints: set[int]) -> dict[int, int]:
    """Glyph id of each code point the face has, looked up in the raw format-12 cmap (decoding the whole
    table, some 45 000 entries, costs more than the rest of the subset)."""
    data = font.reader["cmap"]
    count = struct.unpack_from(">H", data, 2)[0]
    records = {struct.unpack_from(">HH", data, 4 + 8 * i): struct.unpack_from(">I", data, 8 + 8 * i)[0]
               for i in range(count)}
    offset = records.get((3, 10), records.get((0, 4)))
    if offset is None or struct.unpack_from(">H", data, offset)[0] != 12:
        cmap = font.getBestCmap()
        return {cp: font.getGlyphID(cmap[cp]) for cp in codepoints if cp in cmap}
    groups = array("I", data[offset + 16:offset + 16 + 12 * struct.unpack_from(">I", data, offset + 12)[0]])
    if sys.byteorder == "little":
        groups.byteswap()
    starts, ends, firsts = groups[0::3], groups[1::3], groups[2::3]
    found = {}
    for cp in codepoints:
        i = bisect_right(starts, cp) - 1
        if i >= 0 and cp <= ends[i]:
            found[cp] = firsts[i] + cp - starts[i]
    return found


def _outline(font: TTFont, gid: int):
    """The glyph ``gid`` to draw: its CFF charstring (by index, no glyph names needed) or its glyf entry."""
    if "CFF " in font:
        return font["CFF "].cff.topDictIndex[0].CharStrings.charStringsIndex[gid]
    return font.getGlyphSet()[font.getGlyphName(gid)]


def _font_key(data: bytes) -> str:
    """A GUID for ``w:fontKey``, from the font's bytes so the same report gives the same file."""
    guid = uuid.UUID(bytes=hashlib.sha256(data).digest()[:16], version=4)
    return f"{{{str(guid).upper()}}}"


def obfuscation_key(font_key: str) -> bytes:
    """The 16-byte XOR key of ECMA-376 Part 1 §17.8.1: the GUID's hex digits as bytes, last byte first."""
    return bytes.fromhex(font_key.strip("{}").replace("-", ""))[::-1]


def obfuscate(data: bytes, font_key: str) -> bytes:
    """XOR the first 32 bytes with the key (twice over); the same call undoes it."""
    key = obfuscation_key(font_key) * 2
    return bytes(b ^ k for b, k in zip(data[:32], key)) + data[32:]


def _keep_embedded(settings) -> None:
    """``w:embedTrueTypeFonts`` and ``w:saveSubsetFonts`` in their place in w:settings (a schema sequence)."""
    order = (*_SETTINGS_BEFORE, "embedTrueTypeFonts", "embedSystemFonts", "saveSubsetFonts")
    for tag in ("embedTrueTypeFonts", "saveSubsetFonts"):
        if settings.find(qn(f"w:{tag}")) is not None:
            continue
        before = {qn(f"w:{t}") for t in order[:order.index(tag)]}
        anchor = next((child for child in reversed(settings) if child.tag in before), None)
        node = OxmlElement(f"w:{tag}")
        if anchor is None:
            settings.insert(0, node)
        else:
            anchor.addnext(node)
