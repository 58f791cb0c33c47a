"""Messages of storage (database URLs, SpatiaLite, PostGIS, the schema, outages) and of the
configuration: key -> Entry.

The English text is what the CLI showed before the catalogue, word for word; commands to run
are CLI hints, and a page says instead whom to ask (the system administrator, 系统管理员).
"""

from . import Entry

_ADMIN = ("请联系系统管理员", "ask the system administrator")
_INIT = {"cli": ("请运行 `geo-tracker --db {where} init`", "run `geo-tracker --db {where} init`"), "web": _ADMIN}

URLS: dict[str, Entry] = {
    "storage.url_empty": Entry(zh="数据库地址为空", en="empty database URL",
                               hints={"any": ("请给出sqlite:///FILE或postgresql://HOST/DB",
                                              "give sqlite:///FILE or postgresql://HOST/DB")}),
    "storage.url_unparsable": Entry(
        zh="无法解析数据库地址“{url}”", en="cannot parse database URL {url!r}",
        hints={"any": ("请使用sqlite:///FILE或postgresql://USER@HOST:PORT/DATABASE",
                       "use sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE")}),
    "storage.url_no_file": Entry(
        zh="数据库地址“{url}”没有指定文件", en="database URL {url!r} names no file",
        hints={"any": ("请使用sqlite:///path/to/office.sqlite（内存数据库退出后会丢失全部数据）",
                       "use sqlite:///path/to/office.sqlite (an in-memory database would lose everything on exit)")}),
    "storage.url_no_database": Entry(
        zh="数据库地址“{url}”没有指定数据库", en="database URL {url!r} names no database",
        hints={"any": ("请在主机之后写上数据库名，如postgresql://127.0.0.1:5432/geo_tracker",
                       "add it after the host, e.g. postgresql://127.0.0.1:5432/geo_tracker")}),
    "storage.url_unsupported": Entry(
        zh="不支持的数据库类型“{scheme}”（{url}）：本系统的数据存放在SpatiaLite（sqlite:///FILE）或PostGIS"
           "（postgresql://HOST/DB）中",
        en="unsupported database {scheme!r} in {url!r}: geo_tracker stores data in SpatiaLite (sqlite:///FILE) "
           "or PostGIS (postgresql://HOST/DB)"),
}

