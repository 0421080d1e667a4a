"""Bad configuration gets one clear line naming the file and key, and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BASE_CONFIG, ROOT, Gateway, write_config


def run_with(tmp_path: Path, text: str):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    return Gateway(tmp_path, cfg).cli("ticket", "list")


def base(tmp_path: Path) -> str:
    return BASE_CONFIG.format(templates=ROOT / "templates", rules=tmp_path / "rules")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda s: s.replace('subject_tag = "Helpdesk"', 'subject_tgs = "Helpdesk"'),
         "gateway.subject_tgs: unknown key"),
        (lambda s: s.replace('name = "general"', 'name = 5'), "queue[0].name: expected a string, got 5"),
        (lambda s: s.replace('role = "technician"', 'role = "wizard"'),
         "person[0].role: expected one of requester, technician, admin, got 'wizard'"),
        (lambda s: s.replace('address = "ops@example.com"', 'address = "ops"'),
         "queue[1].address: expected an email address"),
        (lambda s: s.replace('queues = ["general"]', 'queues = ["nope"]'), "person[0].queues: unknown queue 'nope'"),
        (lambda s: s.replace('database = "sqlite:///store/mailgate.db"', 'database = "mysql://x"'),
         "store.database: expected sqlite:///PATH or postgresql://"),
        (lambda s: s + "\n[bogus]\nx = 1\n", "bogus: unknown section"),
        (lambda s: s.replace("[gateway]", "[gateway"), "invalid TOML"),
    ],
)
def test_bad_config_names_key_and_exits_nonzero(tmp_path: Path, mutate, expected: str) -> None:
    result = run_with(tmp_path, mutate(base(tmp_path)))
    assert result.exit_code == 78
    assert expected in result.stderr
    assert "bad.toml" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = Gateway(tmp_path, tmp_path / "nope.toml").cli("ticket", "list")
    assert result.exit_code == 78
    assert "configuration file not found" in result.stderr


def test_relative_paths_resolve_against_config_folder(tmp_path: Path, monkeypatch) -> None:
    gw = Gateway(tmp_path, write_config(tmp_path))
    monkeypatch.chdir("/")
    assert gw.cli("ticket", "list").exit_code == 0
    assert (tmp_path / "store" / "mailgate.db").exists()


def test_mailgate_config_env_selects_file(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from mailgate.cli import cli

    write_config(tmp_path)
    monkeypatch.setenv("MAILGATE_CONFIG", str(tmp_path / "mailgate.toml"))
    result = CliRunner().invoke(cli, ["ticket", "list"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "store" / "mailgate.db").exists()


def test_shipped_default_config_is_valid() -> None:
    from mailgate.config import load_settings

    s = load_settings(ROOT / "mailgate.toml")
    assert s.gateway.subject_tag == "Helpdesk"
    assert s.database_url == f"sqlite:///{ROOT / 'store' / 'mailgate.db'}"


def test_secret_from_environment(tmp_path: Path, monkeypatch) -> None:
    from mailgate.config import load_settings

    monkeypatch.setenv("MAILGATE_SECRET", "from-env")
    assert load_settings(write_config(tmp_path)).gateway.secret == "from-env"


def test_the_default_config_outside_the_checkout_uses_the_shipped_templates_and_rules(tmp_path: Path) -> None:
    """Issue 17, item 4: copied to /etc/mailgate, the documented defaults resolved templates/
    and rules/ beside it, which do not exist there: every mail was quarantined
    (TemplateNotFound) and `rules check` said "OK: 0 rule(s)"."""
    etc = tmp_path / "etc" / "mailgate"
    etc.mkdir(parents=True)
    (etc / "mailgate.toml").write_text((ROOT / "mailgate.toml").read_text())
    gw = Gateway(etc, etc / "mailgate.toml")
    check = gw.cli("rules", "check")
    assert check.exit_code == 0 and "OK: 0 rule(s)" not in check.output
    rules = gw.json("rules", "check")
    assert rules["folder"] == str(ROOT / "mailgate" / "shipped" / "rules")
    assert "40-alertmanager.toml" in rules["files"]
    raw = (b"From: Bob <bob@customer.example>\r\nTo: helpdesk@example.com\r\nSubject: Printer\r\n"
           b"Message-ID: <etc1@customer.example>\r\n\r\nIt prints blank pages.\r\n")
    assert gw.deliver(raw).exit_code == 0
    assert gw.json("quarantine", "list") == []
    [ack] = [o for o in gw.outbox() if o["kind"] == "ack"]
    assert ack["recipients"] == ["bob@customer.example"]


@pytest.mark.parametrize("key", ["templates", "rules"])
def test_a_configured_folder_that_does_not_exist_is_an_error_naming_the_key(tmp_path: Path, key: str) -> None:
    missing = tmp_path / "etc" / key
    text = base(tmp_path).replace(f'{key} = "{ROOT / "templates" if key == "templates" else tmp_path / "rules"}"',
                                  f'{key} = "{missing}"')
    (tmp_path / "rules").mkdir()
    cfg = tmp_path / "mailgate.toml"
    cfg.write_text(text)
    result = Gateway(tmp_path, cfg).cli("rules", "check")
    assert result.exit_code == 78
    assert f"{cfg}: {key}: no such folder {missing}" in result.stderr
