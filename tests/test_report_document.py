"""The report as a 公文 (issue 19): page, fonts, wording, rounding, charts, and screenshots of it."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import date
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from lxml import etree

from conftest import IN_CI
from geo_tracker.cli import cli
from geo_tracker.core.rounding import round_parts, round_table
from geo_tracker.core.stats import WHOLES
from geo_tracker.reports import charts
from geo_tracker.reports.docx_layout import PAGE_MM, DocumentStyle
from geo_tracker.services.report import report_context, write_report
from geo_tracker.store import open_store

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots" / "report"
FONTCONFIG = Path(__file__).resolve().parents[1] / "geo_tracker" / "reports" / "fontconfig.conf"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def demo_url(empty_db_url):
    from geo_tracker.services.demo import run_demo

    run_demo(empty_db_url)
    return empty_db_url


def _east_asia(paragraph) -> set[str]:
    return {r._r.rPr.rFonts.get(f"{W}eastAsia") for r in paragraph.runs if r.text.strip()}


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_demo_report_is_a_gongwen(demo_url, tmp_path, backend):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    style = DocumentStyle(title_font="方正小标宋简体", body_font="仿宋_GB2312")
    path = tmp_path / "报告.docx"
    with open_store(demo_url) as store:
        context = write_report(store, path, "docx", year=2023, issuer="澄江镇人民政府",
                               signed_on=date(2024, 1, 18), style=style)
    doc = Document(path)
    section = doc.sections[0]
    for name, mm in PAGE_MM.items():
        length = getattr(section, {"width": "page_width", "height": "page_height"}.get(name, f"{name}_margin"))
        assert abs(length - Mm(mm)) < Mm(0.1), name
    title = doc.paragraphs[0]
    assert title.text == "澄江镇人民政府\n关于2023年图斑整改情况的报告"
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER and title.style.name == "Normal"
    assert _east_asia(title) == {"方正小标宋简体"} and title.runs[0].font.size == Pt(22)
    body = next(p for p in doc.paragraphs if p.text.startswith("上级共下发"))
    assert _east_asia(body) == {"仿宋_GB2312"} and body.runs[0].font.size == Pt(16)
    normal = doc.styles["Normal"].paragraph_format
    assert normal.line_spacing_rule == WD_LINE_SPACING.EXACTLY and normal.line_spacing == Pt(28)
    table_xml = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    assert 'w:name="仿宋_GB2312"' in table_xml and 'w:altName w:val="Noto Serif CJK SC"' in table_xml
    # 发文单位 and 成文日期 close the document, right-aligned; the date is printed once.
    last = [p for p in doc.paragraphs if p.text.strip()][-2:]
    assert [p.text for p in last] == ["澄江镇人民政府", "2024年1月18日"]
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.RIGHT for p in last)
    text = _text(doc)
    assert "数据日期" not in text and text.count("2023年12月31日") == 1
    # Page numbers: "— N —" around a PAGE field in a centred footer.
    footer = section.footer.paragraphs[0]
    assert footer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert "PAGE" in footer._p.xml and footer.text.startswith("— ") and footer.text.endswith(" —")
    _check_wording(text, context)
    _check_table(doc)
    _screenshots(path, backend)


def _check_wording(text: str, context: dict) -> None:
    """Money in 万元, no 其他类 double count, 办结 only for closed cases, empty registers left out."""
    assert "涉及行政罚款共7.80万元" in text and "78000" not in text
    assert "共立案行政处罚案件17宗，已办结4宗" in text and "已作出处罚决定尚未办结12宗" in text
    assert "其他类" not in text
    assert "巡查" not in text and "投诉举报" not in text and "回应率" not in text
    assert [s["heading"] for s in context["sections"]] == [
        "一、自然资源图斑整改情况", "二、森林督查图斑整改情况", "三、立案查处情况"]
    assert context["table_heading"] == "四、分村统计"
    assert "整改率 = 已整改面积 ÷ 违法面积" in text
    for name in ("图斑面积70.37亩", "含耕地面积4.87亩", "已完成整改面积50.89亩", "其中耕地面积4.33亩"):
        assert name in text


def _check_table(doc) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    table = doc.tables[0]
    headers = [c.text for c in table.rows[0].cells]
    assert headers[0] == "行政村" and "违法面积\n（亩）" in headers and "已整改\n（亩）" in headers
    assert all("（" in h for h in headers[1:]), "every figure's header carries its unit"
    assert 'w:val="single"' in table._tbl.tblPr.xml, "the table has borders"
    rows = {r.cells[0].text: r for r in table.rows[1:]}
    assert set(rows) >= {"温泉社区", "双凤村", "缙云村", "合计"}
    for row in table.rows[1:]:
        assert all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in row.cells[1:])
    name = rows["温泉社区"].cells[0]
    assert "<w:noWrap/>" in name._tc.xml
    assert name.width >= 4 * 10.5 * 12700 + 2 * 36000, "温泉社区 fits on one line"
    col = headers.index("违法面积\n（亩）")
    rectified, area = headers.index("已整改\n（亩）"), headers.index("面积\n（亩）")
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        assert float(cells[rectified]) <= float(cells[col]) <= float(cells[area]), cells
    assert rows["缙云村"].cells[col].text == rows["缙云村"].cells[rectified].text   # 100 % of its illegal area


def _screenshots(path: Path, backend: str) -> None:
    """The rendered pages as PNGs (LibreOffice to PDF, pdftoppm to PNG), for a person to look at."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        if IN_CI:
            pytest.fail("soffice and pdftoppm are required in CI (apt-get install libreoffice-writer-nogui "
                        "poppler-utils)", pytrace=False)
        pytest.skip("LibreOffice (soffice) or pdftoppm is not installed")
    out = path.parent
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG), "HOME": str(out)}
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=180, env=env)
    pdf = path.with_suffix(".pdf")
    assert pdf.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{backend}-page-*.png"):
        old.unlink()
    subprocess.run([pdftoppm, "-png", "-r", "60", str(pdf), str(SCREENSHOTS / f"{backend}-page")],
                   check=True, timeout=120)
    pages = sorted(SCREENSHOTS.glob(f"{backend}-page-*.png"))
    assert len(pages) >= 2 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pages)


