"""Messages of backups, verification and restores (台账备份与恢复): key -> Entry."""

from . import Entry

_ADMIN = ("请联系系统管理员", "ask the system administrator")
_BACK_UP_NOW = ("请点“立即备份并下载”，并把文件存到另一台电脑上", "press “Back up now” and keep the file on another computer")

MESSAGES: dict[str, Entry] = {
    "backups.output_is_folder": Entry(
        zh="“{path}”是文件夹，不能作为备份文件", en="{path} is a folder, not a backup file",
        hints={"cli": ("请给出文件名（-o 备份.zip），或用 --to-dir 写入带日期的文件",
                       "name a file (-o backup.zip), or use --to-dir for a dated file")}),
    "backups.no_file": Entry(zh="找不到备份文件“{path}”", en="no backup file {path}"),
    "backups.not_an_archive": Entry(
        zh="备份文件“{path}”不完整或已损坏（{reason}）", en="backup {path} is truncated or damaged ({reason})",
        hints={"any": ("可能在复制或下载时被截断；请换用另一份备份", "it may have been cut short when copied or "
                       "downloaded; use another backup")}),
    "backups.no_manifest": Entry(
        zh="备份文件“{path}”缺少清单manifest.json，不是完整的geo_tracker备份",
        en="backup {path} has no manifest.json: not a complete geo_tracker backup"),
    "backups.manifest_unreadable": Entry(
        zh="备份文件“{path}”的清单无法读取（{reason}）", en="the manifest of backup {path} cannot be read ({reason})"),
    "backups.not_ours": Entry(
        zh="“{path}”不是本系统能读的备份（格式：{format}）",
        en="{path} is not a backup this geo_tracker can read (format: {format})",
        hints={"any": ("较新版本生成的备份请用较新版本恢复", "restore a newer version's backup with that version")}),
    "backups.member_missing": Entry(zh="缺少文件{member}", en="{member} is missing"),
    "backups.member_unreadable": Entry(zh="文件{member}无法读出（{reason}）", en="{member} cannot be read ({reason})"),
    "backups.member_altered": Entry(
        zh="文件{member}已被改动（校验和应为{expected}…，实为{found}…）",
        en="{member} was altered (SHA-256 {found}… where the manifest says {expected}…)"),
    "backups.member_unlisted": Entry(zh="清单之外多出文件{member}", en="{member} is not in the manifest"),
    "backups.damaged": Entry(
        zh="备份文件“{path}”有{count}处问题：{problems}", en="backup {path} has {count} problem(s): {problems}",
        hints={"any": ("这份备份不能用于恢复；请换用另一份备份", "do not restore from it; use another backup")}),
    "backups.content_differs": Entry(
        zh="备份“{path}”中的数据库与清单有{count}处不符：{differences}",
        en="the database in backup {path} differs from its manifest in {count} place(s): {differences}",
        hints={"any": ("这份备份不能用于恢复；请换用另一份备份", "do not restore from it; use another backup")}),
    "backups.restore_kind": Entry(
        zh="备份“{path}”是PostGIS数据库的备份，不能直接恢复到SpatiaLite文件“{url}”",
        en="backup {path} holds a PostGIS dump, which cannot be restored into the SpatiaLite file {url}",
        hints={"cli": ("请先恢复到PostgreSQL数据库，再用 `geo-tracker move --to sqlite:///文件` 迁出",
                       "restore it into PostgreSQL, then `geo-tracker move --to sqlite:///FILE`"), "web": _ADMIN}),
    "backups.target_not_empty": Entry(
        zh="目标数据库“{url}”已有数据，恢复只能写入空数据库",
        en="the target database {url} already holds data; a restore goes into an empty database only",
        hints={"cli": ("如确要替换，请加 --replace（会先备份被替换的数据）",
                       "add --replace to replace it (what it holds is backed up first)"), "web": _ADMIN}),
    "backups.target_not_ours": Entry(
        zh="目标数据库“{url}”里有不属于本系统的表（{tables}），恢复不会清除它们",
        en="the target database {url} holds tables that are not geo_tracker's ({tables}); a restore never clears them",
        hints={"any": ("请换一个空数据库或新文件", "use an empty database or a new file")}),
    "backups.dump_unloadable": Entry(
        zh="备份中的数据库{member}无法载入：{reason}", en="the database {member} in the backup cannot be loaded: {reason}",
        hints={"any": ("这份备份不能用于恢复；请换用另一份备份", "do not restore from it; use another backup")}),
    "backups.pg_tool_missing": Entry(
        zh="找不到PostgreSQL工具{tool}", en="the PostgreSQL tool {tool} was not found",
        hints={"cli": ("请安装：apt-get install postgresql-client", "install it: apt-get install postgresql-client"),
               "web": _ADMIN}),
    "backups.pg_tool_failed": Entry(
        zh="{tool}未能完成（{where}）：{reason}", en="{tool} failed ({where}): {reason}", hints={"web": _ADMIN}),
    "backups.last_too_old": Entry(
        zh="最近一次备份在{days}天前（{when}），已超过两天", en="the last backup was {days} days ago ({when}), over two days",
        hints={"cli": ("请运行 `geo-tracker backup --to-dir 文件夹`，或在设置的[backup]中安排定时备份",
                       "run `geo-tracker backup --to-dir FOLDER`, or schedule one in the settings' [backup]"),
               "web": _BACK_UP_NOW}),
    "backups.never": Entry(
        zh="本数据库还没有备份过", en="this database has never been backed up",
        hints={"cli": ("请运行 `geo-tracker backup --to-dir 文件夹`", "run `geo-tracker backup --to-dir FOLDER`"),
               "web": _BACK_UP_NOW}),
}
