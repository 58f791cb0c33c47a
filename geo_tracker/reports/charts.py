"""Charts for reports (matplotlib, headless), with a CJK font so Chinese labels render."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from ..errors import GeoTrackerError  # noqa: E402

CJK_FAMILIES = ["Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "SimHei",
                "Microsoft YaHei"]
DEBIAN_FONT_PACKAGE = "fonts-noto-cjk"


def cjk_font() -> str:
    """The first installed CJK font family; without one Chinese would print as boxes (tofu)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    font_manager.fontManager = font_manager.FontManager()  # fonts installed since the cache was built
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    raise GeoTrackerError(
        f"no CJK font is installed, so charts would show boxes instead of Chinese: install "
        f"{DEBIAN_FONT_PACKAGE} (apt-get install {DEBIAN_FONT_PACKAGE})"
    )


def font_path(family: str) -> str:
    return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)


def _style() -> None:
    plt.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False


def cumulative_rectified_chart(points: list[tuple[str, float, float]], path: Path, title: str) -> Path:
    """Line chart: cumulative rectified area and illegal area (亩) at each month end."""
    _style()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    labels = [p[0] for p in points]
    ax.plot(labels, [p[1] for p in points], marker="o", label="累计整改面积（亩）", color="#2b8a3e")
    ax.plot(labels, [p[2] for p in points], linestyle="--", label="违法图斑面积（亩）", color="#c92a2a")
    ax.set_title(title)
    ax.set_xlabel("月份")
    ax.set_ylabel("面积（亩）")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def village_chart(rows: list[tuple[str, float, float]], path: Path, title: str) -> Path:
    """Bars per village: patch area and rectified area (亩)."""
    _style()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    names = [r[0] for r in rows]
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r[1] for r in rows], width=0.4, label="图斑面积（亩）", color="#1971c2")
    ax.bar([i + 0.2 for i in x], [r[2] for r in rows], width=0.4, label="已整改面积（亩）", color="#2b8a3e")
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_title(title)
    ax.set_ylabel("面积（亩）")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
