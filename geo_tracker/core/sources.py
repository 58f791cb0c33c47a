"""Where patches come from (来源), and how a patch is named (``CODE`` or ``BATCH/CODE``)."""

from __future__ import annotations

SOURCES = ("natural-resources", "forestry", "patrol", "complaint", "other")
#: Names with the issuing department, for forms and lists.
SOURCE_LABELS = {
    "natural-resources": "卫片执法 (自然资源)",
    "forestry": "森林督查 (林业)",
    "patrol": "巡查",
    "complaint": "举报",
    "other": "其他",
}
#: Short names, for map legends and popups.
SOURCE_SHORT_LABELS = {"natural-resources": "卫片执法", "forestry": "森林督查", "patrol": "巡查", "complaint": "举报",
                       "other": "其他"}


def split_ref(ref: str) -> tuple[str | None, str]:
    """``BATCH/CODE`` -> (batch, code); a bare ``CODE`` -> (None, code). Codes never hold "/"."""
    batch, _, code = ref.rpartition("/")
    return batch or None, code
