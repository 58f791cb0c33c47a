"""The dossier (举证材料) as a Word file, laid out as the report is (docx_layout.py, fonts.py).

Why the same layout: the county files it beside the township's reports, so it is A4 with the
GB/T 9704 margins, 仿宋 body, 黑体 headings and "— N —" page numbers, with the Noto CJK
fallbacks embedded so an office PC without those faces shows it as laid out. Every word a
reader sees is Chinese; a section with nothing to show is left out, as the report does.
The context comes from :func:`geo_tracker.services.dossier.dossier_context`.
"""

from __future__ import annotations

import math
from datetime import datetime
from io import BytesIO

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Mm, Pt

from ..core.review import LEVELS
from ..core.lifecycle import MEASURE_LABELS, STATUS_LABELS
from ..core.sources import SOURCE_LABELS
from . import docx_layout as layout
from . import fonts
from .docx_layout import DocumentStyle
from .dossier_map import patch_map_png
from .dossier_photos import caption_lines, photo_for_page
from .phrases import cn_date, heading, yuan

#: The width of the text on the page (A4 less the GB/T 9704 side margins), mm.
TEXT_MM = layout.PAGE_MM["width"] - layout.PAGE_MM["left"] - layout.PAGE_MM["right"]
#: Pictures are a little narrower than the text, so no renderer pushes them past the right margin.
PICTURE_MM = TEXT_MM - 6
#: A photo's largest height on the page (mm), so a portrait photo and its caption share one page.
PHOTO_MAX_MM = 150
#: Label and value columns of the two-pair grid (基本情况, 核查情况, 下发属性), mm.
GRID_MM = (33, 45, 33, 45)
#: A grid of up to this many rows is kept on one page (a longer one may run over).
GRID_WHOLE_ROWS = 16
LEFT, CENTRE, RIGHT = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
CASE_STATUS = {"open": "办理中", "decided": "已决定", "executed": "已执行", "closed": "已结案"}
REVIEW_DECISIONS = {"submitted": "申请销号", "review_returned": "退回", "review_approved": "审核通过"}
#: The levels a review policy names (as core/review.py has them), and the township that submits.
NONE = "—"


def write_dossier_docx(context: dict, target, style: DocumentStyle | None = None) -> dict:
    """Write the dossier to ``target`` (a path or a binary file); returns the sections printed and
    the photos embedded."""
    style = style or DocumentStyle()
    doc = layout.new_document(style)
    _title(doc, context, style)
    sections, photos = [], 0
    for name, draw in _SECTIONS:
        if not _has(context, name):
            continue
        layout.heading(doc, heading(len(sections), name), style)
        photos += draw(doc, context, style) or 0
        sections.append(name)
    if context.get("issuer") or context.get("day"):
        layout.signature(doc, context.get("issuer") or "", cn_date(context["day"]), style)
    if style.embed_fonts:
        fonts.embed_fallback_fonts(doc)
    doc.save(target)
    return {"sections": sections, "photos": photos}


def _has(context: dict, name: str) -> bool:
    """Whether a section has anything to show (empty ones are left out)."""
    key = {"影像对比": "imagery", "上级下发属性": "attributes", "核查情况": "verification", "整改情况": "rectifications",
           "立案查处情况": "cases", "举证照片": "photos", "审核记录": "reviews"}.get(name)
    return key is None or bool(context.get(key))


def _title(doc, context: dict, style: DocumentStyle) -> None:
    """图斑举证材料, and the patch code centred under it."""
    layout.title(doc, ["图斑举证材料"], style)
    doc.paragraphs[-1].paragraph_format.space_after = Pt(0)
    layout.body(doc, f"（图斑编号：{context['patch']['patch_code']}）", style, indent=False)
    doc.paragraphs[-1].alignment = CENTRE
    doc.paragraphs[-1].paragraph_format.space_after = Pt(style.line_pt / 2)


# --- formatting ---------------------------------------------------------------------------------


def mu(value, places: int = 2) -> str:
    """An area in 亩 as the report prints it (2 decimals); unknown as —."""
    if value is None or math.isnan(float(value)):
        return NONE
    return f"{float(value):.{places}f}"


def day_cn(value) -> str:
    """A date as 2023年7月10日 (text dates too); unknown as —."""
    if not value:
        return NONE
    if isinstance(value, str):
        try:
            value = datetime.strptime(value[:10], "%Y-%m-%d").date()
        except ValueError:
            return value
    return cn_date(value)


