"""Every word the web pages show, in one catalogue: Simplified Chinese, and English when asked (?lang=en).

Templates call ``_("key")``; a key missing from English falls back to Chinese, a
key missing everywhere shows itself, so a typo is visible, never silent. Domain
labels (statuses, measures, sources) stay in their one place in core/ and services/.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "app": "图斑整改跟踪", "skip": "跳到正文", "nav.dashboard": "总览", "nav.map": "地图",
        "nav.patches": "图斑", "nav.import": "批次导入", "nav.cases": "案件", "nav.reports": "报表",
        "nav.account": "账户", "nav.logout": "退出", "lang.other": "English",
        "login.title": "登录", "login.username": "用户名", "login.password": "密码", "login.submit": "登录",
        "login.failed": "用户名或密码不对，或账户已停用。",
        "account.title": "账户", "account.role": "角色", "account.units": "管辖范围", "account.all": "全部",
        "account.old": "原密码", "account.new": "新密码（至少8位）", "account.change": "修改密码",
        "account.changed": "密码已修改，请重新登录。",
        "role.viewer": "查看者", "role.enforcer": "执法队员", "role.liaison": "联络员", "role.admin": "管理员",
        "filter.as_of": "截至日期", "filter.apply": "查询", "filter.year": "年度", "filter.source": "来源",
        "filter.batch": "批次", "filter.status": "状态", "filter.village": "村", "filter.all": "全部",
        "dash.title": "总览", "dash.source": "来源", "dash.patches": "图斑数", "dash.area": "面积（亩）",
        "dash.cultivated": "耕地（亩）", "dash.verified": "已核查", "dash.illegal": "违法",
        "dash.case_filed": "已立案", "dash.rectified": "已整改面积（亩）", "dash.rate": "整改率（面积）",
        "dash.overdue": "逾期", "dash.total": "合计", "dash.villages": "分村情况", "dash.village": "村",
        "dash.charts": "图表", "dash.chart_cumulative": "累计整改面积", "dash.chart_villages": "分村图斑与整改面积",
        "dash.outside": "（村界外）", "dash.sort": "点击表头排序",
        "map.title": "地图", "map.open": "打开图斑页面", "map.frame": "图斑整改进度地图",
        "map.tiles": "图斑较多，地图按矢量瓦片显示当前状态。",
        "list.title": "图斑列表", "list.code": "图斑编号", "list.batch": "批次", "list.village": "村",
        "list.area": "面积（亩）", "list.status": "状态", "list.rectified": "已整改（亩）", "list.deadline": "整改期限",
        "list.count": "共 {n} 个图斑", "list.prev": "上一页", "list.next": "下一页", "list.page": "第 {page}/{pages} 页",
        "list.none": "没有符合条件的图斑。", "list.overdue": "逾期",
        "patch.title": "图斑 {code}", "patch.areas": "面积", "patch.area": "图斑面积", "patch.issued_area": "下发面积",
        "patch.cultivated": "耕地面积", "patch.forest": "林地面积", "patch.rectified": "已整改面积",
        "patch.rectified_cultivated": "其中耕地", "patch.villages": "所在村及占比", "patch.status": "状态",
        "patch.timeline": "经过", "patch.cases": "案件", "patch.relapse": "死灰复燃（与以下已整改图斑重叠）",
        "patch.attrs": "下发属性", "patch.history": "版本", "patch.evidence": "举证材料",
        "patch.issued_on": "下发日期", "patch.deadline": "整改期限", "patch.map": "图斑位置",
        "patch.none": "无", "patch.voided": "已作废", "patch.by": "记录人",
        "act.verify": "核查", "act.rectify": "整改登记", "act.close": "销号", "act.on": "日期",
        "act.result": "核查结论", "act.note": "说明", "act.cadre": "核查人",
        "act.measure": "整改措施", "act.area": "本次整改面积（亩）", "act.full": "全部整改完毕",
        "act.geometry": "或上传整改范围（GeoJSON、KML、Shapefile压缩包）", "act.photos": "现场照片或文件（可拍照）",
        "act.cultivated": "其中耕地（亩）", "act.submit": "提交", "act.done": "已记录。",
        "act.failed": "未能记录：", "result.legal": "合法", "result.no_change": "伪变化", "result.illegal": "违法",
        "import.title": "批次导入", "import.file": "上级下发的文件（zip、gpkg、shp一套、kml、坐标txt）",
        "import.source": "来源", "import.batch": "批次名称", "import.issued_on": "下发日期",
        "import.deadline": "整改期限", "import.check": "检查（不导入）", "import.diff": "与已有数据对比",
        "import.unchanged": "未变", "import.changed": "有变化", "import.withdrawn": "撤回", "import.new": "新增",
        "import.problems": "问题", "import.feature": "要素", "import.field": "字段", "import.message": "说明",
        "import.confirm": "确认导入", "import.again": "重新选择文件", "import.report": "导入结果",
        "import.accepted": "导入图斑", "import.read": "读取要素", "import.area": "面积（亩）", "import.crs": "坐标系",
        "import.encoding": "编码", "import.expired": "检查结果已过期，请重新上传。",
        "import.warnings": "提示",
        "cases.title": "案件", "cases.no": "案件编号", "cases.opened": "立案日期", "cases.patches": "图斑",
        "cases.status": "状态", "cases.violation": "违法类型", "cases.open": "立案", "cases.link": "关联图斑",
        "cases.decide": "处罚决定", "cases.close": "结案", "cases.fine": "罚款（元）", "cases.none": "没有案件。",
        "cases.category": "类别", "cases.outcome": "处理结果", "cases.refs": "图斑编号（每行一个，可写 批次/编号）",
        "case.open": "办理中", "case.decided": "已决定", "case.closed": "已结案",
        "reports.title": "报表", "reports.report": "年度报告", "reports.exports": "图斑导出",
        "reports.docx": "Word 报告（.docx）", "reports.html": "网页报告（.html）", "reports.md": "文本报告（.md）",
        "reports.gpkg": "GeoPackage", "reports.shp": "Shapefile（zip，GBK）", "reports.geojson": "GeoJSON",
        "reports.xlsx": "Excel 表格", "reports.download": "下载",
        "error.title": "出错了", "error.back": "返回",
        "forbidden": "你的角色不能做这件事。",
        "event.verified": "核查", "event.rectified": "整改", "event.closed": "销号", "event.case_linked": "立案关联",
        "event.withdrawn": "撤回", "event.void": "作废", "event.finding_recorded": "巡查发现", "event.deadline_set": "调整整改期限",
        "event.reissued": "重新下发",
    },
    "en": {
        "app": "Patch tracking", "skip": "Skip to content", "nav.dashboard": "Dashboard", "nav.map": "Map",
        "nav.patches": "Patches", "nav.import": "Import", "nav.cases": "Cases", "nav.reports": "Reports",
        "nav.account": "Account", "nav.logout": "Log out", "lang.other": "中文",
        "login.title": "Log in", "login.username": "User name", "login.password": "Password", "login.submit": "Log in",
        "login.failed": "Wrong user name or password, or the account is disabled.",
        "dash.title": "Dashboard", "list.title": "Patches", "map.title": "Map", "cases.title": "Cases",
        "reports.title": "Reports", "import.title": "Import a batch", "account.title": "Account",
        "filter.apply": "Show", "filter.as_of": "As of", "act.submit": "Submit",
    },
}


def translator(lang: str):
    """``_(key, **values)`` for one language."""
    table = MESSAGES.get(lang, MESSAGES["zh"])

    def _(key: str, **values) -> str:
        text = table.get(key) or MESSAGES["zh"].get(key) or key
        return text.format(**values) if values else text
    return _