BACKENDS: dict[str, Entry] = {
    "storage.replicas_postgis_only": Entry(
        zh="只读副本（`read_database_url`）仅用于PostGIS，{where}是SpatiaLite数据库",
        en="read replicas (read_database_url) are for PostGIS; {where} is a SpatiaLite database",
        hints={"any": ("请删除设置`read_database_url`", "remove the setting `read_database_url`")}),
    "storage.primary_down_reads_go_on": Entry(
        zh="主数据库没有响应：只读副本继续提供查询，修改将在主数据库恢复后才能保存",
        en="the primary database does not answer: the read replicas go on answering reads, and changes "
           "are refused until the primary is back"),
    "storage.replica_not_postgres": Entry(
        zh="只读副本地址“{url}”不是PostgreSQL数据库", en="read replica {url!r} is not a PostgreSQL database",
        hints={"any": ("请给出postgresql://HOST:PORT/DB形式的流复制备库地址",
                       "give a streaming replica as postgresql://HOST:PORT/DB")}),
    "storage.partition_key_missing": Entry(
        zh="表{table}有{count}行缺少分区所需的{column}（其批次已不存在），无法按年份分区",
        en="{count} rows of {table} have no {column} (their batch is gone), so the table cannot be partitioned by year",
        hints={"any": ("请先删除或修复这些行，再运行`geo-tracker init`",
                       "remove or mend those rows, then run `geo-tracker init` again")}),
    "storage.sqlite_no_extensions": Entry(
        zh="当前Python的sqlite3不能加载扩展，且未安装pysqlite3",
        en="this Python's sqlite3 cannot load extensions and pysqlite3 is not installed",
        hints={"cli": ("请运行 `pip install pysqlite3-binary`（SpatiaLite本身用 `apt-get install {package}` 安装）",
                       "run `pip install pysqlite3-binary` (and `apt-get install {package}` for SpatiaLite itself)"),
               "web": _ADMIN}),
    "storage.spatialite_unloadable": Entry(
        zh="无法加载SpatiaLite（{library}）：{reason}", en="cannot load SpatiaLite ({library}): {reason}",
        hints={"cli": ("请安装Debian软件包{package}（apt-get install {package}），或将SPATIALITE_LIBRARY_PATH设为"
                       "mod_spatialite的完整路径",
                       "Install the Debian package {package} (apt-get install {package}) or set "
                       "SPATIALITE_LIBRARY_PATH to mod_spatialite's full path"),
               "web": _ADMIN}),
    "storage.sqlite_file_missing": Entry(
        zh="数据库文件{path}不存在", en="database file {path} does not exist",
        hints={"cli": ("请运行 `geo-tracker --db {path} init` 创建", "run `geo-tracker --db {path} init` to create it"),
               "web": _ADMIN}),
    "storage.sqlite_folder_missing": Entry(
        zh="无法创建数据库{path}：文件夹{folder}不存在", en="cannot create database {path}: folder {folder} does not exist"),
    "storage.postgres_database_missing": Entry(
        zh="{host}上不存在PostgreSQL数据库“{database}”", en="PostgreSQL database {database!r} does not exist on {host}",
        hints={"cli": ("请运行 `geo-tracker --db {url} init` 创建", "run `geo-tracker --db {url} init` to create it"),
               "web": _ADMIN}),
    "storage.postgres_unreachable": Entry(
        zh="无法连接PostgreSQL（{where}）：{reason}", en="cannot connect to PostgreSQL ({where}): {reason}",
        hints={"cli": ("PostgreSQL是否已启动？（Debian：pg_ctlcluster --skip-systemctl-redirect 15 main start）",
                       "is PostgreSQL running? (Debian: pg_ctlcluster --skip-systemctl-redirect 15 main start)"),
               "web": _ADMIN}),
    "storage.postgres_cannot_create": Entry(
        zh="数据库“{database}”不存在且无法创建（{where}）：{reason}",
        en="database {database!r} does not exist and cannot be created ({where}): {reason}",
        hints={"cli": ("请自行创建，或使用有CREATEDB权限的用户", "create it yourself or use a user with CREATEDB"),
               "web": _ADMIN}),
    "storage.postgis_unavailable": Entry(
        zh="无法在{where}中启用PostGIS：{reason}", en="cannot enable PostGIS in {where}: {reason}",
        hints={"cli": ("请在数据库服务器上安装PostGIS（Debian：apt-get install {package}），并确认该用户可以CREATE EXTENSION",
                       "Install PostGIS on the database server (Debian: apt-get install {package}) and make sure "
                       "this user may CREATE EXTENSION"),
               "web": _ADMIN}),
    "storage.folder_unwritable": Entry(zh="无法写入{folder}：{reason}", en="cannot write into {folder}: {reason}"),
}

SCHEMA: dict[str, Entry] = {
    "storage.schema_missing": Entry(
        zh="数据库{where}中没有本系统的数据表", en="database {where} has no geo_tracker tables", hints=_INIT),
    "storage.schema_outdated": Entry(
        zh="数据库{where}的结构版本为{current}，本系统需要{head}",
        en="database {where} is at schema {current}, this geo_tracker needs {head}",
        hints={"cli": ("请运行 `geo-tracker --db {where} init` 升级（数据不会丢失）",
                       "run `geo-tracker --db {where} init` to upgrade it (nothing is lost)"),
               "web": ("请联系系统管理员升级数据库", "ask the system administrator to upgrade the database")}),
    "storage.schema_too_new": Entry(
        zh="数据库{where}的结构版本为{current}，本系统不认识（已知最新为{head}）",
        en="database {where} is at schema {current}, unknown to this geo_tracker (latest known {head})",
        hints={"cli": ("请先升级本系统再使用该数据库", "upgrade geo_tracker before using this database"),
               "web": ("请联系系统管理员升级本系统", "ask the system administrator to upgrade geo_tracker")}),
}

