"""The 公文 layout of the Word report (GB/T 9704-2012), built with python-docx.

Each face the document uses is declared in its font table with the shipped fallback
(Noto CJK from Debian's fonts-noto-cjk) as ``altName``, and every run names its
East-Asian face (``w:eastAsia``) so Word shows CJK in the face asked for rather than a
Latin one. The fallbacks themselves are embedded, subset, when the report is saved
(fonts.py; python-docx cannot embed fonts).
"""

from __future__ import annotations

from dataclasses import dataclass

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

from .phrases import heading as numbered


@dataclass(frozen=True)
class DocumentStyle:
    """Faces and sizes of the report; the names are what the office has installed (configurable)."""

    title_font: str = "方正小标宋简体"
    body_font: str = "仿宋_GB2312"
    heading_font: str = "黑体"
    latin_font: str = "Times New Roman"
    serif_fallback: str = "Noto Serif CJK SC"
    sans_fallback: str = "Noto Sans CJK SC"
    title_pt: float = 22        # 二号
    body_pt: float = 16         # 三号
    line_pt: float = 28         # fixed line pitch of the body
    table_pt: float = 10.5      # 五号
    embed_fonts: bool = True    # the fallbacks embedded in the file, subset to its text (fonts.py)


#: GB/T 9704 page: A4, margins in mm.
PAGE_MM = {"width": 210, "height": 297, "top": 37, "bottom": 35, "left": 28, "right": 26}
#: The village table: (figure, header with its unit, kind, width in mm); widths add up to the 156 mm text width.
COLUMNS = [
    ("name", "行政村", "name", 26), ("patches", "图斑\n（个）", "count", 15), ("area_mu", "面积\n（亩）", "area", 17.5),
    ("cultivated_mu", "耕地\n（亩）", "area", 17.5), ("illegal", "违法\n（个）", "count", 15),
    ("illegal_area_mu", "违法面积\n（亩）", "area", 17.5), ("rectified_mu", "已整改\n（亩）", "area", 17.5),
    ("rectification_rate_area", "整改率\n（%）", "rate", 15), ("overdue", "逾期\n（个）", "count", 15),
]


def cell_text(row: dict, key: str, kind: str) -> str:
    """A village-table cell as printed: counts as integers, areas as printed, rates without the % (in the header)."""
    if kind == "name":
        return row["name"]
    if kind == "count":
        return str(row[key])
    value = row["printed"][key]
    if kind == "rate":
        return "100.00" if value == "100%" else value.rstrip("%")
    return value


def _fonts(element, east_asia: str, latin: str, size: float | None = None) -> None:
    """Name the East-Asian and Latin faces of a run or style (and its size)."""
    rpr = element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in list(fonts.attrib):
        if attr.endswith("Theme}") or "Theme" in attr:
            del fonts.attrib[attr]
    for name, value in (("ascii", latin), ("hAnsi", latin), ("cs", latin), ("eastAsia", east_asia)):
        fonts.set(qn(f"w:{name}"), value)
    fonts.set(qn("w:hint"), "eastAsia")
    if size is not None:
        rpr.get_or_add_sz().val = Pt(size)


