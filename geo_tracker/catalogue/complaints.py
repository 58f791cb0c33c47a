"""Messages of complaints (投诉举报): channels, deadlines, responding and closing.
key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "complaints.bad_channel": Entry(zh="受理渠道“{channel}”无效，应为：{choices}",
                                    en="--channel {channel!r} is not one of {choices}"),
    "complaints.need_text": Entry(zh="请填写类别和内容", en="--category and --content are required"),
    "complaints.bad_deadlines": Entry(zh="期限不对：答复期限不能少于0天，办结期限不能早于答复期限",
                                      en="deadlines: respond within 0 or more days, complete no sooner than respond"),
    "complaints.no_village": Entry(zh="行政村代码{village}不存在", en="--village {village}: no such village"),
    "complaints.not_found": Entry(zh="没有编号为{id}的投诉", en="no complaint {id}", hints={
        "cli": ("用 `geo-tracker complaints list` 查看投诉", "`geo-tracker complaints list` shows them"),
        "web": ("请在投诉列表中查找", "look it up in the complaint list")}),
    "complaints.already_responded": Entry(zh="投诉{id}已于{on}答复", en="complaint {id} was already responded to on {on}"),
    "complaints.before_received": Entry(zh="{on}早于投诉{id}的受理日期（{received}）",
                                        en="{on} is before complaint {id} was received ({received})"),
    "complaints.need_result": Entry(zh="请写明办理结果", en="--result is required: say how it was settled"),
    "complaints.already_closed": Entry(zh="投诉{id}已办结（{on}）", en="complaint {id} is already closed ({on})"),
}
