"""Messages of accounts: roles, logins, sessions, tokens, CSRF and the user's units.
key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "accounts.role_refused": Entry(
        zh="用户{username}（{role}）无权{action}（需要{roles}角色）",
        en="user {username} ({role}) may not {action}: that needs the role {roles}",
        hints={"any": ("请联系管理员", "ask an admin")}),
    "accounts.role.viewer": Entry(zh="查看者", en="viewer"),
    "accounts.role.enforcer": Entry(zh="执法队员", en="enforcer"),
    "accounts.role.liaison": Entry(zh="联络员", en="liaison"),
    "accounts.role.admin": Entry(zh="管理员", en="admin"),
    "accounts.role.reviewer": Entry(zh="审核员", en="reviewer"),
    "accounts.roles_or": Entry(zh="{first}或{rest}", en="{first}, {rest}"),
    "accounts.action.read": Entry(zh="查看", en="read"),
    "accounts.action.track": Entry(zh="核查、整改登记、销号和办理案件", en="track"),
    "accounts.action.import": Entry(zh="导入批次和行政区划", en="import"),
    "accounts.action.admin": Entry(zh="管理用户和设置", en="admin"),
    "accounts.action.review": Entry(zh="审核申请销号的图斑", en="review"),
    "accounts.partial_admin": Entry(
        zh="用户{username}只管理部分单位：用户须由管辖全部单位（*）的管理员管理",
        en="user {username} administers some units only: users are managed by an admin of all units (*)"),
    "accounts.no_units": Entry(
        zh="请为用户至少指定一个行政区划代码，或用 * 表示全部", en="give the user at least one admin unit code, or * for all",
        hints={"cli": ("用 --unit 指定", "with --unit")}),
    "accounts.unknown_units": Entry(
        zh="行政区划代码{units}不存在：请先导入行政区划，或用 * 表示全部",
        en="unknown admin unit code(s) {units}: import the boundaries first, or use * for all",
        hints={"cli": ("用 `geo-tracker boundaries list` 查看已有代码", "`geo-tracker boundaries list` shows the codes")}),
    "accounts.short_password": Entry(zh="密码至少要有{length}个字符",
                                     en="the password must have at least {length} characters"),
    "accounts.bad_username": Entry(
        zh="用户名“{username}”不可用：请用2至64个字母、数字、汉字或 . _ - @",
        en="user name {username!r}: use 2-64 letters, digits, Chinese characters or . _ - @"),
    "accounts.bad_role": Entry(zh="角色“{role}”无效，应为：{choices}", en="role {role!r} is not one of {choices}"),
    "accounts.user_exists": Entry(zh="用户“{username}”已存在", en="user {username!r} exists already"),
    "accounts.no_user": Entry(zh="没有用户“{username}”", en="no user {username!r}", hints={
        "cli": ("用 `geo-tracker users list` 查看用户", "`geo-tracker users list` shows the users"),
        "web": ("请在用户列表中查找", "look it up in the user list"),
        "api": ("GET /api/v1/users 列出用户", "GET /api/v1/users lists the users")}),
    "accounts.wrong_login": Entry(zh="用户名或密码不对，或账户已停用",
                                  en="wrong user name or password, or the account is disabled"),
    "accounts.bad_token": Entry(
        zh="API令牌无效、已撤销或已过期", en="the API token is unknown, revoked or expired",
        hints={"cli": ("用 `geo-tracker tokens create` 新建令牌", "create one with `geo-tracker tokens create`"),
               "web": ("请在账户页面新建令牌", "create one on the account page"),
               "api": ("请新建令牌", "create a new one")}),
    "accounts.session_ended": Entry(zh="登录已过期", en="the session has ended",
                                    hints={"any": ("请重新登录", "log in again")}),
    "accounts.too_many_attempts": Entry(zh="登录失败次数过多：请{wait}秒后再试",
                                        en="too many failed logins: wait {wait} s before trying again"),
    "accounts.not_logged_in": Entry(
        zh="请先登录", en="log in first",
        hints={"cli": ("用 POST /api/v1/login 登录，或发送“Authorization: Bearer <令牌>”头（`geo-tracker tokens create`）",
                       "POST /api/v1/login, or send 'Authorization: Bearer <token>' (`geo-tracker tokens create`)"),
               "api": ("用 POST /api/v1/login 登录，或发送“Authorization: Bearer <令牌>”头",
                       "POST /api/v1/login, or send 'Authorization: Bearer <token>'"),
               "web": ("请在登录页登录", "on the login page")}),
    "accounts.csrf": Entry(
        zh="表单的校验码（CSRF）缺失或不对", en="the form's CSRF token is missing or wrong",
        hints={"any": ("请刷新页面后重新提交", "reload the page and send it again"),
               "api": ("请在 X-CSRF-Token 头中发送会话的校验码", "send the session's token in X-CSRF-Token")}),
    "accounts.bad_basic": Entry(zh="Basic 认证信息不是“用户名:密码”的base64编码",
                                en="the Basic credentials are not base64 of user:password"),
    "accounts.token_of_other": Entry(zh="该API令牌属于另一用户", en="the API token belongs to another user"),
    "accounts.bad_authorization": Entry(
        zh="Authorization 头应为“Bearer <令牌>”或“Basic <用户名:密码>”",
        en="the Authorization header must be 'Bearer <token>' or 'Basic <user:password>'"),
    "accounts.cross_site_login": Entry(zh="拒绝来自其他网站页面的登录", en="a login from another site's page is refused"),
    "accounts.case_needs_patch": Entry(zh="请为案件至少关联一个本单位的图斑",
                                       en="link at least one of your patches to the case"),
    "accounts.no_event": Entry(zh="没有编号为{event}的记录", en="no event {event}"),
}
