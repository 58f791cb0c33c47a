"""Messages shared by several areas (files, dates, numbers). key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "common.no_file": Entry(zh="文件{path}不存在", en="{path} does not exist",
                            hints={"any": ("请检查路径", "check the path")}),
    "common.not_a_date": Entry(zh="日期“{value}”格式不对（应为 年-月-日，如 2023-07-05）",
                               en="date {value!r} is not a date (YYYY-MM-DD)"),
    "common.not_a_number": Entry(zh="{field}的值“{value}”不是数字", en="{field} {value!r} is not a number"),
    "common.not_finite": Entry(zh="{field}的值“{value}”不是有限的数", en="{field} {value!r} is not a finite number"),
    "common.not_one_of": Entry(zh="{what}“{value}”无效，应为：{choices}", en="{what} {value!r} is not one of {choices}"),
}

