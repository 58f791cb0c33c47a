"""The dossier (举证材料) a county reviewer reads before 销号 (issue 22): the DOCX and what it holds,
a batch's zip, scope on the page and the API, the review history, and a rendering of page 1.

The demo's year is the record; one illegal patch gets a rectification with two real JPEG
photos whose EXIF carries time and GPS (written by Pillow): one taken inside the patch,
one about 40 m east of it, so both the position and the distance show.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from datetime import date
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
import shapely
from click.testing import CliRunner
from conftest import IN_CI
from docx import Document
from live_server import form_login
from PIL import Image, ImageDraw

from geo_tracker.cli import cli
from geo_tracker.reports.docx_layout import PAGE_MM
from geo_tracker.services import accounts, tracking
from geo_tracker.services.demo import FORESTRY_BATCH, NR_BATCH, run_demo
from geo_tracker.services.dossier import review_history, write_dossier
from geo_tracker.services.patches import list_patches, show_patch
from geo_tracker.store import events as events_repo
from geo_tracker.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("GEO_TRACKER_TEST_OUTPUT", ROOT / "test-output")) / "screenshots" / "dossier"
FONTCONFIG = ROOT / "geo_tracker" / "reports" / "fontconfig.conf"
PASSWORD = "correct horse battery"
#: The demo's illegal, case-filed patch in 天府村 with 0.54 亩 of 耕地, not yet rectified.
REF = f"{NR_BATCH}/500109202302013"
CASE_NO = "澄江镇综执罚〔2023〕25号"
#: A patch in 双凤村, the only village of the scoped account below.
OTHER_REF = f"{NR_BATCH}/500109202302005"
SHUANGFENG = "500109107210"


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def field_photo(path: Path, lon: float, lat: float, taken: str, size=(1600, 1200)) -> Path:
    """A JPEG like a phone's: a field under a sky, with EXIF DateTimeOriginal and a GPS IFD."""
    image = Image.new("RGB", size, (135, 180, 220))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle([0, h * 0.45, w, h], fill=(96, 140, 70))
    draw.polygon([(w * 0.2, h * 0.75), (w * 0.5, h * 0.5), (w * 0.8, h * 0.78)], fill=(150, 120, 90))
    exif = Image.Exif()
    exif[0x010F] = "Phone"
    exif.get_ifd(0x8769)[36867] = taken
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", _dms(lat), "E", _dms(lon)
    image.save(path, "JPEG", exif=exif, quality=88)
    return path


@pytest.fixture
def demo(db_url, tmp_path):
    """The demo's year, and a demolition on REF with a photo inside the patch, one east of it and a PDF."""
    run_demo(db_url)
    with open_store(db_url) as store:
        outline = shapely.geometry.shape(show_patch(store, REF)["geometry"])
        inside = outline.representative_point()
        photos = [field_photo(tmp_path / "现场近景.jpg", inside.x, inside.y, "2023:08:10 10:32:05"),
                  field_photo(tmp_path / "现场远景.jpg", outline.bounds[2] + 0.0004, inside.y,
                              "2023:08:10 10:40:12", size=(1200, 1600))]
        notice = tmp_path / "限期拆除通知书.pdf"
        notice.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        tracking.rectify_patch(store, REF, date(2023, 8, 10), "demolition", area_mu=1.1, cultivated_mu=0.3,
                               evidence=[*photos, notice], note="拆除违法搭建的农用设施", user="执法队张三")
    return db_url


def _text(doc) -> str:
    """Every paragraph and table cell, in order (cells once, though merged cells repeat in python-docx)."""
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            seen = []
            for cell in row.cells:
                if cell._tc not in seen:
                    seen.append(cell._tc)
                    parts.append(cell.text)
    return "\n".join(parts)


def _image_parts(doc) -> dict[str, list]:
    """The images the text shows (word/media), by type; not the package's thumbnail."""
    found: dict[str, list] = {}
    for part in doc.part.package.iter_parts():
        if part.content_type.startswith("image/") and part.partname.startswith("/word/media/"):
            found.setdefault(part.content_type, []).append(part)
    return found


def _evidence_distance(store) -> float:
    """The distance the tracking service recorded for the photo taken east of the patch."""
    event = next(e for e in tracking.patch_history(store, REF) if e["kind"] == "rectified"
                 and e["payload"]["evidence"])
    return next(i["distance_to_patch_m"] for i in event["payload"]["evidence"] if i["distance_to_patch_m"])