def test_empty_registers_print_only_when_asked(demo_url, tmp_path):
    from docx import Document

    runner = CliRunner()
    out = tmp_path / "全部.docx"
    result = runner.invoke(cli, ["--db", demo_url, "report", "--year", "2023", "--issuer", "测试镇人民政府",
                                 "--date", "2024-02-01", "--include-empty", "--no-charts", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = _text(Document(out))
    assert "累积开展巡查0次" in text and "受理投诉举报0件" in text
    assert text.rstrip().endswith("测试镇人民政府\n2024年2月1日")
    plain = tmp_path / "默认.md"
    assert runner.invoke(cli, ["--db", demo_url, "report", "--year", "2023", "--no-charts", "-o",
                               str(plain)]).exit_code == 0
    md = plain.read_text(encoding="utf-8")
    assert "巡查" not in md and "7.80万元" in md and "| 违法面积（亩） |" in md
    assert "澄江镇" in md.splitlines()[0], "the township's 人民政府 is the default issuer"


def test_dashboard_opens_on_the_latest_year_with_data(demo_url):
    with open_store(demo_url) as store:
        context = report_context(store, year=None)
    # the latest year with patches, as of today: work recorded since that year still shows
    assert context["year"] == 2023 and context["as_of"] == date.today().isoformat()
    assert context["total"]["printed"]["area_mu"] == "108.97"


def test_charts_start_at_zero_with_the_legend_outside_the_plot():
    points = [(f"{m}月", 90.0 + m / 2, 96.0) for m in range(1, 13)]
    for fig, top in ((charts.cumulative_figure(points, "累计"), 96),
                     (charts.village_figure([("温泉社区", 41.3, 33.6)], "分村"), 41.3)):
        ax = fig.axes[0]
        assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > top
        fig.canvas.draw()
        legend = ax.get_legend().get_window_extent()
        plot = ax.get_window_extent()
        assert legend.y1 <= plot.y0, "the legend sits below the plot, clear of every line"


def _random_rows(rng: random.Random, n: int) -> list[dict]:
    """Villages whose exact figures keep 已整改 ≤ 违法面积 ≤ 面积 and 耕地 parts inside their wholes."""
    rows = []
    for _ in range(n):
        area = rng.choice([0.0, rng.uniform(0, 0.05), rng.uniform(0, 50), round(rng.uniform(0, 50), 3) + 0.005])
        illegal = area * rng.choice([0, 1, rng.random()])
        rectified = illegal * rng.choice([0, 1, rng.random(), 0.9999])
        cultivated = area * rng.choice([0, 1, rng.random()])
        illegal_cultivated = min(illegal, cultivated) * rng.choice([1, rng.random()])
        rectified_cultivated = min(rectified, cultivated) * rng.choice([1, rng.random()])
        rows.append({"area_mu": area, "cultivated_mu": cultivated, "illegal_area_mu": illegal,
                     "illegal_cultivated_mu": illegal_cultivated, "rectified_mu": rectified,
                     "rectified_cultivated_mu": rectified_cultivated, "demolished_mu": rectified * rng.random()})
    return rows


NAMES = ["area_mu", "cultivated_mu", "illegal_area_mu", "illegal_cultivated_mu", "rectified_mu",
         "rectified_cultivated_mu", "demolished_mu"]


@pytest.mark.parametrize("seed", range(6))
def test_printed_parts_add_up_and_never_exceed_their_whole(seed):
    rng = random.Random(seed)
    for _case in range(100):
        rows = _random_rows(rng, rng.randint(1, 12))
        totals = {k: sum(r[k] for r in rows) for k in NAMES}
        printed = round_table(rows, totals, NAMES, WHOLES)
        for name in NAMES:
            parts = [p[name] for p in printed]
            assert round(sum(parts) * 100) == round(totals[name] * 100), (seed, name, rows)
            # One unit off at most, two where the wholes leave a single part room for the total's units.
            assert all(abs(p - r[name]) <= 0.02 + 1e-9 for p, r in zip(parts, rows)), (name, parts)
            if name == "area_mu":   # no whole above it: plain largest remainder
                assert all(abs(p - r[name]) <= 0.01 + 1e-9 for p, r in zip(parts, rows)), parts
        for p in printed:
            assert p["rectified_mu"] <= p["illegal_area_mu"] <= p["area_mu"] + 1e-12, p
            assert p["cultivated_mu"] <= p["area_mu"] + 1e-12 and p["rectified_cultivated_mu"] <= p["rectified_mu"]


def test_round_parts_keeps_under_caps_and_the_old_tie_order():
    assert round_parts([0.335, 0.335, 0.335]) == [0.34, 0.34, 0.33]
    # 双凤村: 29.446 rectified of a 29.446 patch printed as 29.44 must not print 29.45.
    assert round_parts([29.446, 0.994], 2, 30.44, caps=[29.44, None]) == [29.44, 1.0]
    rng = random.Random(19)
    for _ in range(500):
        wholes = [rng.uniform(0, 10) for _ in range(rng.randint(1, 9))]
        parts = [w * rng.choice([1, rng.random()]) for w in wholes]
        caps = round_parts(wholes)
        printed = round_parts(parts, caps=caps)
        assert round(sum(printed) * 100) == round(sum(parts) * 100)
        assert all(p <= c + 1e-12 for p, c in zip(printed, caps)), (parts, wholes)


# --- The Noto CJK fallbacks embedded in the DOCX (ECMA-376 Part 1 §17.8.3) ---------------------------------

R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
FONT_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/font"


@pytest.fixture(scope="module")
def font_reports(tmp_path_factory):
    """The demo report (SpatiaLite) with its fallback faces embedded and, for comparison, without."""
    from geo_tracker.reports.fonts import find_face
    from geo_tracker.services.demo import run_demo

    if find_face("Noto Serif CJK SC") is None:
        if IN_CI:
            pytest.fail("fonts-noto-cjk is required in CI (the faces the report embeds)", pytrace=False)
        pytest.skip("fonts-noto-cjk is not installed")
    folder = tmp_path_factory.mktemp("fonts")
    url = f"sqlite:///{folder / 'office.sqlite'}"
    paths = {"embedded": folder / "embedded.docx", "plain": folder / "plain.docx"}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GEO_TRACKER_EVIDENCE_DIR", str(folder / "evidence"))
        run_demo(url)
        with open_store(url) as store:
            for name, path in paths.items():
                write_report(store, path, "docx", year=2023, issuer="澄江镇人民政府", signed_on=date(2024, 1, 18),
                             style=DocumentStyle(embed_fonts=name == "embedded"))
    return paths


def _deobfuscate(data: bytes, font_key: str) -> bytes:
    """ECMA-376 Part 1 §17.8.1 as LibreOffice reads it (writerfilter/source/dmapper/FontTable.cxx): the key is
    the GUID's hex pairs taken from these positions of "{XXXXXXXX-XXXX-…}", last byte first, over bytes 0–31."""
    positions = (35, 33, 31, 29, 27, 25, 22, 20, 17, 15, 12, 10, 7, 5, 3, 1)
    key = bytes(int(font_key[p:p + 2], 16) for p in positions) * 2
    return bytes(b ^ k for b, k in zip(data[:32], key)) + data[32:]


def _embedded_fonts(path: Path) -> dict[str, tuple[str, bytes]]:
    """font-table name -> (fontKey, raw part) of each embedRegular, checked against the package's rels and types."""
    with zipfile.ZipFile(path) as z:
        types = etree.fromstring(z.read("[Content_Types].xml"))
        overrides = {o.get("PartName"): o.get("ContentType") for o in types.findall(f"{CT}Override")}
        defaults = {d.get("Extension"): d.get("ContentType") for d in types.findall(f"{CT}Default")}
        rels = {r.get("Id"): r for r in etree.fromstring(z.read("word/_rels/fontTable.xml.rels"))
                .findall(f"{PKG}Relationship")}
        table = etree.fromstring(z.read("word/fontTable.xml"))
        parts = [n for n in z.namelist() if n.startswith("word/fonts/")]
        assert parts and all(n.endswith(".odttf") for n in parts), parts
        for name in parts:
            assert overrides.get(f"/{name}", defaults.get("odttf")) == OBFUSCATED_FONT, name
        fonts, targets = {}, []
        for font in table.findall(f"{W}font"):
            embeds = [e for e in font if e.tag.startswith(f"{W}embed")]
            if not embeds:
                continue
            assert [e.tag for e in embeds] == [f"{W}embedRegular"], "the report has no bold or italic runs"
            key = embeds[0].get(f"{W}fontKey")
            assert key and re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", key), key
            rel = rels[embeds[0].get(f"{R}id")]
            assert rel.get("Type") == FONT_REL and rel.get("TargetMode") is None
            targets.append("word/" + rel.get("Target"))
            fonts[font.get(f"{W}name")] = (key, z.read(targets[-1]))
        assert sorted(targets) == sorted(parts), "every font part is one font's embedRegular"
        settings = z.read("word/settings.xml").decode()
        assert "<w:embedTrueTypeFonts/>" in settings and "<w:saveSubsetFonts/>" in settings
    return fonts


def _cjk_by_face(path: Path) -> dict[str, set[str]]:
    """Wide (CJK) characters of the runs, by the face Word shows them in where the named one is missing:
    the font table's altName, or the name itself."""
    chars: dict[str, set[str]] = {}
    with zipfile.ZipFile(path) as z:
        table = etree.fromstring(z.read("word/fontTable.xml"))
        alt = {f.get(f"{W}name"): f.find(f"{W}altName").get(f"{W}val") for f in table.findall(f"{W}font")
               if f.find(f"{W}altName") is not None}
        normal = etree.fromstring(z.read("word/styles.xml")).find(f"{W}style[@{W}styleId='Normal']/{W}rPr/{W}rFonts")
        for name in z.namelist():
            if not re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
                continue
            for run in etree.fromstring(z.read(name)).iter(f"{W}r"):
                fonts = run.find(f"{W}rPr/{W}rFonts")
                face = (fonts if fonts is not None and fonts.get(f"{W}eastAsia") else normal).get(f"{W}eastAsia")
                text = "".join(t.text or "" for t in run.iter(f"{W}t"))
                wide = {c for c in text if unicodedata.east_asian_width(c) in "WF"}
                if wide:
                    chars.setdefault(alt.get(face, face), set()).update(wide)
    return chars


def test_the_fallback_faces_are_embedded_subset_and_obfuscated(font_reports):
    from fontTools.ttLib import TTFont

    fonts = _embedded_fonts(font_reports["embedded"])
    used = _cjk_by_face(font_reports["embedded"])
    assert set(used) == set(fonts) == {"Noto Serif CJK SC", "Noto Sans CJK SC"}, (set(used), set(fonts))
    assert len(used["Noto Serif CJK SC"]) > 100, "the body's characters, not just the headings'"
    for name, (key, raw) in fonts.items():
        assert raw[:4] != b"\x00\x01\x00\x00", f"{name} is obfuscated"
        assert len(raw) < 300_000, (name, len(raw))
        font = TTFont(BytesIO(_deobfuscate(raw, key)))
        assert font.sfntVersion == "\x00\x01\x00\x00" and "glyf" in font and "CFF " not in font, "TrueType outlines"
        assert font["name"].getDebugName(1) == name and font["OS/2"].fsType == 0
        cmap = font.getBestCmap()
        missing = sorted(c for c in used[name] if ord(c) not in cmap)
        assert not missing, (name, missing)
        assert "0" in "".join(map(chr, cmap)) and ord("，") in cmap and ord("—") in cmap
        assert len(font.getGlyphOrder()) < 1000, "a subset, not the face"
    assert not [n for n in zipfile.ZipFile(font_reports["plain"]).namelist() if "fonts/" in n]


def test_libreoffice_shows_the_embedded_faces_where_noto_is_not_installed(font_reports, tmp_path):
    """LibreOffice reads the embedded fonts of a DOCX: on a machine whose fontconfig knows one Latin face only, the
    PDF of the report carries the embedded Noto faces, and the PDF of the same report without them does not.

    LibreOffice ignores w:altName (Word's rule for a missing face), so its replacement table maps each office face to
    its altName, as Word would; without the embedded faces that leaves nothing to draw CJK with.
    """
    import matplotlib
    from fontTools.ttLib import TTFont

    soffice, pdffonts = shutil.which("soffice"), shutil.which("pdffonts")
    if not (soffice and pdffonts):
        if IN_CI:
            pytest.fail("soffice and pdffonts are required in CI (apt-get install libreoffice-writer-nogui "
                        "poppler-utils)", pytrace=False)
        pytest.skip("LibreOffice (soffice) or pdffonts is not installed")
    fonts = _embedded_fonts(font_reports["embedded"])
    ps_names = {TTFont(BytesIO(_deobfuscate(raw, key)))["name"].getDebugName(6) for key, raw in fonts.values()}
    # A fontconfig that sees one Latin face (LibreOffice will not start without any font) and no CJK one.
    latin = tmp_path / "fonts"
    latin.mkdir()
    shutil.copy(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf", latin)
    config = tmp_path / "fonts.conf"
    config.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>{latin}</dir>'
                      f'<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>\n', encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "HOME": str(tmp_path)}
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list"], env=env, check=True, capture_output=True, text=True).stdout
        assert "DejaVu" in listed and "CJK" not in listed, listed
    # Word's altName rule as LibreOffice's font replacement table.
    with zipfile.ZipFile(font_reports["embedded"]) as z:
        table = etree.fromstring(z.read("word/fontTable.xml"))
    pairs = [(f.get(f"{W}name"), f.find(f"{W}altName").get(f"{W}val")) for f in table.findall(f"{W}font")
             if f.find(f"{W}altName") is not None and f.find(f"{W}altName").get(f"{W}val") in fonts]
    assert {face for face, _ in pairs} >= {"方正小标宋简体", "仿宋_GB2312", "黑体"}
    node = ('<item oor:path="/org.openoffice.Office.Common/Font/Substitution/FontPairs"><node oor:name="_{i}" '
            'oor:op="replace"><prop oor:name="Always"><value>true</value></prop><prop oor:name="OnScreenOnly">'
            '<value>false</value></prop><prop oor:name="ReplaceFont"><value>{face}</value></prop>'
            '<prop oor:name="SubstituteFont"><value>{alt}</value></prop></node></item>')
    profile = tmp_path / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry">'
        '<item oor:path="/org.openoffice.Office.Common/Font/Substitution"><prop oor:name="Replacement">'
        '<value>true</value></prop></item>'
        + "".join(node.format(i=i, face=escape(face), alt=escape(alt)) for i, (face, alt) in enumerate(pairs))
        + "</oor:items>\n", encoding="utf-8")
    # One LibreOffice for both, the plain report first: embedded faces stay loaded for the rest of the session.
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(font_reports["plain"]), str(font_reports["embedded"])],
                   check=True, capture_output=True, timeout=180, env=env)

    def pdf_fonts(name: str) -> str:
        return subprocess.run([pdffonts, str(tmp_path / f"{name}.pdf")], check=True, capture_output=True,
                              text=True, timeout=60).stdout

    plain, embedded = pdf_fonts("plain"), pdf_fonts("embedded")
    assert not [n for n in ps_names if n in plain], f"Noto is hidden from LibreOffice:\n{plain}"
    assert all(f"+{n}" in embedded for n in ps_names), (ps_names, embedded)
