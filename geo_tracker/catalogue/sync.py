"""Messages of the field kit's work packages and of syncing offline actions."""

from . import Entry

MESSAGES = {
    "sync.bad_version": Entry(
        zh="工作包版本“{version}”无效", en="work package version {version!r} is not valid",
        hints={"any": ("请重新下载工作包", "download the work package again")}),
    "sync.bad_key": Entry(
        zh="离线记录的编号“{record}”无效（应为8至64位字母、数字、-或_）",
        en="offline record key {record!r} is not valid (8 to 64 letters, digits, - or _)"),
    "sync.bad_kind": Entry(
        zh="离线记录的类型“{kind}”无效，应为：{choices}", en="offline record kind {kind!r} is not one of {choices}"),
    "sync.missing": Entry(
        zh="离线记录{record}缺少“{name}”", en="offline record {record} has no {name!r}"),
    "sync.not_whole": Entry(zh="“{name}”应为整数，现为“{value}”", en="{name!r} must be a whole number, not {value!r}"),
    "sync.bad_day": Entry(zh="日期“{value}”无效（应为YYYY-MM-DD）", en="date {value!r} is not valid (YYYY-MM-DD)"),
    "sync.bad_photos": Entry(zh="离线记录{record}的照片清单无效", en="the photos of offline record {record} are not a list"),
    "sync.not_number": Entry(zh="“{value}”不是数字", en="{value!r} is not a number"),
    "sync.may_not": Entry(
        zh="当前账号不能在外业中登记“{action}”", en="this account may not record {action!r} in the field"),
}