def test_the_dossier_holds_the_record_a_reviewer_needs(demo, tmp_path, backend):
    path = tmp_path / "举证材料.docx"
    with open_store(demo) as store:
        done = write_dossier(store, REF, path)
        distance = _evidence_distance(store)
    assert done["photos"] == 2 and "审核记录" not in done["sections"]     # no review yet: left out
    assert done["sections"] == ["基本情况", "图斑位置", "上级下发属性", "核查情况", "整改情况", "立案查处情况", "举证照片"]
    doc = Document(path)
    section = doc.sections[0]
    assert abs(section.page_width.mm - PAGE_MM["width"]) < 0.1 and abs(section.top_margin.mm - PAGE_MM["top"]) < 0.1
    text = _text(doc)
    assert doc.paragraphs[0].text == "图斑举证材料" and "500109202302013" in doc.paragraphs[1].text
    for label in ("图斑编号", "批次", "来源", "下发日期", "所在村", "图斑面积（亩）", "耕地面积（亩）",
                  "已整改面积（亩）", "状态"):
        assert label in text, label
    assert "天府村（500109107209）" in text and NR_BATCH in text and "卫片执法（自然资源）" in text
    assert "2023年6月30日" in text and "整改中" in text
    # The bureau's attributes by their Chinese labels, the verification, the rectification record, the case.
    assert "监测编号" in text and "JCBH" not in text
    assert "核查结论" in text and "违法" in text and "2023年7月12日" in text
    assert "拆除违法搭建的农用设施" in text and "执法队张三" in text and "2023年8月10日" in text
    rectification = next(t for t in doc.tables if t.rows[0].cells[0].text == "整改日期")
    assert [c.text for c in rectification.rows[1].cells][1:4] == ["拆除", "1.10", "0.30"]
    assert CASE_NO in text and "非法占用土地" in text
    # Each photo with its capture time, position and distance to the patch.
    assert "2023年8月10日 10:32:05" in text and "2023年8月10日 10:40:12" in text
    assert "位于图斑内" in text and f"距图斑边界{distance:.0f}米" in text and 30 < distance < 60
    assert re.search(r"东经106\.\d{6}°，北纬29\.\d{6}°", text)
    # The map is a PNG of a printable size; the photos are inline JPEGs.
    images = _image_parts(doc)
    assert len(doc.inline_shapes) == 3 and len(images["image/jpeg"]) == 2
    (png,) = images["image/png"]
    assert 20_000 < len(png.blob) < 3_000_000
    with Image.open(BytesIO(png.blob)) as picture:
        assert picture.width >= 1200 and picture.height >= 800
    # A document that is no photo is named, not embedded (its file name is the only Latin a reader sees).
    assert "附件3：限期拆除通知书.pdf（2023年8月10日拆除整改登记所附；非图片文件，未嵌入本材料，请另附）" in text
    assert re.findall(r"[A-Za-z]{2,}", text.replace("限期拆除通知书.pdf", "")) == [], "everything else is Chinese"
    assert any(p.partname.endswith(".odttf") for p in doc.part.package.iter_parts()), "fonts embedded"
    _render_page_one(path, f"{backend}-patch")


def test_the_review_history_shows_returns_with_their_reasons(demo, tmp_path):
    """Submitted, returned (with the reviewer's reason), submitted again: written straight into the events
    table as the review workflow records them (``from_status``: where a return sends the patch back)."""
    rounds = [("submitted", date(2023, 8, 20), "乡镇人民政府", {"level": "county", "round": 1}),
              ("review_returned", date(2023, 8, 28), "县自然资源局",
               {"level": "county", "round": 1, "reason": "东侧仍有未拆除的棚房", "reason_codes": ["照片不清晰"],
                "from_status": "rectified"}),
              ("submitted", date(2023, 9, 5), "乡镇人民政府", {"level": "county", "round": 2})]
    with open_store(demo) as store:
        tracking.rectify_patch(store, REF, date(2023, 8, 15), "restore_farmland", full=True, user="执法队张三")
        with store.transaction() as conn:
            patch = events_repo.find_patch(conn, store, REF)
            for kind, on, who, payload in rounds:
                events_repo.insert_event(conn, kind=kind, occurred_on=on, actor=who, payload=payload,
                                         patch_id=patch["lineage_id"], batch_id=patch["batch_id"])
        history = review_history(store, REF)
        assert [e["kind"] for e in history] == ["submitted", "review_returned", "submitted"]
        path = tmp_path / "审核.docx"
        done = write_dossier(store, REF, path)
    assert done["sections"][-1] == "审核记录"
    doc = Document(path)
    reviews = next(t for t in doc.tables if t.rows[0].cells[0].text == "轮次")
    rows = [[c.text for c in r.cells] for r in reviews.rows[1:]]
    assert rows[1][:5] == ["1", "2023年8月28日", "县级", "退回", "照片不清晰；东侧仍有未拆除的棚房"]
    assert rows[0][3] == rows[2][3] == "申请销号" and rows[2][0] == "2"
    assert "八、审核记录" in _text(doc)


