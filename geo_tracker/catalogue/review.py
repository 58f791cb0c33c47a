"""Messages of the county's review before 销号 (services/review.py): key -> Entry."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "review.bad_source": Entry(zh="没有来源“{source}”（可用：{choices}）", en="no source {source!r} (choose {choices})"),
    "review.bad_levels": Entry(
        zh="审核层级“{levels}”不对（{wrong}）：请写county（县级）、county,city（县、市两级）或none（不审核）；层级有{choices}",
        en="review levels {levels!r} are wrong ({wrong}): write county, county,city or none (levels: {choices})"),
    "review.bad_days": Entry(zh="审核期限{days}天不对：应为正整数", en="review days {days} should be a positive number"),
    "review.close_refused": Entry(
        zh="图斑{label}的来源须经{levels}审核后销号，不能直接销号", en="patch {label} is closed by its review "
           "({levels}), not directly",
        hints={"cli": ("请用 `geo-tracker patches submit` 申请销号", "submit it: `geo-tracker patches submit`"),
               "web": ("请在图斑页面点“申请销号”", "press 申请销号 on the patch's page"),
               "api": ("请提交审核：POST /api/v1/patches/{label}/submit", "submit it: POST /api/v1/patches/{label}/submit")}),
    "review.no_policy": Entry(
        zh="图斑{label}的来源（{source}）不需上级审核，请直接销号",
        en="patch {label}'s source ({source}) has no review: close it directly",
        hints={"cli": ("geo-tracker patches close --approval-ref 文号", "geo-tracker patches close --approval-ref REF"),
               "web": ("在图斑页面销号", "close it on the patch's page")}),
    "review.bad_decision": Entry(zh="审核结论“{decision}”不对：应为通过或退回",
                                 en="review decision {decision!r}: approve or return"),
    "review.wrong_level": Entry(zh="图斑{label}待{level}审核，您的账户审核{yours}", en="patch {label} waits for "
                                "the {level} review; your account reviews at {yours}"),
    "review.reason_needed": Entry(zh="退回必须写明原因", en="a return needs a reason",
                                  hints={"cli": ("请加 --reason 或 --reason-code", "add --reason or --reason-code")}),
}
