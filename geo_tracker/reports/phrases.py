"""The sentences township reports print, in the phrasing of the sample reports."""

from __future__ import annotations

from ..core.rounding import wan

CN_NUMERALS = "一二三四五六七八九十"
#: What 办结 means here: the README says the same (a case only decided is not 办结).
CLOSED_MEANING = "指处罚决定已执行完毕或已结案"


def _join(values: list[str], last: str = "和") -> str:
    if not values:
        return ""
    return values[0] if len(values) == 1 else "、".join(values[:-1]) + last + values[-1]


def yuan(value: float) -> str:
    """316081.70 -> '316081.7': reports drop trailing zeros of 元."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def money(value: float) -> str:
    """Fines as the seeds print them in tables and sums: 万元 with two decimals ("7.80万元")."""
    return f"{wan(value)}万元"


def cn_date(day) -> str:
    """2024-01-18 -> 2024年1月18日 (成文日期, Arabic numerals as GB/T 9704 has them)."""
    return f"{day.year}年{day.month}月{day.day}日"


def heading(index: int, text: str) -> str:
    """The n-th first-level heading: 一、…, 二、…"""
    return f"{CN_NUMERALS[index]}、{text}"


def opening_sentence(year: int | None, as_of_cn: str) -> str:
    """The one sentence that names the date the figures stand at (never twice)."""
    what = f"{year}年图斑整改情况" if year else "图斑整改情况"
    return f"现将{what}报告如下（数据截至{as_of_cn}）："


def natural_resources_sentence(f: dict, types: list[str], acts: list[str]) -> str:
    """上级共下发自然资源图斑面积70.37亩，含耕地面积4.87亩，……已完成整改面积50.89亩，其中耕地面积4.33亩。"""
    p = f["printed"]
    text = f"上级共下发自然资源图斑{f['patches']}个，图斑面积{p['area_mu']}亩，含耕地面积{p['cultivated_mu']}亩"
    if types:
        text += f"，主要违法类型为{_join(types[:2])}"
    if acts:
        text += f"，主要违法行为是{_join(acts[:3], '、')}等"
    text += f"。经核查，违法图斑{f['illegal']}个，面积{p['illegal_area_mu']}亩"
    if f["case_filed"]:
        text += f"，已立案查处{f['case_filed']}个"
    text += f"。至目前，已完成整改面积{p['rectified_mu']}亩，其中耕地面积{p['rectified_cultivated_mu']}亩"
    if f["rectification_rate_area"] is not None:
        text += f"，整改率（已整改面积占违法面积）{p['rectification_rate_area']}"
    return text + "。"


def forestry_sentence(f: dict, types: list[str], acts: list[str]) -> str:
    """县林业局下发森林违法图斑12个，……已全部完成立案查处，并指导违法行为人全面完成复绿等整改措施。"""
    p = f["printed"]
    text = f"县林业局下发森林违法图斑{f['patches']}个，面积{p['area_mu']}亩"
    if types:
        text += f"，主要违法类型为{_join(types[:2])}"
    if acts:
        text += f"，主要违法行为是{_join(acts[:3], '、')}等"
    text += "，至目前，"
    if f["illegal"] and f["case_filed"] >= f["illegal"]:
        text += "已全部完成立案查处"
    else:
        text += f"已立案查处{f['case_filed']}个"
    if f["illegal"] and f["rectified"] >= f["illegal"]:
        text += "，并指导违法行为人全面完成复绿等整改措施"
    else:
        text += f"，已完成整改{f['rectified']}个、面积{p['rectified_mu']}亩"
    return text + "。"


def review_sentence(f: dict, level: str, reasons: tuple[str, ...]) -> str:
    """申请销号图斑18个，县级审核通过15个，退回3个（主要原因：未完全拆除），待审核2个。 Empty before any submission."""
    if not f.get("review_submitted"):
        return ""
    text = f"申请销号图斑{f['review_submitted']}个，{level}审核通过{f['review_approved']}个"
    if f["review_returned"]:
        text += f"，退回{f['review_returned']}个"
        if reasons:
            text += f"（主要原因：{_join(list(reasons[:2]), '、')}）"
    if f.get("review_pending"):
        text += f"，待审核{f['review_pending']}个"
    return text + "。"


def cases_sentence(total: dict) -> str:
    """共立案行政处罚案件17宗，已办结4宗，已作出处罚决定尚未办结12宗，涉及行政罚款共7.80万元。

    ``total``: cases, cases_closed (办结: decision executed or case closed), cases_decided (decided, not 办结),
    fines_yuan.
    """
    text = f"共立案行政处罚案件{total['cases']}宗，已办结{total['cases_closed']}宗"
    if total["cases_closed"] and total.get("cases_decided"):
        text += f"（{CLOSED_MEANING}）"
    if total.get("cases_decided"):
        text += f"，已作出处罚决定尚未办结{total['cases_decided']}宗"
    if total["fines_yuan"]:
        text += f"，涉及行政罚款共{money(total['fines_yuan'])}"
    return text + "。"


def patrol_sentence(patrols: int, findings: int) -> str:
    """累积开展巡查35次，发现问题15宗。"""
    return f"累积开展巡查{patrols}次，发现问题{findings}宗。"


def complaint_sentence(f: dict) -> str:
    """投诉举报774件……群众诉求回应率100%，事项办结率100%。"""
    return (f"受理投诉举报{f['received']}件，已回应{f['responded']}件，已办结{f['closed']}件，"
            f"群众诉求回应率{f['response_rate']}，事项办结率{f['completion_rate']}。")


def case_category_sentence(figures: dict) -> str:
    """其中，立案查处城市规划类案件9宗……作出行政警告5宗。

    Only cases that have a category are counted by category: the others are in the
    total already and are not printed again as a category of their own.
    """
    parts = [f"立案查处{r['category']}类案件{r['cases']}宗" for r in figures["by_category"] if r["category"]]
    outcomes = [f"作出{r['outcome']}{r['cases']}宗" for r in figures["by_outcome"] if r["outcome"] != "行政处罚"]
    text = "，".join(parts + outcomes)
    return f"其中，{text}。" if text else ""


def table_note() -> str:
    """The note under the per-village table: what each rate divides, and the units."""
    return ("注：面积单位为亩，保留两位小数，各村之和等于合计。违法面积为核查认定违法的图斑面积；"
            "整改率 = 已整改面积 ÷ 违法面积。")
