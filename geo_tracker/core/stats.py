"""Figures report authors print, derived from summed quantities (rates, 万元, 平方米)."""

from __future__ import annotations

from ..units import M2_PER_MU

#: Summed in the database, per group; everything else is derived from them.
SUMS = ["patches", "area_mu", "cultivated_mu", "issued_area_mu", "verified", "legal", "no_change", "illegal",
        "illegal_area_mu", "illegal_cultivated_mu", "case_filed", "rectified", "closed", "rectified_mu",
        "rectified_cultivated_mu", "demolished_mu", "overdue", "cases", "cases_closed", "fines_yuan",
        # the county's review before 销号: patches submitted (and rounds), returned (and returns), approved,
        # waiting now; days the reviews took and how many there were (for the mean)
        "review_submitted", "review_rounds", "review_returned", "review_returns", "review_approved",
        "review_pending", "review_days", "reviews"]
#: Figures printed with two decimals whose parts must add up to their total.
ADDITIVE = ["area_mu", "cultivated_mu", "issued_area_mu", "illegal_area_mu", "illegal_cultivated_mu",
            "rectified_mu", "rectified_cultivated_mu", "demolished_mu", "demolished_m2", "fines_yuan", "fines_wan"]
#: The wholes a printed part may not exceed (when its exact value does not): 已整改 ≤ 违法面积 ≤ 面积.
WHOLES = {
    "cultivated_mu": ("area_mu",),
    "illegal_area_mu": ("area_mu",),
    "illegal_cultivated_mu": ("illegal_area_mu", "cultivated_mu"),
    "rectified_mu": ("illegal_area_mu", "area_mu"),
    "rectified_cultivated_mu": ("rectified_mu", "cultivated_mu"),
    "demolished_mu": ("rectified_mu",),
}
#: Distinct cases: a case may span groups, so the groups' fines need not add up to the total's.
NOT_SUMMED = ("fines_yuan", "fines_wan")
#: 15号令: illegally occupied cultivated land at or above this share of the year's approvals triggers accountability.
ACCOUNTABILITY_SHARE = 0.15


def _rate(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def derive(sums: dict, approved_cultivated_mu: float | None = None) -> dict:
    """All figures of a group from its sums."""
    f = {k: (sums.get(k) or 0) for k in SUMS}
    for k in ("patches", "verified", "legal", "no_change", "illegal", "case_filed", "rectified", "closed",
              "overdue", "cases", "cases_closed", "review_submitted", "review_rounds", "review_returned",
              "review_returns", "review_approved", "review_pending", "review_days", "reviews"):
        f[k] = int(f[k])
    f["demolished_m2"] = f["demolished_mu"] * M2_PER_MU
    f["fines_wan"] = f["fines_yuan"] / 10000
    f["rectification_rate_area"] = _rate(f["rectified_mu"], f["illegal_area_mu"])   # 拆除复耕率 (by area)
    f["rectification_rate_count"] = _rate(f["rectified"], f["illegal"])
    f["case_filing_rate"] = _rate(f["case_filed"], f["illegal"])                   # 立案率
    f["case_closing_rate"] = _rate(f["cases_closed"], f["cases"])                  # 结案率
    f["review_approval_rate"] = _rate(f["review_approved"], f["review_submitted"])  # 审核通过率
    f["review_mean_days"] = _rate(f["review_days"], f["reviews"])                   # 平均审核用时（天）
    if approved_cultivated_mu:
        share = f["illegal_cultivated_mu"] / approved_cultivated_mu
        f["illegal_cultivated_share"] = share                                       # 违法占用耕地比例 (15号令)
        f["accountability_triggered"] = share >= ACCOUNTABILITY_SHARE
    return f