def source_cn(source: str) -> str:
    """卫片执法（自然资源）: the source's label with Chinese brackets."""
    return SOURCE_LABELS.get(source, source).replace(" (", "（").replace("(", "（").replace(")", "）")


def villages_cn(patch: dict, names: dict[str, str] | None = None) -> str:
    """The patch's village, or each village with its share when it straddles, or where it lies outside
    (the nearest village by its name from ``names``, else its code)."""
    shares = patch.get("villages") or []
    if not shares:
        if patch.get("nearest_code"):
            distance = patch.get("nearest_distance_m")
            far = f"，相距{distance:.0f}米" if distance is not None else ""
            nearest = (names or {}).get(patch["nearest_code"]) or patch["nearest_code"]
            return f"不在村界内（最近为{nearest}{far}）"
        return NONE
    if len(shares) == 1 or not patch.get("straddles"):
        main = max(shares, key=lambda v: v["share"])
        return f"{main['village_name']}（{main['village_code']}）"
    return "跨村：" + "、".join(f"{v['village_name']}{v['share'] * 100:.1f}%"
                               for v in sorted(shares, key=lambda v: -v["share"]))


def status_cn(patch: dict) -> str:
    """整改到位（2023年9月2日起）, 已逾期 added when the deadline passed with work owing."""
    text = STATUS_LABELS.get(patch["status"], patch["status"])
    if patch["status"] == "issued":
        text += "，尚未核查"
    elif patch.get("status_on"):
        text += f"（{day_cn(patch['status_on'])}起）"
    return text + ("，已逾期" if patch.get("overdue") else "")


def attribute_value(value) -> str:
    """A bureau attribute as written, numbers without float noise; empty stays empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


# --- tables -------------------------------------------------------------------------------------


def _grid(doc, items: list[tuple[str, str, bool]], style: DocumentStyle) -> None:
    """Label–value pairs two to a row; a ``wide`` pair takes a whole row (its value over three cells)."""
    rows, pending = [], []
    for label, value, wide in items:
        if wide:
            if pending:
                rows.append(pending)
                pending = []
            rows.append([(label, value, True)])
        else:
            pending.append((label, value, False))
            if len(pending) == 2:
                rows.append(pending)
                pending = []
    if pending:
        rows.append(pending + [("", "", False)])
    table = layout.grid_table(doc, len(rows), list(GRID_MM))
    for row, pairs in zip(table.rows, rows):
        if pairs[0][2]:
            layout.fill_cell(row.cells[0], pairs[0][0], style, CENTRE, GRID_MM[0], header=True, wrap=True)
            merged = row.cells[1].merge(row.cells[3])
            layout.fill_cell(merged, pairs[0][1], style, LEFT, sum(GRID_MM[1:]), wrap=True)
            continue
        for i, (label, value, _) in enumerate(pairs):
            layout.fill_cell(row.cells[2 * i], label, style, CENTRE, GRID_MM[2 * i], header=True, wrap=True)
            layout.fill_cell(row.cells[2 * i + 1], value, style, LEFT, GRID_MM[2 * i + 1], wrap=True)
    _keep_together(table, whole=len(rows) <= GRID_WHOLE_ROWS)


def _records(doc, columns: list[tuple[str, float, object, bool]], rows: list[list[str]],
             style: DocumentStyle) -> None:
    """A table of records: (header, width mm, alignment, wraps) per column, the header repeated on each page."""
    table = layout.grid_table(doc, 1 + len(rows), [c[1] for c in columns])
    for i, (header, width, align, wraps) in enumerate(columns):
        layout.fill_cell(table.rows[0].cells[i], header, style, CENTRE, width, header=True)
        for r, values in enumerate(rows, start=1):
            layout.fill_cell(table.rows[r].cells[i], values[i], style, align, width, wrap=wraps)
    layout.repeat_header(table)
    _keep_together(table, whole=False)


def _keep_together(table, whole: bool) -> None:
    """No row breaks over two pages; a ``whole`` table stays on one page with its heading (a short grid)."""
    for i, row in enumerate(table.rows):
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        if whole and i < len(table.rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _gap(doc, style: DocumentStyle) -> None:
    """Half a line under a table, so the next heading does not touch it."""
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.line_spacing = Pt(style.line_pt / 2)


# --- sections -----------------------------------------------------------------------------------


def _basic(doc, context: dict, style: DocumentStyle) -> None:
    """基本情况: code, batch, source, dates, villages, areas, rectified area, status."""
    p = context["patch"]
    items = [("图斑编号", p["patch_code"], False), ("状态", status_cn(p), False),
             ("批次", p["batch"], False), ("来源", source_cn(p["source"]), False),
             ("下发日期", day_cn(p["issued_on"]), False), ("整改期限", day_cn(p.get("deadline")), False),
             ("所在村", villages_cn(p, {v["code"]: v["name"] for v in context["map_villages"]}), True),
             ("图斑面积（亩）", mu(p["area_mu"]), False)]
    if p.get("issued_area_mu") is not None:
        items.append(("下发面积（亩）", mu(p["issued_area_mu"]), False))
    if p.get("cultivated_mu") is not None:
        items.append(("耕地面积（亩）", mu(p["cultivated_mu"]), False))
    if p.get("forest_mu") is not None:
        items.append(("林地面积（亩）", mu(p["forest_mu"]), False))
    items.append(("已整改面积（亩）", mu(p.get("rectified_mu") or 0.0), False))
    if p.get("cultivated_mu") is not None:
        items.append(("其中耕地（亩）", mu(p.get("rectified_cultivated_mu") or 0.0), False))
    if p.get("relapse_of"):
        items.append(("死灰复燃", "与已整改图斑" + "、".join(p["relapse_of"]) + "重叠", True))
    _grid(doc, items, style)
    _gap(doc, style)


def _map(doc, context: dict, style: DocumentStyle) -> None:
    """图斑位置: the outline over the villages, at the text's width, with its caption."""
    png = patch_map_png(context["outline"], context["map_villages"])
    doc.add_picture(BytesIO(png), width=Mm(PICTURE_MM))
    layout.centre_last(doc)
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    units = context["map_villages"]
    keys = ["红色为图斑范围", *(["蓝线为所在村界"] if any(v["own"] for v in units) else []),
            *(["虚线为相邻村界"] if any(not v["own"] for v in units) else [])]
    layout.note(doc, f"图斑位置示意图（{'，'.join(keys)}）", style)
    doc.paragraphs[-1].alignment = CENTRE


