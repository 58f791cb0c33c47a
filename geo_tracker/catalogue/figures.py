"""Messages of figures (statistics, reports, charts): key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "stats.bad_year": Entry(zh="年度{value}不是图斑可能下发的年份（{first}—{last}）",
                            en="--year {value} is not a year a patch can be issued in ({first}-{last})"),
    "stats.late_as_of": Entry(zh="统计日期{value}晚于{last}年", en="--as-of {value} is after {last}",
                              hints={"any": ("请填写真实日期", "give a real date")}),
    "stats.bad_by": Entry(zh="分组方式“{name}”无效，应为：{choices}", en="--by {name!r} is not one of {choices}"),
    "stats.bad_approved": Entry(zh="新增建设用地占用耕地面积必须大于0",
                                en="--approved-cultivated-mu must be positive"),
    "stats.bad_subject": Entry(zh="统计对象“{subject}”无效，应为：{choices}",
                               en="--subject {subject!r} is not one of {choices}"),
    "report.no_template": Entry(zh="模板{path}不存在", en="template {path} does not exist",
                                hints={"any": ("可从{folder}复制一份再修改", "copy one from {folder} to start")}),
    "report.bad_template": Entry(zh="模板{name}有误：{error}", en="template {name}: {error}"),
    "report.no_cjk_font": Entry(
        zh="未安装中文字体，图表中的汉字会显示为方框",
        en="no CJK font is installed, so charts would show boxes instead of Chinese",
        hints={"cli": ("请安装 {package}（apt-get install {package}）", "install {package} (apt-get install {package})"),
               "web": ("请联系管理员在服务器上安装中文字体 {package}", "ask the administrator to install the CJK "
                       "font {package} on the server"),
               "api": ("请在服务器上安装 {package}", "install {package} on the server")}),
}
