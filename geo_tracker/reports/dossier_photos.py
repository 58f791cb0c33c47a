"""Evidence photos for the dossier: made fit for the page, and captioned with when, where and how far.

Why re-encode: phone photos are 4–12 MB and often stored sideways with an EXIF orientation
that Word ignores; a dossier of twenty photos must still open on an office PC and print the
right way up. A JPEG that is already small and upright goes in untouched (its EXIF kept).
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from pathlib import Path

from ..core.lifecycle import EVENT_LABELS, MEASURE_LABELS
from .phrases import cn_date

#: Photos are scaled down to this many pixels on their long side (sharp at 156 mm in print).
PHOTO_MAX_PX = 1800
#: EXIF tag of the orientation; 1 is upright.
ORIENTATION = 0x0112


def photo_for_page(path: Path | None) -> tuple[bytes, float] | None:
    """The image as JPEG (or PNG) bytes Word can embed, and its height over its width; None when the
    file is gone or is no image (a PDF, a HEIC without its codec)."""
    if path is None or not Path(path).is_file():
        return None
    try:
        from PIL import Image, ImageOps

        with Image.open(path) as image:
            image.load()
            upright = image.getexif().get(ORIENTATION, 1) in (1, None)
            if image.format == "JPEG" and upright and max(image.size) <= PHOTO_MAX_PX:
                return Path(path).read_bytes(), image.height / image.width
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
            if picture.mode not in ("RGB", "L"):
                background = Image.new("RGB", picture.size, "white")
                background.paste(picture, mask=picture.getchannel("A") if "A" in picture.getbands() else None)
                picture = background
            out = BytesIO()
            picture.save(out, format="JPEG", quality=85, optimize=True)
            return out.getvalue(), picture.height / picture.width
    except Exception:  # noqa: BLE001 - not an image Pillow reads: listed by name instead of embedded
        return None


def taken_cn(taken_at: str | None) -> str:
    """EXIF time (2023-08-10 10:32:05) as 2023年8月10日 10:32:05; 未记录 without one."""
    if not taken_at:
        return "未记录"
    try:
        moment = datetime.strptime(taken_at.strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return taken_at
    return f"{cn_date(moment.date())} {moment:%H:%M:%S}"


def place_cn(item: dict) -> str:
    """东经106.421305°，北纬29.809512° (six decimals: about 0.1 m); 未记录 without GPS."""
    lon, lat = item.get("lon"), item.get("lat")
    if lon is None or lat is None:
        return "未记录（照片无卫星定位信息）"
    east = f"东经{lon:.6f}°" if lon >= 0 else f"西经{-lon:.6f}°"
    north = f"北纬{lat:.6f}°" if lat >= 0 else f"南纬{-lat:.6f}°"
    return f"{east}，{north}"


def distance_cn(item: dict) -> str:
    """位于图斑内, or 距图斑边界35米; 无法计算 without a position."""
    distance = item.get("distance_to_patch_m")
    if distance is None:
        return "无法计算"
    if distance <= 0:
        return "位于图斑内"
    return f"距图斑边界{distance:.1f}米" if distance < 10 else f"距图斑边界{distance:.0f}米"


def _record_cn(item: dict) -> str:
    """Which record the photo came with: 2023年8月10日拆除整改登记."""
    kind = EVENT_LABELS.get(item.get("kind"), (item.get("kind") or "",))[0]
    measure = MEASURE_LABELS.get(item.get("measure"), "") if item.get("kind") == "rectified" else ""
    on = item.get("on")
    return f"{cn_date(on) if on else ''}{measure}{kind}登记"


def caption_lines(number: int, item: dict, *, embedded: bool) -> list[str]:
    """The lines under a photo: which record it came with, then time, place and distance to the patch;
    a file that could not be embedded is named, with why."""
    if not embedded:
        why = "文件已不在存储目录中" if item.get("path") is None else "非图片文件，未嵌入本材料，请另附"
        return [f"附件{number}：{item.get('file_name') or ''}（{_record_cn(item)}所附；{why}）"]
    return [f"照片{number}：{_record_cn(item)}所附",
            f"拍摄时间：{taken_cn(item.get('taken_at'))}；与图斑的位置关系：{distance_cn(item)}",
            f"拍摄位置：{place_cn(item)}"]
