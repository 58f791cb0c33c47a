"""Rendering a report context to Markdown, HTML (Jinja2 templates) or Word (python-docx).

The Word file is laid out as a 公文 (GB/T 9704): A4, margins 37/35/28/26 mm, a centred
title in a 小标宋 face, 仿宋 16 pt body on a fixed 28 pt line, 发文单位 and date at the
end, "— N —" page numbers. The Noto CJK fallbacks of those faces are embedded, subset to
the text (fonts.py), so a machine with neither shows the report as laid out.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import jinja2

from ..catalogue import msg
from ..errors import InputFileError
from . import docx_layout as layout
from . import fonts
from .docx_layout import DocumentStyle

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("md", "html", "docx")
__all__ = ["DocumentStyle", "FORMATS", "TEMPLATES", "inline_images", "render_text", "write_docx"]


def render_text(context: dict, fmt: str, template: str | Path | None = None) -> str:
    """Markdown or HTML from the shipped template, or from a copy the user edited (``template``)."""
    if template is not None:
        path = Path(template)
        if not path.is_file():
            raise InputFileError(msg("report.no_template", path=path, folder=TEMPLATES))
        loader = jinja2.FileSystemLoader(str(path.parent))
        name = path.name
    else:
        loader = jinja2.FileSystemLoader(str(TEMPLATES))
        name = f"report.{fmt}.j2"
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "html.j2"]),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(name).render(**context, columns=layout.COLUMNS, cell=layout.cell_text)
    except jinja2.TemplateError as e:
        raise InputFileError(msg("report.bad_template", name=name, error=e)) from None


def inline_images(context: dict) -> dict:
    """Charts as data: URIs, so an HTML report is one self-contained file (offline intranet)."""
    if not context.get("charts"):
        return context
    inlined = {k: "data:image/png;base64," + base64.b64encode(Path(v).read_bytes()).decode()
               for k, v in context["charts"].items()}
    return {**context, "charts": inlined}


def _imagery_annex(doc, pairs: list[dict], left_out: int, style: DocumentStyle) -> None:
    """附件：图斑影像对比, after the signature on a new page: each patch on its 前时相 and 后时相."""
    from docx.enum.text import WD_BREAK
    from docx.shared import Cm

    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    layout.body(doc, "附件", style, indent=False)
    layout.title(doc, ["图斑影像对比"], style)
    for i, pair in enumerate(pairs, start=1):
        layout.body(doc, f"{i}．图斑{pair['label']}" + (f"（{pair['village']}）" if pair.get("village") else ""),
                    style, indent=False)
        doc.paragraphs[-1].paragraph_format.keep_with_next = True
        doc.add_picture(io.BytesIO(pair["png"]), width=Cm(15.6))
        layout.centre_last(doc)
    more = f"另有{left_out}个图斑有影像，未列出（可在各图斑的举证材料中查看）。" if left_out else ""
    layout.note(doc, "注：黄线为图斑范围，左为前时相影像，右为后时相影像。" + more, style)


def write_docx(context: dict, path: Path, style: DocumentStyle | None = None) -> Path:
    """The report as a Word 公文: title, numbered sections, the village table, charts, 署名 and date."""
    from docx.shared import Cm

    style = style or DocumentStyle()
    doc = layout.new_document(style)
    layout.title(doc, context["title_lines"], style)
    layout.body(doc, context["opening"], style, indent=True)
    for section in context["sections"]:
        layout.heading(doc, section["heading"], style)
        layout.body(doc, section["text"], style)
    layout.heading(doc, context["table_heading"], style)
    layout.village_table(doc, context, style)
    layout.note(doc, context["table_note"], style)
    if context.get("charts"):
        layout.heading(doc, layout.next_heading(context), style)
        for image in context["charts"].values():
            doc.add_picture(image, width=Cm(15))
            layout.centre_last(doc)
    layout.signature(doc, context["issuer"], context["signed_on_cn"], style)
    if context.get("imagery_pairs"):
        _imagery_annex(doc, context["imagery_pairs"], context.get("imagery_left_out", 0), style)
    if style.embed_fonts:
        fonts.embed_fallback_fonts(doc)
    doc.save(path)
    return path
