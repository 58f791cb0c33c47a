"""Rendering a report context to Markdown, HTML (Jinja2 templates) or Word (python-docx)."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2

from ..errors import InputFileError

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("md", "html", "docx")


def render_text(context: dict, fmt: str, template: str | Path | None = None) -> str:
    """Markdown or HTML from the shipped template, or from a copy the user edited (``template``)."""
    if template is not None:
        path = Path(template)
        if not path.is_file():
            raise InputFileError(f"template {path} does not exist (copy one from {TEMPLATES} to start)")
        loader = jinja2.FileSystemLoader(str(path.parent))
        name = path.name
    else:
        loader = jinja2.FileSystemLoader(str(TEMPLATES))
        name = f"report.{fmt}.j2"
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "html.j2"]),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateError as e:
        raise InputFileError(f"template {name}: {e}") from None


def inline_images(context: dict) -> dict:
    """Charts as data: URIs, so an HTML report is one self-contained file (offline intranet)."""
    if not context.get("charts"):
        return context
    inlined = {k: "data:image/png;base64," + base64.b64encode(Path(v).read_bytes()).decode()
               for k, v in context["charts"].items()}
    return {**context, "charts": inlined}


def write_docx(context: dict, path: Path) -> Path:
    from docx import Document
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    style.font.name = "宋体"
    doc.add_heading(context["title"], level=0)
    doc.add_paragraph(f"截至{context['as_of_cn']}（数据日期 {context['as_of']}）。")
    sentences = context["sentences"]
    for heading, text in (("一、自然资源图斑整改", sentences["natural_resources"]),
                          ("二、森林督查图斑整改", sentences["forestry"]),
                          ("三、立案查处", sentences["cases"] + sentences.get("case_categories", "")),
                          ("四、巡查与投诉举报", sentences.get("patrols", "") + sentences.get("complaints", ""))):
        doc.add_heading(heading, level=1)
        doc.add_paragraph(text)
    doc.add_heading("五、分村统计", level=1)
    headers = ["行政村", "图斑（个）", "面积（亩）", "耕地（亩）", "违法（个）", "已整改（亩）", "整改率", "逾期（个）"]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
    rows = [*context["villages"], {**context["total"], "name": "合计"}]
    for v in rows:
        values = [v["name"], str(v["patches"]), v["printed"]["area_mu"], v["printed"]["cultivated_mu"],
                  str(v["illegal"]), v["printed"]["rectified_mu"], v["printed"]["rectification_rate_area"],
                  str(v["overdue"])]
        for cell, text in zip(table.add_row().cells, values):
            cell.text = text
    if context.get("charts"):
        doc.add_heading("六、图表", level=1)
        for image in context["charts"].values():
            doc.add_picture(image, width=Cm(15))
    doc.save(path)
    return path
