"""Messages of cases (立案, 处罚决定, 执行完毕, 结案) and the office's word lists. key -> Entry (zh, en, hints by interface)."""

from . import Entry

_CASES_LIST = {"cli": ("用 `geo-tracker cases list` 查看案件", "`geo-tracker cases list` shows the cases"),
               "web": ("请在案件列表中查找", "look it up in the case list"),
               "api": ("GET /api/v1/cases 列出案件", "GET /api/v1/cases lists the cases")}

MESSAGES: dict[str, Entry] = {
    "cases.bad_vocabulary_kind": Entry(zh="词表类别“{kind}”无效，应为：{choices}",
                                       en="vocabulary kind {kind!r} is not one of {choices}"),
    "cases.empty_value": Entry(zh="词条不能为空", en="the value must not be empty"),
    "cases.not_in_vocabulary": Entry(
        zh="“{value}”不在本单位的{kind}词表中（现有：{allowed}）",
        en="{kind} {value!r} is not in this office's list ({allowed})",
        hints={"cli": ("用 `geo-tracker vocab add {code} {value}` 添加", "add it with `geo-tracker vocab add {code} {value}`"),
               "web": ("请从列表中选择，或请管理员添加该词条", "choose from the list, or ask an admin to add it"),
               "api": ("请管理员添加该词条", "ask an admin to add it")}),
    "cases.kind.violation": Entry(zh="违法类型", en="--violation"),
    "cases.kind.act": Entry(zh="违法行为", en="--act"),
    "cases.kind.category": Entry(zh="案件类别", en="--category"),
    "cases.kind.outcome": Entry(zh="处理结果", en="--outcome"),
    "cases.kind.review_reason": Entry(zh="退回原因", en="--reason-code"),
    "cases.values": Entry(zh="{first}、{rest}", en="{first}, {rest}"),
    "cases.not_found": Entry(zh="没有案件“{case_no}”", en="no case {case_no!r}", hints=_CASES_LIST),
    "cases.unknown": Entry(zh="没有案件“{case_no}”", en="no case {case_no!r}"),
    "cases.stale": Entry(zh="案件{case_no}刚被他人修改", en="case {case_no} was changed by someone else meanwhile",
                         hints={"any": ("请重试", "try again"), "web": ("请刷新页面后重试", "reload the page and try again")}),
    "cases.empty_number": Entry(zh="案件编号不能为空，例如：X镇综执罚〔2023〕12号",
                                en="the case number must not be empty, e.g. X镇综执罚〔2023〕12号"),
    "cases.negative_fine": Entry(zh="罚款金额不能为负数，现为{fine}", en="--fine must not be negative, got {fine}"),
    "cases.number_taken": Entry(
        zh="案件编号“{case_no}”已被使用：全县的案件文号不能重复",
        en="case number {case_no!r} is already in use: case numbers (文号) are unique across the county",
        hints={"cli": ("请核对文号，或用 `cases link` 把图斑加到本单位的案件中",
                       "check the number, or add patches to your own case with `cases link`"),
               "web": ("请核对文号，或在本单位的案件页面关联图斑", "check the number, or link the patches on your own "
                       "case's page"),
               "api": ("请核对文号，或把图斑关联到本单位的案件", "check the number, or link the patches to your own case")}),
    "cases.already_linked": Entry(zh="图斑{label}已关联案件{case_no}", en="patch {label} is already linked to case {case_no}"),
    "cases.other_case": Entry(zh="图斑{label}已属于案件{other}：一个图斑至多属于一个案件",
                              en="patch {label} already belongs to case {other}: a patch has at most one case"),
    "cases.closed_no_link": Entry(zh="案件{case_no}已于{closed}结案，不能再关联图斑",
                                  en="case {case_no} was closed on {closed}: patches cannot be added"),
    "cases.decision_before_opening": Entry(
        zh="处罚决定日期（{on}）不能早于立案日期（{opened}）",
        en="the decision ({on}) cannot precede the case's opening ({opened})"),
    "cases.already_closed": Entry(zh="案件{case_no}已结案（{closed}）", en="case {case_no} is already closed ({closed})"),
    "cases.decision_after_execution": Entry(
        zh="处罚决定日期（{on}）不能晚于执行完毕日期（{executed}）",
        en="the decision ({on}) cannot follow the decision's execution ({executed})"),
    "cases.execution_without_decision": Entry(
        zh="案件{case_no}尚未作出处罚决定，不能记录执行完毕",
        en="case {case_no} has no penalty decision yet: its execution cannot be recorded",
        hints={"cli": ("请先用 `geo-tracker cases decide` 记录处罚决定",
                       "record the decision first with `geo-tracker cases decide`"),
               "web": ("请先在本页填写处罚决定", "record the decision on this page first"),
               "api": ("请先 POST /api/v1/cases/{case_no}/decision 记录处罚决定",
                       "record the decision first: POST /api/v1/cases/{case_no}/decision")}),
    "cases.execution_before_decision": Entry(
        zh="执行完毕日期（{on}）不能早于处罚决定日期（{decided}）",
        en="the execution ({on}) cannot precede the decision ({decided})",
        hints={"cli": ("请核对 --on 日期", "check the --on date"),
               "web": ("请核对执行完毕日期", "check the date of execution"),
               "api": ("请核对 on 日期", "check the on date")}),
    "cases.already_executed": Entry(zh="案件{case_no}的处罚决定已于{executed}执行完毕",
                                    en="the decision of case {case_no} was already executed on {executed}",
                                    hints={"any": ("执行完毕只记录一次", "the execution is recorded once")}),
    "cases.closed_no_execution": Entry(
        zh="案件{case_no}已于{closed}结案，不能再记录执行完毕",
        en="case {case_no} was closed on {closed}: its execution cannot be recorded afterwards"),
    "cases.closing_before_execution": Entry(
        zh="结案日期（{on}）不能早于执行完毕日期（{executed}）",
        en="closing ({on}) cannot precede the decision's execution ({executed})"),
    "cases.closing_before_opening": Entry(
        zh="结案日期（{on}）不能早于立案日期（{opened}）", en="closing ({on}) cannot precede the case's opening ({opened})"),
}
