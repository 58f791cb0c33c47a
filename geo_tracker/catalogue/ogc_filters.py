"""Messages of CQL2 filters and sortby (store/cql2.py, OGC API Features Part 3).
key -> Entry (zh, en, hints by interface)."""

from . import Entry

#: The hint every filter message shares: where the grammar and the queryables are described.
_SEE = {"any": ("可查询的属性见 /ogc/collections/patches/queryables，语法见 OGC CQL2",
                "the queryables are listed at /ogc/collections/patches/queryables, the grammar is OGC CQL2")}

MESSAGES: dict[str, Entry] = {
    # --- what the filter is written in ----------------------------------------------------
    "filter.bad_lang": Entry(zh="filter-lang 参数“{lang}”无效，应为：{choices}",
                             en="filter-lang {lang!r} is not one of {choices}"),
    "filter.bad_crs": Entry(zh="filter-crs 参数“{crs}”无效：请用 {crs84} 或 {cgcs2000}",
                            en="filter-crs {crs!r} is not offered: use {crs84} or {cgcs2000}"),
    # --- parse errors, with their place ---------------------------------------------------
    "filter.syntax": Entry(zh="filter 参数第{line}行第{column}列（{near}）不符合CQL2语法",
                           en="filter: CQL2 syntax error at line {line}, column {column} ({near})", hints=_SEE),
    "filter.near_text": Entry(zh="“{text}”处", en="at {text!r}"),
    "filter.near_end": Entry(zh="条件在此处意外结束", en="the filter ends too early"),
    "filter.bad_literal": Entry(zh="filter 参数第{line}行第{column}列的值“{text}”无效",
                                en="filter: the value {text!r} at line {line}, column {column} is not valid"),
    "filter.json_syntax": Entry(zh="filter 参数不是有效的JSON：第{line}行第{column}列（第{pos}个字符）有误",
                                en="filter is not valid JSON: error at line {line}, column {column} (character {pos})"),
    "filter.json_node": Entry(zh="filter 参数中的“{node}”不是有效的CQL2 JSON",
                              en="filter: {node} is not valid CQL2 JSON", hints=_SEE),
    "filter.too_deep": Entry(zh="filter 参数嵌套的层数太多", en="filter: nested too deeply"),
    # --- what the filter says -------------------------------------------------------------
    "filter.unknown_property": Entry(zh="filter 参数中的属性“{property}”不可查询，可查询的属性为：{choices}",
                                     en="filter: {property!r} is not a queryable; the queryables are {choices}"),
    "filter.type_mismatch": Entry(zh="filter 参数中{operator}的“{property}”是{type}，不能与{value}比较",
                                  en="filter: {property} is {type} and cannot be compared with {value} in {operator}"),
    "filter.needs_property": Entry(zh="filter 参数中{operator}至少要有一边是可查询的属性",
                                   en="filter: {operator} needs a queryable on one side"),
    "filter.unsupported": Entry(zh="filter 参数中的{operator}暂不支持；支持的有：{supported}",
                                en="filter: {operator} is not supported; supported are {supported}", hints=_SEE),
    "filter.bad_srid": Entry(zh="filter 参数中的{srid}不提供：请用 SRID=4490 或 SRID=4326（经度在前），或不写",
                             en="filter: {srid} is not offered: use SRID=4490 or SRID=4326 (longitude first), or none"),
    "filter.bad_geometry": Entry(zh="filter 参数中的几何图形无效：{reason}",
                                 en="filter: the geometry is not valid: {reason}"),
    "filter.out_of_range": Entry(
        zh="filter 参数中的坐标（{x}，{y}）不是经纬度：filter-crs 为 EPSG:4490 时按 纬度 经度 的顺序，否则按 经度 纬度",
        en="filter: coordinates ({x}, {y}) are not longitude and latitude: with filter-crs EPSG:4490 "
           "write latitude first, else longitude first"),
    "filter.state_in_past": Entry(
        zh="按过去的日期查询时不能按“{property}”筛选：它是图斑当前的状态",
        en="filter: {property} is the current state of a patch and cannot be filtered when asking about a past date"),
    "filter.type_number": Entry(zh="数值", en="a number"),
    "filter.type_integer": Entry(zh="整数", en="an integer"),
    "filter.type_string": Entry(zh="文本", en="text"),
    "filter.type_date": Entry(zh="日期", en="a date"),
    "filter.type_boolean": Entry(zh="是非值（true 或 false）", en="a boolean (true or false)"),
    "filter.type_geometry": Entry(zh="几何图形", en="a geometry"),
    # --- sortby ---------------------------------------------------------------------------
    "sortby.unknown": Entry(zh="sortby 参数中的属性“{property}”不能排序，可排序的属性为：{choices}",
                            en="sortby: {property!r} cannot be sorted on; the sortable properties are {choices}"),
}
