"""Messages of boundaries (importing county, township and village boundaries): key -> Entry.

The English text is what the CLI showed before the catalogue, word for word; levels are
messages of their own so that a Chinese text says 乡镇, not "township".
"""

from . import Entry

LEVELS: dict[str, Entry] = {
    "boundaries.level.county": Entry(zh="区县", en="county"),
    "boundaries.level.township": Entry(zh="乡镇", en="township"),
    "boundaries.level.village": Entry(zh="行政村", en="village"),
    "boundaries.no_parent": Entry(zh="（无）", en="(none)"),
}

OPTIONS: dict[str, Entry] = {
    "boundaries.level_unknown": Entry(
        zh="行政区级别“{level}”不在可选范围内（{known}）", en="--level {level!r} is not one of {known}"),
    "boundaries.county_has_no_parent": Entry(
        zh="区县没有上级行政区，不能指定上级代码", en="--parent-code: a county has no parent in geo_tracker"),
    "boundaries.parent_code_invalid": Entry(
        zh="上级代码“{code}”不是{digits}位的{level}代码", en="--parent-code {code!r} is not a {digits}-digit {level} code"),
    "boundaries.parent_options_exclusive": Entry(
        zh="上级代码字段和上级代码只能指定其中一个", en="give --parent-field or --parent-code, not both"),
}

IMPORT: dict[str, Entry] = {
    "boundaries.code_field_unknown": Entry(
        zh="{dataset}：无法判断哪个字段是{level}代码",
        en="{dataset}: cannot tell which field holds the {level} code",
        hints={"cli": ("请用 --code-field 和 --name-field 指定（现有字段：{fields}）", "give --code-field and --name-field (its fields are: {fields})"),
               "web": ("请县局注明哪个字段是代码（现有字段：{fields}）",
                       "ask the bureau which field holds the code (its fields are: {fields})")}),
    "boundaries.name_field_unknown": Entry(
        zh="{dataset}：无法判断哪个字段是{level}名称",
        en="{dataset}: cannot tell which field holds the {level} name",
        hints={"cli": ("请用 --code-field 和 --name-field 指定（现有字段：{fields}）", "give --code-field and --name-field (its fields are: {fields})"),
               "web": ("请县局注明哪个字段是名称（现有字段：{fields}）",
                       "ask the bureau which field holds the name (its fields are: {fields})")}),
    "boundaries.problem_empty_name": Entry(zh="名称为空", en="empty name"),
    "boundaries.problem_bad_code": Entry(zh="{raw}不是{digits}位的{level}代码", en="{raw} is not a {digits}-digit {level} code"),
    "boundaries.problem_code_repeats": Entry(
        zh="代码{code}与第{first}个要素重复", en="code {code} repeats feature {first}"),
    "boundaries.problems": Entry(
        zh="{dataset}：发现{count}处问题，未导入任何界线：{shown}",
        en="{dataset}: {count} problems, nothing imported: {shown}"),
    "boundaries.parents_missing": Entry(
        zh="{dataset}：上级{level}{codes}尚未导入",
        en="{dataset}: parent {level}(s) {codes} are not loaded",
        hints={"cli": ("请先导入{level}界线（geo-tracker boundaries import ... --level {option}）",
                       "import the {level} boundaries first (geo-tracker boundaries import ... --level {option})"),
               "web": ("请先导入{level}界线", "import the {level} boundaries first")}),
    "boundaries.parents_missing_from_codes": Entry(
        zh="上级{level}{codes}（由代码推得）尚未导入", en="parent {level}(s) {codes} (from the codes) are not loaded"),
    "boundaries.valid_from_too_early": Entry(
        zh="不能自{valid_from}起替换{level}界线：{codes}自{since}起生效",
        en="cannot replace {level} boundaries from {valid_from}: {codes} are valid from {since}",
        hints={"cli": ("请用 --valid-from 给出更晚的日期", "give a later --valid-from"),
               "web": ("请选择更晚的生效日期", "choose a later date")}),
    "boundaries.problem_parent_outside": Entry(
        zh="{level}{code}：其上级{parent}不在您的辖区内", en="{level} {code}: its parent {parent} is not one of your units"),
    "boundaries.problem_code_held": Entry(
        zh="{level}{code}属于{holder}，不在您的辖区内", en="{level} {code} belongs to {holder}, outside your units"),
    "boundaries.units_outside": Entry(
        zh="{dataset}：有{count}个行政区不在您的辖区内，未导入任何界线：{shown}。其他乡镇的界线须由县级账号导入",
        en="{dataset}: {count} units lie outside your units, nothing imported: {shown}. "
           "Boundaries of other townships are imported by a county account"),
}

MESSAGES: dict[str, Entry] = {**LEVELS, **OPTIONS, **IMPORT}
