"""The command line speaks Chinese to a liaison (``--lang zh`` or a zh_CN locale) and keeps
its English for scripts: every line and table a township's commands print, on the demo
township, on both backends, fails on an English word of four or more letters.

Command names in backticks and options (``--json``) are instructions for the command line
itself and stay as typed; library names in ``info`` are names.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import bureau_files
from test_chinese_pages import ALLOWED, WORD
from geo_tracker.cli import cli
from geo_tracker.services import cases
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import open_store

#: Names the CLI prints as they are: libraries and backends in ``info``, units, the program.
CLI_ALLOWED = ALLOWED | {"spatialite", "postgis", "postgresql", "sqlite", "sqlalchemy", "geoalchemy2", "shapely",
                         "pyproj", "geopandas", "pyogrio", "fiona", "alembic", "pandas", "numpy", "proj",
                         "geos", "python", "debian", "features", "geo_tracker", "pysqlite", "dbapi", "module", "december",
                         "admin", "enforcer", "liaison", "viewer", "reviewer", "root", "tracker"}  # user names, geo_tracker
TYPED = re.compile(r"`[^`]*`|--[a-z][a-z-]*|\b\w+://\S+|(?<![\w/])/[\w{}/.-]+|Ctrl-C|"
                   r"\S+\.(?:shp|zip|sqlite|dbf|cpg|prj|xlsx|docx)\b")


def english_words(text: str) -> list[str]:
    words = WORD.findall(TYPED.sub(" ", text))
    return sorted({w for w in words if w.lower() not in CLI_ALLOWED and not w.isupper()})


def test_the_checker_finds_english():
    assert english_words("已导入 3 个图斑；rejected feature 2") == ["feature", "rejected"]
    assert english_words("请运行 `geo-tracker patches rematch` 或加 --accept-duplicates") == []


@pytest.fixture
def township(db_url, tmp_path):
    """The demo township and one of its filed patches."""
    run_demo(db_url)
    with open_store(db_url) as store:
        frame = list_patches(store)
        filed = frame[frame["status"] == "case_filed"].iloc[0]
        ref = f"{filed['batch']}/{filed['patch_code']}"
        case_no = cases.list_cases(store)[0]["case_no"]
    return db_url, ref, frame.iloc[0]["batch"], case_no


def run(db_url: str, *args: str, env: dict | None = None, lang: str | None = "zh"):
    prefix = ["--db", db_url] + (["--lang", lang] if lang else [])
    result = CliRunner().invoke(cli, prefix + list(args), env=env, catch_exceptions=False)
    return result


def test_a_liaisons_commands_print_chinese(township, tmp_path):
    db_url, ref, batch, case_no = township
    reissue = bureau_files.sample_reissue(tmp_path)
    delivery = bureau_files.weipian_gbk_noprj(tmp_path / "2024")
    commands = [
        ["batches", "import", str(delivery), "--source", "natural-resources", "--batch", "2024年第1批",
         "--issued-on", "2024-03-01"],
        ["patches", "verify", "2024年第1批/5001090001", "--result", "illegal", "--on", "2024-03-09"],
        ["info"], ["batches", "list"], ["batches", "show", batch], ["patches", "list"], ["patches", "show", ref],
        ["patches", "rectify", ref, "--on", "2023-10-01", "--measure", "demolition", "--area-mu", "0.01"],
        ["patches", "history", ref], ["patches", "deadline", ref, "--on", "2024-03-31"], ["patches", "overdue"],
        ["patches", "rematch"], ["boundaries", "list"], ["cases", "list"], ["users", "list"],
        ["stats", "--year", "2023"], ["stats", "--subject", "patrols"], ["stats", "--subject", "complaints"],
        ["stats", "--subject", "cases"],
        ["batches", "import", str(reissue), "--source", "natural-resources", "--batch", batch,
         "--issued-on", "2023-06-30", "--dry-run"],
    ]
    seen = {}
    for args in commands:
        result = run(db_url, *args)
        assert result.exit_code == 0, (args, result.output)
        assert result.output.strip(), args
        seen[" ".join(args[:2])] = english_words(result.output)
    assert {k: v for k, v in seen.items() if v} == {}, "\n".join(f"{k}: {v}" for k, v in seen.items() if v)


def test_import_report_reads_chinese_and_english_for_scripts(township, tmp_path):
    db_url, _ref, batch, _case = township
    reissue = bureau_files.sample_reissue(tmp_path)
    args = ["batches", "import", str(reissue), "--source", "natural-resources", "--batch", batch,
            "--issued-on", "2023-06-30", "--dry-run"]
    chinese = run(db_url, *args).output
    english = run(db_url, *args, lang=None).output
    assert "将把" in chinese and "坐标系" in chinese and "图形或面积变化" in chinese
    assert "Would import" in english and "changed" in english and "坐标系" not in english


def test_the_locale_chooses_chinese(township):
    db_url, ref, _batch, _case = township
    by_locale = run(db_url, "patches", "show", ref, env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""}, lang=None).output
    english = run(db_url, "patches", "show", ref, env={"LANG": "C.UTF-8", "LC_ALL": ""}, lang=None).output
    assert "下发" in by_locale and "已整改" in by_locale
    assert " issued " in english and "rectified" in english


def test_errors_and_json_keep_their_shape_in_chinese(township):
    db_url, ref, _batch, _case = township
    refused = run(db_url, "patches", "close", "不存在的图斑", "--on", "2023-12-01")
    assert refused.exit_code != 0 and english_words(refused.output) == []
    import json

    as_json = json.loads(run(db_url, "batches", "list", "--json").output)
    assert {"name", "source", "patches"} <= set(as_json[0])
    assert as_json[0]["source"] in ("natural-resources", "forestry")


def test_every_cli_word_has_both_languages_and_chinese_needs_no_more_values():
    from string import Formatter

    from geo_tracker.cli.words import WORDS

    for key, (zh, en) in WORDS.items():
        names = [{f for _, f, _, _ in Formatter().parse(t) if f} for t in (zh, en)]
        assert names[0] <= names[1], key    # English may say more (a code beside its label)
        assert english_words(re.sub(r"\[/?[a-z ]*\]|\{[^}]*\}", "", zh)) == [], (key, zh)


def test_every_word_the_cli_says_exists():
    import pathlib

    from geo_tracker.cli.words import WORDS

    source = "\n".join(p.read_text(encoding="utf-8") for p in pathlib.Path("geo_tracker/cli").glob("*.py"))
    used = set(re.findall(r"""say\(["']([a-z_.]+)["'][,)]""", source))
    used |= {f"col.{c}" for call in re.findall(r"\btable\(([^)]*)\)", source) for c in re.findall(r'"(\w+)"', call)}
    assert used - set(WORDS) == set()