def new_document(style: DocumentStyle):
    """An A4 document with the GB/T 9704 margins, a 仿宋 Normal style and the page-number footer."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM["width"]), Mm(PAGE_MM["height"])
    section.top_margin, section.bottom_margin = Mm(PAGE_MM["top"]), Mm(PAGE_MM["bottom"])
    section.left_margin, section.right_margin = Mm(PAGE_MM["left"]), Mm(PAGE_MM["right"])
    section.footer_distance = Mm(23)
    _defaults(doc, style)
    normal = doc.styles["Normal"]
    _fonts(normal.element, style.body_font, style.latin_font, style.body_pt)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(style.line_pt)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _page_numbers(section, style)
    _declare_fonts(doc, style)
    return doc


def _defaults(doc, style: DocumentStyle) -> None:
    """Document defaults: no theme fonts (they would win over the names), Chinese as the East-Asian language."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        rpr.remove(fonts)
    fonts = OxmlElement("w:rFonts")
    for name, value in (("ascii", style.latin_font), ("hAnsi", style.latin_font), ("cs", style.latin_font),
                        ("eastAsia", style.body_font)):
        fonts.set(qn(f"w:{name}"), value)
    rpr.insert(0, fonts)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _declare_fonts(doc, style: DocumentStyle) -> None:
    """Each face in the font table, with its fallback as altName and the GB2312 charset."""
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    root = etree.fromstring(part.blob)
    for name, fallback, family in ((style.title_font, style.serif_fallback, "roman"),
                                   (style.body_font, style.serif_fallback, "roman"),
                                   (style.heading_font, style.sans_fallback, "swiss"),
                                   (style.serif_fallback, None, "roman"), (style.sans_fallback, None, "swiss")):
        if any(f.get(qn("w:name")) == name for f in root.findall(qn("w:font"))):
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        if fallback:
            etree.SubElement(font, qn("w:altName")).set(qn("w:val"), fallback)
        etree.SubElement(font, qn("w:charset")).set(qn("w:val"), "86")
        etree.SubElement(font, qn("w:family")).set(qn("w:val"), family)
        etree.SubElement(font, qn("w:pitch")).set(qn("w:val"), "variable")
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_numbers(section, style: DocumentStyle) -> None:
    """"— N —" centred in the footer, N a PAGE field (4号 宋体 as GB/T 9704 has it)."""
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text, field in (("— ", None), (None, "begin"), (" PAGE ", "instr"), (None, "separate"), ("1", None),
                        (None, "end"), (" —", None)):
        run = paragraph.add_run()
        _fonts(run._r, "宋体", style.latin_font, 14)
        if field in ("begin", "separate", "end"):
            node = OxmlElement("w:fldChar")
            node.set(qn("w:fldCharType"), field)
            run._r.append(node)
        elif field == "instr":
            node = OxmlElement("w:instrText")
            node.set(qn("xml:space"), "preserve")
            node.text = text
            run._r.append(node)
        else:
            run.text = text


def _paragraph(doc, text: str, font: str, style: DocumentStyle, size: float, *, align=None, indent=False,
               line: float | None = None, bold: bool = False):
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    if align is not None:
        fmt.alignment = align
    if indent:
        fmt.first_line_indent = Pt(2 * size)
    if line is not None:
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(line)
    run = paragraph.add_run(text)
    run.bold = bold or None
    _fonts(run._r, font, style.latin_font, size)
    return paragraph


def title(doc, lines: list[str], style: DocumentStyle) -> None:
    """The title, centred in the 小标宋 face, a line each (the issuer over 关于…的报告), a blank line under it."""
    paragraph = _paragraph(doc, lines[0], style.title_font, style, style.title_pt, align=WD_ALIGN_PARAGRAPH.CENTER,
                           line=style.title_pt * 1.6)
    for line in lines[1:]:
        run = paragraph.add_run()
        run.add_break()
        run.add_text(line)
        _fonts(run._r, style.title_font, style.latin_font, style.title_pt)
    paragraph.paragraph_format.space_after = Pt(style.line_pt)


def heading(doc, text: str, style: DocumentStyle) -> None:
    """A first-level heading ("一、…") in 黑体, indented two characters like the body."""
    paragraph = _paragraph(doc, text, style.heading_font, style, style.body_pt, indent=True)
    paragraph.paragraph_format.keep_with_next = True


def body(doc, text: str, style: DocumentStyle, indent: bool = True) -> None:
    _paragraph(doc, text, style.body_font, style, style.body_pt, indent=indent)


def note(doc, text: str, style: DocumentStyle) -> None:
    """The note under a table, smaller, on a tighter line."""
    _paragraph(doc, text, style.body_font, style, 12, line=20)


def centre_last(doc) -> None:
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.paragraphs[-1].paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE


def next_heading(context: dict) -> str:
    return numbered(len(context["sections"]) + 1, "整改进度图")


