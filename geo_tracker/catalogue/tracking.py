"""Messages of tracking: verification, rectification, closing, voiding, the lifecycle's refusals,
finding patches and exporting them. key -> Entry (zh, en, hints by interface)."""

from ..core.lifecycle import STATUS_TABLE
from . import Entry

_PATCHES_LIST = {"cli": ("用 `geo-tracker patches list` 查看图斑", "`geo-tracker patches list` shows the patches"),
                 "web": ("请在图斑列表中查找", "look it up in the patch list"),
                 "api": ("GET /api/v1/patches 列出图斑", "GET /api/v1/patches lists the patches")}

MESSAGES: dict[str, Entry] = {
    # --- the lifecycle (core/lifecycle.py) ---------------------------------------------------
    "lifecycle.refused": Entry(
        zh="不能对图斑{label}{action}：该图斑当前为“{status}”；下一步可以{next}",
        en="cannot {action} patch {label}: it is {status}; next you can {next}"),
    "lifecycle.refused_on": Entry(
        zh="不能在{day}对图斑{label}{action}：当日该图斑为“{status}”；下一步可以{next}",
        en="cannot {action} patch {label} on {day}: it is {status} then; next you can {next}"),
    "lifecycle.over_rectified": Entry(
        zh="图斑{label}截至{day}的已整改面积将达{rectified:.4f}亩，超过图斑面积{area:.4f}亩（当时尚余{remained:.4f}亩）",
        en="rectified area of patch {label} would reach {rectified:.4f} 亩 on {day}, more than its "
           "{area:.4f} 亩 ({remained:.4f} 亩 remained)"),
    "lifecycle.over_rectified_cultivated": Entry(
        zh="图斑{label}截至{day}的已整改耕地将达{rectified:.4f}亩，超过其耕地面积{cultivated:.4f}亩",
        en="rectified cultivated land of patch {label} would reach {rectified:.4f} 亩 on {day}, "
           "more than its {cultivated:.4f} 亩 of 耕地"),
    "lifecycle.next.issued": Entry(zh="核查", en="verify it", hints={
        "cli": ("geo-tracker patches verify --result legal|no_change|illegal",
                "patches verify --result legal|no_change|illegal"),
        "web": ("在图斑页面填写核查结论", "on the patch's page")}),
    "lifecycle.next.legal": Entry(zh="销号", en="close it", hints={
        "cli": ("geo-tracker patches close", "patches close"),
        "web": ("在图斑页面办理", "on the patch's page")}),
    "lifecycle.next.no_change": Entry(zh="销号", en="close it", hints={
        "cli": ("geo-tracker patches close", "patches close"),
        "web": ("在图斑页面办理", "on the patch's page")}),
    "lifecycle.next.illegal": Entry(zh="立案或登记整改", en="file a case or record rectification", hints={
        "cli": ("geo-tracker cases open/link 或 geo-tracker patches rectify", "cases open/link or patches rectify"),
        "web": ("在案件页面立案，或在图斑页面登记整改", "open a case on the cases page, or record it "
                "on the patch's page")}),
    "lifecycle.next.case_filed": Entry(zh="登记整改", en="record rectification", hints={
        "cli": ("geo-tracker patches rectify", "patches rectify"),
        "web": ("在图斑页面办理", "on the patch's page")}),
    "lifecycle.next.rectifying": Entry(zh="登记其余部分的整改", en="record the rest of the rectification", hints={
        "cli": ("geo-tracker patches rectify", "patches rectify"),
        "web": ("在图斑页面办理", "on the patch's page")}),
    "lifecycle.next.rectified": Entry(zh="销号", en="close it", hints={
        "cli": ("geo-tracker patches close", "patches close"),
        "web": ("在图斑页面办理", "on the patch's page")}),
    "lifecycle.next.submitted": Entry(zh="等待上级审核", en="wait for the review", hints={
        "cli": ("审核员用 geo-tracker patches review --approve 或 --return", "a reviewer runs patches review"),
        "web": ("由审核员在“审核”页面办理", "a reviewer answers it on the review page")}),
    "lifecycle.next.closed": Entry(
        zh="无需再办：图斑已销号（如需重新办理，请作废销号记录）",
        en="nothing: it is closed (void the closing event to reopen it)"),
    "lifecycle.next.unknown": Entry(zh="无", en="nothing"),
    **{f"lifecycle.status.{s.name}": Entry(zh=s.label, en=f"{s.name} ({s.label})") for s in STATUS_TABLE},
    "lifecycle.action.verify": Entry(zh="核查", en="verify"),
    "lifecycle.action.link_case": Entry(zh="关联案件", en="link case"),
    "lifecycle.action.rectify": Entry(zh="登记整改", en="rectify"),
    "lifecycle.action.close": Entry(zh="销号", en="close"),
    "lifecycle.action.submit": Entry(zh="申请销号", en="submit for review"),
    "lifecycle.action.review": Entry(zh="审核", en="review"),
    "tracking.void_role": Entry(zh="不能作废记录{event}：作废须有“{action}”的权限",
                                en="cannot void event {event}: that needs the right to {action}"),
    # --- recording an action (services/tracking.py) ---------------------------------------
    "tracking.before_issue": Entry(zh="{on}早于图斑{label}的下发日期（{issued}）",
                                   en="{on} is before patch {label} was issued ({issued})"),
    "tracking.in_future": Entry(zh="{on}是将来的日期：请登记已经发生的事",
                                en="{on} is in the future: record what has happened"),
    "tracking.bad_result": Entry(
        zh="核查结论“{result}”无效，应为合法、伪变化或违法（{choices}）",
        en="--result {result!r} is not one of {choices} (合法/伪变化/违法)"),
    "tracking.part_feature": Entry(zh="{file}：第{feature}个要素{problem}", en="{file}: feature {feature} {problem}"),
    "tracking.part_outside": Entry(
        zh="{file}：其{area:.4f}亩中有{outside:.4f}亩在图斑{label}之外：整改范围必须在图斑之内",
        en="{file}: {outside:.4f} of its {area:.4f} 亩 lie outside patch {label}: "
           "a rectified part must lie within its patch"),
    "tracking.drawn_not_polygon": Entry(zh="所画的整改范围不是GeoJSON面", en="the drawn part is not a GeoJSON polygon"),
    "tracking.drawn_invalid": Entry(zh="所画的整改范围{problem}", en="the drawn part {problem}"),
    "tracking.drawn_outside": Entry(
        zh="所画的整改范围与图斑{label}不重叠", en="the drawn part does not overlap patch {label}",
        hints={"any": ("请在图斑范围内画", "draw over the patch")}),
    "tracking.photo_not_uploaded": Entry(
        zh="图斑{label}的照片{sha}尚未上传完成", en="photo {sha} of patch {label} has not been uploaded yet",
        hints={"any": ("请先上传照片，再同步这条记录", "upload the photo first, then sync this record")}),
    "tracking.bad_measure": Entry(
        zh="整改措施“{measure}”无效，应为：{choices}", en="--measure {measure!r} is not one of {choices}"),
    "tracking.one_amount": Entry(
        zh="整改面积、全部整改、整改范围文件和地图上画的范围，只能给出其中一项",
        en="give exactly one of --area-mu, --full and --geometry (or a part drawn on the map)",
        hints={"web": ("请只填写其中一项", "fill in only one of them")}),
    "tracking.area_not_positive": Entry(zh="整改面积必须大于0，现为{area}",
                                        en="--area-mu must be positive, got {area}"),
    "tracking.cultivated_negative": Entry(zh="其中耕地面积不能为负数，现为{area}",
                                          en="--cultivated-mu must not be negative, got {area}"),
    "tracking.over_remaining": Entry(
        zh="本次整改{area:.4f}亩后，图斑{label}的已整改面积将达{total:.4f}亩，超过图斑面积{whole:.4f}亩"
           "（尚余{remaining:.4f}亩）",
        en="rectifying {area:.4f} 亩 would bring patch {label} to {total:.4f} 亩 rectified, more than its "
           "{whole:.4f} 亩 ({remaining:.4f} 亩 remain)"),
    "tracking.cultivated_over_record": Entry(
        zh="其中耕地{cultivated}亩超过本次整改面积{area:.4f}亩",
        en="--cultivated-mu {cultivated} exceeds this record's {area:.4f} 亩"),
    "tracking.cultivated_over_patch": Entry(
        zh="图斑{label}的已整改耕地将达{total:.4f}亩，超过其耕地面积{limit:.4f}亩",
        en="rectified cultivated land of patch {label} would reach {total:.4f} 亩, more than its {limit:.4f} 亩 of 耕地"),
    "tracking.void_reason": Entry(
        zh="请写明作废原因", en="--reason is required: say why the event is void"),
    "tracking.no_event": Entry(zh="没有编号为{event}的记录", en="no event {event}", hints={
        "cli": ("用 `geo-tracker patches history CODE` 查看记录编号", "`geo-tracker patches history CODE` shows event ids"),
        "web": ("记录编号见图斑页面的“经过”", "the patch's page lists its events")}),
    "tracking.already_void": Entry(zh="记录{event}已作废（由记录{by}作废）",
                                   en="event {event} is already void (by event {by})"),
    "tracking.not_voidable": Entry(
        zh="记录{event}（{kind}）不能作废：只有图斑的核查、关联案件、整改登记和销号记录可以作废",
        en="event {event} ({kind}) cannot be voided: only verification, case link, rectification and closing "
           "events of a patch can"),
    "tracking.bulk_columns": Entry(
        zh="{file}缺少{missing}列：应有如“图斑编号、核查结果、核查日期”的列（现有列：{columns}）",
        en="{file} has no column for {missing}: expected e.g. 图斑编号, 核查结果, 核查日期 (its columns are: {columns})"),
    "tracking.bulk_row": Entry(zh="第{row}行（{code}）：{problem}", en="row {row} ({code}): {problem}"),
    "tracking.bulk_bad_date": Entry(zh="日期“{value}”不是日期", en="date {value!r} is not a date"),
    "tracking.bulk_bad_result": Entry(zh="核查结果“{value}”不是合法、伪变化或违法",
                                      en="result {value!r} is not 合法/伪变化/违法"),
    "tracking.bulk_rejected": Entry(
        zh="{file}：有{count}行无法登记，因此全部未登记：{problems}",
        en="{file}: {count} rows cannot be recorded, so none were: {problems}"),
    # --- finding patches (services/patches.py) -----------------------------------------------
    "patch.not_found": Entry(zh="没有图斑“{ref}”", en="no patch {ref!r}", hints=_PATCHES_LIST),
    "patch.no_current": Entry(zh="没有现行图斑“{ref}”", en="no current patch {ref!r}", hints=_PATCHES_LIST),
    "patch.ambiguous": Entry(
        zh="图斑编号{code}在多个批次中都有（{batches}）", en="patch code {code!r} is in several batches ({batches})",
        hints={"cli": ("请写成 批次/{code}", "name it as BATCH/{code}"),
               "web": ("请写成 批次/{code}", "name it as BATCH/{code}"),
               "api": ("请写成 批次/{code}", "name it as BATCH/{code}")}),
    "patch.bad_status": Entry(zh="状态“{status}”无效，应为：{choices}", en="--status {status!r} is not one of {choices}"),
    "patch.no_villages": Entry(
        zh="尚未导入村界", en="no village boundaries are loaded",
        hints={"cli": ("请先导入（geo-tracker boundaries import FILE --level village）",
                       "import them first (geo-tracker boundaries import FILE --level village)"),
               "web": ("请先导入村界", "import the village boundaries first"),
               "api": ("请先导入村界（POST /api/v1/boundaries）", "import them first (POST /api/v1/boundaries)")}),
    "patch.no_batch": Entry(zh="没有名为“{batch}”的批次", en="no batch named {batch!r}", hints={
        "cli": ("用 `geo-tracker batches list` 查看批次", "`geo-tracker batches list` shows the batches"),
        "web": ("请在批次列表中查找", "look it up in the batch list"),
        "api": ("GET /api/v1/batches 列出批次", "GET /api/v1/batches lists the batches")}),
    "export.bad_format": Entry(zh="不能导出为{file}：可用格式为{formats}",
                               en="cannot export to {file}: use {formats}"),
}