def _imagery(doc, context: dict, style: DocumentStyle) -> None:
    """影像对比: the patch on its 前时相 and 后时相 images, side by side, embedded (removing the imagery
    later never changes a dossier already written)."""
    doc.add_picture(BytesIO(context["imagery"]), width=Mm(PICTURE_MM))
    layout.centre_last(doc)
    doc.paragraphs[-1].paragraph_format.keep_with_next = True
    layout.note(doc, "前时相与后时相影像对比（黄线为图斑范围，左为前时相，右为后时相）", style)
    doc.paragraphs[-1].alignment = CENTRE


def _attributes(doc, context: dict, style: DocumentStyle) -> None:
    """上级下发属性: the bureau's fields with their Chinese labels, values as delivered."""
    items = [(label, attribute_value(value), len(attribute_value(value)) > 14)
             for _field, label, value in context["attributes"]]
    _grid(doc, items, style)
    layout.note(doc, "注：以上为上级下发时的原始属性值，面积单位以下发数据为准。", style)


def _verification(doc, context: dict, style: DocumentStyle) -> None:
    """核查情况: the result, its date, who verified in the field and who recorded it."""
    v = context["verification"]
    items = [("核查结论", STATUS_LABELS.get(v["result"], v["result"] or NONE), False),
             ("核查日期", day_cn(v["on"]), False),
             ("核查人", v.get("cadre") or NONE, False), ("记录人", v.get("actor") or NONE, False)]
    if v.get("note"):
        items.append(("核查说明", v["note"], True))
    _grid(doc, items, style)
    _gap(doc, style)


def _rectifications(doc, context: dict, style: DocumentStyle) -> None:
    """整改情况: each record (date, measure, area, its 耕地, who, note) and their total."""
    records = context["rectifications"]
    rows = [[day_cn(r["on"]), MEASURE_LABELS.get(r["measure"], r["measure"] or NONE), mu(r["area_mu"], 2),
             mu(r["cultivated_mu"], 2) if r["cultivated_mu"] is not None else NONE, r["actor"] or NONE,
             _rectification_note(r)] for r in records]
    total = sum(float(r["area_mu"] or 0) for r in records)
    known = [float(r["cultivated_mu"]) for r in records if r["cultivated_mu"] is not None]
    rows.append(["合计", "", mu(total), mu(sum(known)) if known else NONE, "", ""])
    _records(doc, [("整改日期", 30, CENTRE, False), ("整改措施", 18, CENTRE, True),
                   ("整改面积\n（亩）", 20, RIGHT, False), ("其中耕地\n（亩）", 20, RIGHT, False),
                   ("登记人", 26, CENTRE, True), ("备注", 42, LEFT, True)], rows, style)
    _gap(doc, style)


