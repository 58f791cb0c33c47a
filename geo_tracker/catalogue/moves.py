"""Messages of moving a ledger into another database (台账迁移, ``geo-tracker move``): key -> Entry."""

from . import Entry

_ADMIN = ("请联系系统管理员", "ask the system administrator")

MESSAGES: dict[str, Entry] = {
    "moves.source_outdated": Entry(
        zh="要迁移的数据库{where}的结构版本为{current}，迁移需要{head}",
        en="the database to move, {where}, is at schema {current}; a move needs {head}",
        hints={"cli": ("请先运行 `geo-tracker --db {where} init` 升级（数据不会丢失），再迁移",
                       "run `geo-tracker --db {where} init` first (nothing is lost), then move again"),
               "web": _ADMIN}),
    "moves.target_outdated": Entry(
        zh="目标数据库{target}的结构版本为{current}且已有数据，未作任何改动",
        en="the target {target} is at schema {current} and already holds data; nothing was changed",
        hints={"cli": ("迁移只写入空数据库或已有本台账的数据库：请改用空数据库；如要查看它是哪本台账，先运行 "
                       "`geo-tracker --db {target} init` 升级到{head}",
                       "a move goes only into an empty database or one holding this same ledger: choose an empty "
                       "one, or run `geo-tracker --db {target} init` to upgrade it to {head} and see which ledger "
                       "it holds"),
               "web": _ADMIN}),
    "moves.other_ledger": Entry(
        zh="目标数据库{target}已有另一本台账（编号{found}），而{source}的台账编号为{ledger}，未作任何改动",
        en="the target {target} already holds another ledger ({found}), not the one in {source} ({ledger}); "
           "nothing was changed",
        hints={"cli": ("请迁移到空数据库；如那本台账只是试用副本，请先由管理员删除该数据库（其中数据会丢失）",
                       "move into an empty database; if that ledger is only a trial copy, have its database "
                       "dropped first (what it holds is lost)"),
               "web": _ADMIN}),
    "moves.target_diverged": Entry(
        zh="目标数据库{target}已有本台账（编号{ledger}），但与{source}不一致：{differences}；未作任何改动",
        en="the target {target} holds this ledger ({ledger}) but differs from {source}: {differences}; "
           "nothing was changed",
        hints={"any": ("上次迁移后两边都有人录入；请确定以哪一边为准，只在那一边继续工作",
                       "both were written to since the earlier move: decide which one is the ledger and keep "
                       "working in that one only")}),
    "moves.copy_differs": Entry(
        zh="迁移到{target}的副本与{source}不一致（{differences}），已全部撤销，目标数据库未作任何改动",
        en="the copy in {target} differs from {source} ({differences}); it was rolled back and the target is "
           "unchanged",
        hints={"cli": ("这是本系统的缺陷；请加 --debug 重新运行并报告", "this is a bug in geo_tracker; rerun with "
                       "--debug and report it"), "web": _ADMIN}),
    "moves.evidence_missing": Entry(
        zh="举证文件{name}（{path}，{patches}的证据）不存在或内容与校验和不符，已迁移其记录，未能复制文件",
        en="evidence file {name} ({path}, cited by {patches}) is missing or does not match its SHA-256: its "
           "record moved, the file could not",
        hints={"cli": ("找到原文件后，请将其放入目标的举证文件夹", "when the file is found, put it into the target's "
                       "evidence folder")}),
}
