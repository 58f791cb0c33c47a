"""Charts for reports (matplotlib, headless), with a CJK font so Chinese labels render."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from ..catalogue import msg  # noqa: E402
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
    raise GeoTrackerError(msg("report.no_cjk_font", package=DEBIAN_FONT_PACKAGE))


def font_path(family: str) -> str:
    return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)


def _style() -> None:
    plt.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False


def _finish(fig, ax):
    """Y from 0 with headroom, the legend below the plot (never over a line or bar)."""
    top = max([abs(v) for line in ax.get_lines() for v in line.get_ydata()] +
              [p.get_height() for p in ax.patches] + [0])
    ax.set_ylim(0, top * 1.15 if top > 0 else 1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def _save(fig, path: Path) -> Path:
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def cumulative_figure(points: list[tuple[str, float, float]], title: str):
    """Line chart: cumulative rectified area and illegal area (亩) at each month end."""
    _style()
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=120)
    labels = [p[0] for p in points]
    ax.plot(labels, [p[2] for p in points], linestyle="--", label="违法图斑面积（亩）", color="#c92a2a")
    ax.plot(labels, [p[1] for p in points], marker="o", label="累计整改面积（亩）", color="#2b8a3e")
    ax.set_title(title)
    ax.set_ylabel("面积（亩）")
    ax.grid(alpha=0.3)
    return _finish(fig, ax)


def village_figure(rows: list[tuple[str, float, float]], title: str):
    """Bars per village: patch area and rectified area (亩)."""
    _style()
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=120)
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r[1] for r in rows], width=0.4, label="图斑面积（亩）", color="#1971c2")
    ax.bar([i + 0.2 for i in x], [r[2] for r in rows], width=0.4, label="已整改面积（亩）", color="#2b8a3e")
    ax.set_xticks(list(x))
    crowded = len(rows) > 8
    ax.set_xticklabels([r[0] for r in rows], rotation=30 if crowded else 0, ha="right" if crowded else "center")
    ax.set_title(title)
    ax.set_ylabel("面积（亩）")
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, ax)


def cumulative_rectified_chart(points: list[tuple[str, float, float]], path: Path, title: str) -> Path:
    return _save(cumulative_figure(points, title), path)


#: At most this many villages get a bar: beyond it the bars are unreadable (and a county's
#: thousand villages took matplotlib seconds to lay out).
MAX_VILLAGE_BARS = 20


def village_chart(rows: list[tuple[str, float, float]], path: Path, title: str) -> Path:
    """The villages' bars; with more than :data:`MAX_VILLAGE_BARS`, those with the largest patch area, said in the title."""
    if len(rows) > MAX_VILLAGE_BARS:
        title = f"{title}（图斑面积最大的{MAX_VILLAGE_BARS}个村，共{len(rows)}个村）"
        rows = sorted(rows, key=lambda r: -(r[1] or 0))[:MAX_VILLAGE_BARS]
    return _save(village_figure(rows, title), path)