OUTAGES: dict[str, Entry] = {
    "storage.the_database": Entry(zh="数据库", en="the database"),
    "storage.the_database_at": Entry(zh="数据库{url}", en="the database {url}"),
    "storage.disk_full": Entry(
        zh="无法写入{where}：磁盘已满或出现故障，未写入任何内容",
        en="cannot write {where}: its disk is full or failing. Nothing was written",
        hints={"cli": ("请清理该磁盘的空间（或迁移数据库）后重试", "free space on that disk (or move the database), then try again"),
               "web": ("请联系系统管理员清理磁盘空间后重试", "ask the system administrator to free disk space, then try again")}),
    "storage.read_only": Entry(
        zh="无法写入{where}：数据库为只读，未写入任何内容", en="cannot write {where}: it is read-only. Nothing was written",
        hints={"cli": ("请检查文件权限，并确认磁盘以读写方式挂载",
                       "check the file's permissions and that its disk is mounted read-write"),
               "web": _ADMIN}),
    "storage.busy": Entry(
        zh="{where}正忙于另一项写入（可能是较大的导入），未写入任何内容",
        en="{where} is busy with another write (a long import?). Nothing was written",
        hints={"any": ("请过一分钟再试", "try again in a minute")}),
    "storage.gone": Entry(
        zh="{where}没有响应，未写入任何内容", en="{where} does not answer. Nothing was written",
        hints={"cli": ("请启动数据库服务器或检查网络后重试", "start the database server or check the network, then try again"),
               "web": ("请稍后重试；如仍不行，请联系系统管理员", "try again later; if it persists, ask the system administrator")}),
    "storage.file_disk_full": Entry(
        zh="无法写入{name}：磁盘已满（或文件不能再增大），未写入任何内容",
        en="cannot write{name}: the disk is full (or the file may not grow). Nothing was written",
        hints={"cli": ("请清理该磁盘的空间后重试", "free space on that disk, then try again"),
               "web": ("请联系系统管理员清理磁盘空间后重试", "ask the system administrator to free disk space, then try again")}),
    "storage.file_read_only": Entry(
        zh="无法写入{name}：磁盘以只读方式挂载，未写入任何内容",
        en="cannot write{name}: the disk is mounted read-only. Nothing was written"),
}

PATCHES: dict[str, Entry] = {
    "storage.patch_not_found": Entry(
        zh="没有图斑“{ref}”", en="no patch {ref!r}",
        hints={"cli": ("用 `geo-tracker patches list` 查看图斑", "`geo-tracker patches list` shows the patches"),
               "web": ("请在图斑列表中查找", "look it up in the patch list")}),
    "storage.patch_code_ambiguous": Entry(
        zh="图斑编号“{code}”出现在多个批次中（{batches}）", en="patch code {code!r} is in several batches ({batches})",
        hints={"cli": ("请写成“批次/{code}”", "name it as BATCH/{code}"),
               "any": ("请写成“批次/{code}”", "name it as BATCH/{code}")}),
    "storage.lineage_not_found": Entry(zh="没有谱系为{lineage}的现行图斑", en="no current patch with lineage {lineage}"),
    "storage.patch_stale": Entry(
        zh="图斑{label}在读取后已被他人修改（行版本{version}）",
        en="patch {label} was changed by someone else since it was read (row version {version})",
        hints={"cli": ("请重新读取后重试", "reload it and try again"),
               "any": ("请刷新后重试", "reload it and try again")}),
    "storage.patch_changed_meanwhile": Entry(
        zh="图斑{label}刚被他人修改", en="patch {label} was changed by someone else meanwhile",
        hints={"any": ("请重试", "try again")}),
    "storage.demo_needs_empty": Entry(
        zh="演示需要一个空数据库，但{url}中已有数据（{counts}）",
        en="the demo needs an empty database, but {url} already holds data ({counts})",
        hints={"cli": ("请用 --db 为演示指定单独的数据库", "give the demo its own database with --db"), "web": _ADMIN}),
}

CONFIG: dict[str, Entry] = {
    "config.setting_invalid": Entry(
        zh="设置项{name} = {value!r}不是有效的{kind}", en="setting {name} = {value!r} is not a valid {kind}"),
    "config.file_missing": Entry(zh="配置文件{path}不存在", en="configuration file {path} does not exist"),
    "config.file_not_toml": Entry(zh="配置文件{path}不是有效的TOML：{reason}",
                                  en="configuration file {path} is not valid TOML: {reason}"),
    "config.settings_unknown": Entry(
        zh="配置文件{path}：未知的设置项{unknown}；可用的设置项：{known}",
        en="configuration file {path}: unknown setting(s) {unknown}; known: {known}"),
}

MESSAGES: dict[str, Entry] = {**URLS, **BACKENDS, **SCHEMA, **OUTAGES, **PATCHES, **CONFIG}