def signature(doc, issuer: str, day_cn: str, style: DocumentStyle) -> None:
    """发文单位 over 成文日期 at the end: one blank line, the date 右空四字, the issuer centred over it."""
    doc.add_paragraph()
    date_chars = sum(0.5 if c.isascii() else 1 for c in day_cn)
    if issuer:
        shift = 4 + max(0.0, (date_chars - len(issuer)) / 2)
        paragraph = _paragraph(doc, issuer, style.body_font, style, style.body_pt, align=WD_ALIGN_PARAGRAPH.RIGHT)
        paragraph.paragraph_format.right_indent = Pt(shift * style.body_pt)
    paragraph = _paragraph(doc, day_cn, style.body_font, style, style.body_pt, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph.paragraph_format.right_indent = Pt(4 * style.body_pt)


def village_table(doc, context: dict, style: DocumentStyle) -> None:
    """The per-village table: borders, fixed widths, numbers right-aligned, names never broken."""
    rows = [*context["villages"], {**context["total"], "name": "合计"}]
    table = doc.add_table(rows=1 + len(rows), cols=len(COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _table_properties(table)
    for i, (key, header, kind, width) in enumerate(COLUMNS):
        table.columns[i].width = Mm(width)
        _cell(table.rows[0].cells[i], header, style, WD_ALIGN_PARAGRAPH.CENTER, width, header=True)
        for r, row in enumerate(rows, start=1):
            align = WD_ALIGN_PARAGRAPH.LEFT if kind == "name" else WD_ALIGN_PARAGRAPH.RIGHT
            if kind == "name" and r == len(rows):
                align = WD_ALIGN_PARAGRAPH.CENTER
            _cell(table.rows[r].cells[i], cell_text(row, key, kind), style, align, width)
    header_row = table.rows[0]._tr.get_or_add_trPr()
    header_row.append(OxmlElement("w:tblHeader"))       # repeated on every page


def _table_properties(table) -> None:
    """Single borders all round and between cells, narrow cell margins (layout fixed by autofit=False)."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        node = OxmlElement(f"w:{edge}")
        for attr, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
            node.set(qn(f"w:{attr}"), value)
        borders.append(node)
    margins = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:w"), str(Mm(1).twips))
        node.set(qn("w:type"), "dxa")
        margins.append(node)
    _insert(tbl_pr, borders, ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))
    _insert(tbl_pr, margins, ("w:tblLook",))


def _insert(parent, child, successors: tuple[str, ...]) -> None:
    """Insert ``child`` before the first of its schema successors (Word rejects elements out of order)."""
    for tag in successors:
        found = parent.find(qn(tag))
        if found is not None:
            found.addprevious(child)
            return
    parent.append(child)


def grid_table(doc, rows: int, widths_mm: list[float]):
    """A centred table with the village table's look: fixed column widths (adding up to the text width),
    single borders, narrow cell margins. Fill it with :func:`fill_cell`."""
    table = doc.add_table(rows=rows, cols=len(widths_mm))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _table_properties(table)
    for i, width in enumerate(widths_mm):
        table.columns[i].width = Mm(width)
    return table


def fill_cell(cell, text: str, style: DocumentStyle, align, width_mm: float, *, header: bool = False,
              wrap: bool = False) -> None:
    """Write ``text`` into a table cell as the report's tables do (a line per "\n"; headers in 黑体);
    ``wrap`` lets a long value (a note, a name) break over lines instead of staying on one."""
    _cell(cell, text, style, align, width_mm, header=header, wrap=wrap)


def repeat_header(table) -> None:
    """Repeat the table's first row at the top of every page it runs over."""
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _cell(cell, text: str, style: DocumentStyle, align, width_mm: float, header: bool = False,
          wrap: bool = False) -> None:
    cell.width = Mm(width_mm)
    if not wrap:
        cell._tc.get_or_add_tcPr().append(OxmlElement("w:noWrap"))    # before vAlign, as the schema orders them
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    for i, line in enumerate(text.split("\n")):
        if i:
            paragraph = cell.add_paragraph()
        fmt = paragraph.paragraph_format
        fmt.alignment, fmt.first_line_indent = align, Pt(0)
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(style.table_pt * 1.5)
        run = paragraph.add_run(line)
        _fonts(run._r, style.heading_font if header else style.body_font, style.latin_font, style.table_pt)