def test_a_batch_dossier_is_one_docx_per_patch_named_by_its_code(demo, tmp_path):
    out = tmp_path / "森林督查举证材料.zip"
    result = CliRunner().invoke(cli, ["--db", demo, "--lang", "zh", "batches", "dossier", FORESTRY_BATCH,
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    with open_store(demo) as store:
        codes = sorted(list_patches(store, batch=FORESTRY_BATCH)["patch_code"])
    assert f"{len(codes)}个图斑" in result.output and len(codes) == 12
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == sorted(f"{c}.docx" for c in codes)
        for code in codes[:3]:
            doc = Document(BytesIO(archive.read(f"{code}.docx")))
            assert code in doc.paragraphs[1].text and "森林督查（林业）" in _text(doc)
    assert not out.with_name(out.name + ".part").exists()
    wrong = CliRunner().invoke(cli, ["--db", demo, "batches", "dossier", FORESTRY_BATCH, "-o", str(tmp_path / "a.docx")])
    assert wrong.exit_code == 2 and "Error: the dossier is written to a .zip file" in wrong.output


def test_the_patch_command_writes_the_docx(demo, tmp_path):
    out = tmp_path / "单个.docx"
    result = CliRunner().invoke(cli, ["--db", demo, "patches", "dossier", REF, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 photos" in result.output and "500109202302013" in _text(Document(out))
    missing = CliRunner().invoke(cli, ["--db", demo, "patches", "dossier", "NO-SUCH", "-o", str(out)])
    assert missing.exit_code == 2 and "NO-SUCH" in missing.output


def test_outside_a_users_scope_the_dossier_is_not_found_on_the_page_or_the_api(demo):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    with open_store(demo) as store:
        accounts.add_user(store, "shuangfeng", PASSWORD, "enforcer", [SHUANGFENG])
        token = accounts.create_token(store, "shuangfeng", "tests")
        pages = TestClient(create_app(store), headers={"Accept": "text/html"})
        assert form_login(pages, "shuangfeng", PASSWORD).status_code == 303
        api = TestClient(create_app(store), headers={"Authorization": f"Bearer {token}"})
        mine, theirs = (quote(r, safe="/") for r in (OTHER_REF, REF))
        page = pages.get(f"/patches/{mine}").text
        assert "下载举证材料（Word）" in page and f'href="/patches/{quote(NR_BATCH, safe="")}/500109202302005/dossier.docx"' in page
        for client, prefix in ((pages, ""), (api, "/api/v1")):
            assert client.get(f"{prefix}/patches/{theirs}/dossier.docx").status_code == 404
            got = client.get(f"{prefix}/patches/{mine}/dossier.docx")
            assert got.status_code == 200, got.text
            assert got.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
            assert "500109202302005" in _text(Document(BytesIO(got.content)))
            assert quote("500109202302005举证材料.docx") in got.headers["content-disposition"]
        assert pages.get(f"/patches/{theirs}").status_code == 404


def _render_page_one(path: Path, name: str) -> Path:
    """Page 1 as a PNG (LibreOffice to PDF, pdftoppm), under test-output/screenshots/dossier/, for a person to see."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        if IN_CI:
            pytest.fail("soffice and pdftoppm are required in CI", pytrace=False)
        pytest.skip("LibreOffice (soffice) or pdftoppm is not installed")
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG), "HOME": str(path.parent)}
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(path.parent), str(path)],
                   check=True, capture_output=True, timeout=180, env=env)
    pdf = path.with_suffix(".pdf")
    assert pdf.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-page-1.png"
    target.unlink(missing_ok=True)
    subprocess.run([pdftoppm, "-png", "-r", "100", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(target.with_suffix(""))], check=True, timeout=120)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return target
