"""Messages of patrols (巡查): tracks, villages covered and findings. key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "patrols.unreadable_track": Entry(zh="{file}无法作为巡查轨迹读取：{error}", en="{file} cannot be read as a track: {error}"),
    "patrols.no_track": Entry(zh="{file}中没有轨迹（没有线要素）", en="{file} holds no track (no line geometry)",
                              hints={"any": ("请把巡查导出为GPX轨迹", "export the patrol as a GPX track")}),
    "patrols.unknown_villages": Entry(
        zh="行政村代码{villages}在{on}不存在", en="--villages {villages}: no such village on {on}",
        hints={"cli": ("用 `geo-tracker boundaries list --level village` 查看", "`geo-tracker boundaries list --level village` shows the villages")}),
    "patrols.geometry_or_point": Entry(zh="请给出发现问题的范围文件或位置（经度,纬度）中的一项",
                                       en="give either --geometry FILE or --point LON,LAT"),
    "patrols.need_category": Entry(zh="请填写问题类别（如 违法占地、乱搭乱建）",
                                   en="--category is required (e.g. 违法占地, 乱搭乱建)"),
    "patrols.radius_not_positive": Entry(zh="半径必须大于0米，现为{radius}", en="--radius-m must be positive, got {radius}"),
    "patrols.bad_geometry": Entry(zh="发现问题的范围{problem}", en="the finding's geometry {problem}"),
    "patrols.not_found": Entry(zh="没有编号为{id}的巡查", en="no patrol {id}", hints={
        "cli": ("用 `geo-tracker patrols list` 查看巡查", "`geo-tracker patrols list` shows them"),
        "web": ("请在巡查列表中查找", "look it up in the patrol list")}),
    "patrols.unknown": Entry(zh="没有编号为{id}的巡查", en="no patrol {id}"),
    "patrols.crs_recorded": Entry(zh="巡查时记录（CGCS2000经纬度）", en="recorded on patrol"),
    "patrols.end_before_start": Entry(zh="截止日期{end}早于起始日期{start}", en="--to {end} is before --from {start}"),
}
