"""The sentences township reports print, in the phrasing of the sample reports."""

from __future__ import annotations


def _join(values: list[str], last: str = "和") -> str:
    if not values:
        return ""
    return values[0] if len(values) == 1 else "、".join(values[:-1]) + last + values[-1]


def yuan(value: float) -> str:
    """316081.70 -> '316081.7': reports drop trailing zeros of 元."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


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
        text += f"，整改率{p['rectification_rate_area']}"
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


def cases_sentence(total: dict) -> str:
    """共立案办结行政处罚案件25宗……涉及行政罚款共316081.7元。"""
    text = f"共立案行政处罚案件{total['cases']}宗，已办结{total['cases_closed']}宗"
    if total["fines_yuan"]:
        text += f"，涉及行政罚款共{yuan(total['fines_yuan'])}元"
    return text + "。"


def patrol_sentence(patrols: int, findings: int) -> str:
    """累积开展巡查35次，发现问题15宗。"""
    return f"累积开展巡查{patrols}次，发现问题{findings}宗。"


def complaint_sentence(f: dict) -> str:
    """投诉举报774件……群众诉求回应率100%，事项办结率100%。"""
    return (f"受理投诉举报{f['received']}件，已回应{f['responded']}件，已办结{f['closed']}件，"
            f"群众诉求回应率{f['response_rate']}，事项办结率{f['completion_rate']}。")


def case_category_sentence(figures: dict) -> str:
    """立案查处城市规划类案件9宗……作出行政警告5宗。"""
    parts = [f"立案查处{r['category']}类案件{r['cases']}宗" for r in figures["by_category"]]
    outcomes = [f"作出{r['outcome']}{r['cases']}宗" for r in figures["by_outcome"] if r["outcome"] != "行政处罚"]
    text = "，".join(parts + outcomes)
    return (text + "。") if text else ""
