"""rentwatch.toml: the shipped example loads, and bad files name the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rentwatch.config import ConfigError, load_config, parse_config
from tests.cli_helpers import run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "rentwatch.toml"

GOOD = """\
database = "data/rw.db"

[[sources]]
name = "lianjia"
city = "hz"
districts = ["jiubao"]
schedule = "10 6 * * *"
"""


def test_shipped_example_tracks_the_story():
    config = load_config(EXAMPLE)
    assert config.timezone == "Asia/Shanghai"
    assert config.database == EXAMPLE.parent / "rentwatch.db"
    assert config.jobstore == EXAMPLE.parent / "rentwatch-jobs.sqlite"
    by_id = {s.id: s for s in config.sources}
    assert by_id["lianjia-hz-buildings"].buildings == ("丽晶国际",)
    assert by_id["lianjia-hz-areas"].districts == ("jiubao", "binjiang", "qianjiangshijicheng")
    assert by_id["lianjia-hz-areas"].delay == 5.0
    assert config.snapshot.schedule.crontab == "50 23 * * *"


def test_defaults_and_relative_paths(tmp_path):
    config = parse_config(GOOD, tmp_path / "rentwatch.toml")
    assert config.database == tmp_path / "data/rw.db"
    assert config.jobstore == tmp_path / "data/rw.db.jobs.sqlite"
    (source,) = config.sources
    assert (source.id, source.city, source.delay, source.concurrency) == (
        "lianjia-hz",
        "hz",
        None,
        None,
    )
    trigger = source.schedule.trigger(config.timezone)
    assert str(trigger.timezone) == "Asia/Shanghai"


def test_schedule_table_allows_seconds(tmp_path):
    text = GOOD.replace('"10 6 * * *"', '{hour = 6, minute = 10, second = "*/3"}')
    (source,) = parse_config(text, "x.toml").sources
    assert source.schedule.fields == (("hour", "6"), ("minute", "10"), ("second", "*/3"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('"10 6 * * *"', '"61 6 * * *"'),
            "x.toml (line 7): sources[0].schedule: bad cron schedule '61 6 * * *'",
        ),
        (
            ('"10 6 * * *"', "{hour = 6, minit = 3}"),
            "x.toml (line 7): sources[0].schedule: unknown cron field 'minit'",
        ),
        (('city = "hz"', "city = 3"), "x.toml (line 5): sources[0].city: required"),
        (
            ('name = "lianjia"', 'name = "lainjia"'),
            "x.toml (line 4): sources[0].name: unknown source 'lainjia'",
        ),
        (
            ('districts = ["jiubao"]', 'districts = "jiubao"'),
            "x.toml (line 6): sources[0].districts: expected a list",
        ),
        (
            ('city = "hz"', 'city = "hz"\ndelay = -1'),
            "x.toml (line 6): sources[0].delay: expected seconds",
        ),
        (
            ('city = "hz"', 'city = "hz"\nconcurrency = 0'),
            "x.toml (line 6): sources[0].concurrency",
        ),
        (
            ('city = "hz"', 'city = "hz"\nbase_url = "127.0.0.1:80"'),
            "x.toml (line 6): sources[0].base_url",
        ),
        (
            ('city = "hz"', 'city = "hz"\nfrequency = 2'),
            "x.toml (line 6): sources[0].frequency: unknown key",
        ),
        (
            ('database = "data/rw.db"', 'database = "data/rw.db"\ntimezone = "Asia/Shangai"'),
            "x.toml (line 2): timezone: unknown time zone 'Asia/Shangai'",
        ),
        (
            ('database = "data/rw.db"', 'database = "data/rw.db"\njobstore = "data/rw.db"'),
            "x.toml (line 2): jobstore: must be a different file",
        ),
        (
            ('database = "data/rw.db"', 'databse = "data/rw.db"'),
            "x.toml (line 1): databse: unknown key",
        ),
        (('city = "hz"', 'city = "hz'), "x.toml: not valid TOML"),
    ],
)
def test_bad_config_names_key_and_line(edit, message):
    with pytest.raises(ConfigError) as exc:
        parse_config(GOOD.replace(*edit), "x.toml")
    assert message in str(exc.value)


def test_syntax_error_gives_the_line():
    with pytest.raises(ConfigError, match=r"line 5"):
        parse_config(GOOD.replace('city = "hz"', 'city = "hz'), "x.toml")


def test_second_source_is_located_by_its_own_table():
    text = (
        GOOD + '\n[[sources]]\nid = "b"\nname = "lianjia"\ncity = "hz"\nschedule = "70 6 * * *"\n'
    )
    with pytest.raises(ConfigError, match=r"line 13\): sources\[1\]\.schedule"):
        parse_config(text, "x.toml")


def test_duplicate_job_ids_are_refused():
    with pytest.raises(ConfigError, match=r"sources\[1\]\.id: duplicate job id 'lianjia-hz'"):
        parse_config(GOOD + "\n" + GOOD.split("\n", 2)[2], "x.toml")


def test_snapshot_section(tmp_path):
    config = parse_config(GOOD + '\n[snapshot]\nschedule = "0 23 * * *"\n', "x.toml")
    assert config.snapshot.schedule.crontab == "0 23 * * *"
    with pytest.raises(ConfigError, match=r"\(line 10\): snapshot.enabled: expected true or false"):
        parse_config(GOOD + '\n[snapshot]\nenabled = "yes"\n', "x.toml")


def test_cli_reports_bad_config_and_missing_file(tmp_path):
    bad = tmp_path / "rentwatch.toml"
    bad.write_text(GOOD.replace('"10 6 * * *"', '"10 25 * * *"'), encoding="utf-8")
    result = run_cli("run", "--check", "--config", str(bad))
    assert result.exit_code == 1
    assert f"Error: {bad} (line 7): sources[0].schedule: bad cron schedule" in result.output
    result = run_cli("run", "--config", str(tmp_path / "nope.toml"))
    assert result.exit_code == 1
    assert "nope.toml not found" in result.output


def test_check_lists_the_jobs():
    result = run_cli("run", "--check", "--config", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert (
        "lianjia-hz-areas: lianjia hz districts jiubao binjiang qianjiangshijicheng; schedule 40 6 * * * (due today)"
        in result.output
    )