def _rectification_note(record: dict) -> str:
    """The record's note, and what the reviewer should know besides: all of it, drawn, photos."""
    parts = [record["note"]] if record.get("note") else []
    if record.get("full"):
        parts.append("余下部分全部整改" if record.get("before_mu") else "全部整改")
    if record.get("drawn"):
        parts.append("按勾绘范围计算面积")
    if record.get("photos"):
        parts.append(f"附照片{record['photos']}张")
    return "；".join(parts) or NONE


def _cases(doc, context: dict, style: DocumentStyle) -> None:
    """立案查处情况: each linked case with its date, violation, decision and state."""
    rows = []
    for c in context["cases"]:
        kind = "、".join(x for x in (c.get("violation"), c.get("act")) if x) or NONE
        rows.append([c["case_no"], day_cn(c.get("opened_on")), kind, _decision(c),
                     CASE_STATUS.get(c.get("status"), c.get("status") or NONE)])
    _records(doc, [("案号", 50, LEFT, True), ("立案日期", 30, CENTRE, False), ("违法类型\n及行为", 26, CENTRE, True),
                   ("处理决定", 30, LEFT, True), ("办理状态", 20, CENTRE, True)], rows, style)
    _gap(doc, style)


def _decision(case: dict) -> str:
    """行政处罚，罚款12000元（2023年8月15日）; 尚未作出 when no decision is recorded."""
    if not case.get("decided_on"):
        return "尚未作出处理决定"
    text = case.get("outcome") or "行政处罚"
    if case.get("decided_fine_yuan"):
        text += f"，罚款{yuan(float(case['decided_fine_yuan']))}元"
    return f"{text}（{day_cn(case['decided_on'])}）"


def _reviews(doc, context: dict, style: DocumentStyle) -> None:
    """审核记录: each submission, return and approval with its level, round and reasons."""
    rows = []
    for e in context["reviews"]:
        p = e.get("payload") or {}
        rows.append([str(p.get("round") or NONE), day_cn(e["occurred_on"]),
                     LEVELS.get(p.get("level"), p.get("level") or NONE),
                     REVIEW_DECISIONS.get(e["kind"], e["kind"]), _reasons(p), e.get("actor") or NONE])
    _records(doc, [("轮次", 12, CENTRE, False), ("日期", 30, CENTRE, False), ("审核层级", 18, CENTRE, True),
                   ("结论", 20, CENTRE, True), ("理由及意见", 52, LEFT, True), ("经办人", 24, CENTRE, True)],
             rows, style)
    _gap(doc, style)


def _reasons(payload: dict) -> str:
    """The reasons given (words of the office's list, 照片不清晰 …) and the reviewer's own words."""
    codes = [str(c) for c in payload.get("reason_codes") or []]
    words = str(payload["reason"]).strip() if payload.get("reason") else ""
    parts = ["、".join(codes)] if codes else []
    if words and words not in codes:
        parts.append(words)
    return "；".join(parts) or NONE


def _photos(doc, context: dict, style: DocumentStyle) -> int:
    """举证照片: each photo at the page's width (lower when tall) with its time, place and distance;
    a file that is no image is named instead."""
    embedded = 0
    for number, item in enumerate(context["photos"], start=1):
        picture = photo_for_page(item.get("path"))
        if picture is not None:
            data, aspect = picture
            width = PICTURE_MM * min(1.0, PHOTO_MAX_MM / (PICTURE_MM * aspect)) if aspect else PICTURE_MM
            doc.add_picture(BytesIO(data), width=Mm(width))
            layout.centre_last(doc)
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
            embedded += 1
        lines = caption_lines(number, item, embedded=picture is not None)
        for i, line in enumerate(lines):
            layout.note(doc, line, style)
            doc.paragraphs[-1].alignment = CENTRE
            doc.paragraphs[-1].paragraph_format.keep_with_next = i < len(lines) - 1   # the caption stays whole
        _gap(doc, style)
    return embedded


_SECTIONS = (
    ("基本情况", _basic),
    ("图斑位置", _map),
    ("影像对比", _imagery),
    ("上级下发属性", _attributes),
    ("核查情况", _verification),
    ("整改情况", _rectifications),
    ("立案查处情况", _cases),
    ("举证照片", _photos),
    ("审核记录", _reviews),
)
