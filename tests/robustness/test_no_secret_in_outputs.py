"""No storage password in any output (issue 19): URL forms, and every file and line a search on
PostgreSQL, ``nas report`` and ``nas show`` write."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from nas.urls import redact_text, redact_url, url_secrets
from tests.robustness.conftest import TINY, nas

SECRET = "Zq7@x:Pw9/k"


@pytest.mark.parametrize("url", [
    f"postgresql://nas:{quote(SECRET, safe='')}@db.lan:5432/nas",                 # userinfo, URL-encoded
    f"postgresql+psycopg://nas:{SECRET}@db.lan:5432/nas",                         # userinfo, raw @ : /
    f"postgresql://nas@db.lan:5432/nas?password={quote(SECRET, safe='')}",         # query, encoded
    f"postgresql://nas@db.lan:5432/nas?sslmode=require&password={quote(SECRET, safe='')}&x=1",
])
def test_redacted_url_holds_no_form_of_the_password(url):
    shown = redact_url(url)
    assert "***" in shown and "db.lan" in shown
    for form in (SECRET, quote(SECRET, safe=""), "Zq7", "Pw9"):
        assert form not in shown, shown
    assert SECRET in url_secrets(url) or quote(SECRET, safe="") in url_secrets(url)
    assert "Zq7" not in redact_text(f"could not connect to {url} with {SECRET}", url)


def test_plain_paths_are_left_alone():
    assert redact_url("sqlite:////tmp/a@b:c/study.db") == "sqlite:////tmp/a@b:c/study.db"
    assert redact_url("runs/x/study.db") == "runs/x/study.db"
    assert url_secrets("sqlite:///study.db") == []


@pytest.mark.slow
def test_search_report_and_show_on_postgresql_never_print_or_write_the_password(pg_url, study_name, tmp_path):
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    dsn = f"host={base.host} port={base.port} dbname={base.database} user={base.username} password={base.password}"
    with psycopg.connect(dsn, autocommit=True) as con:  # a role may change its own password
        con.execute(f"ALTER ROLE {base.username} PASSWORD '{SECRET}'")
    try:
        url = (f"postgresql://{base.username}@{base.host}:{base.port}/{base.database}"
               f"?password={quote(SECRET, safe='')}")
        out = tmp_path / "out"
        runs = [nas("search", "--budget", "2", "--storage", url, "--study", study_name, "--out", str(out), *TINY),
                nas("report", "--storage", url, "--study", study_name, "--out-dir", str(out)),
                nas("show", "--storage", url, "--study", study_name),
                nas("show", "--storage", url, "--study", study_name, "--json")]
        assert runs[0].returncode == 0, runs[0].stderr[-2000:]
        forms = (SECRET, quote(SECRET, safe=""), "Zq7")
        for r in runs:
            for form in forms:
                assert form not in r.stdout and form not in r.stderr, (r.args, form)
        files = [p for p in out.rglob("*") if p.is_file()]
        assert any(p.name == "report.html" for p in files) and any(p.name == "trials.csv" for p in files)
        for p in files:
            data = p.read_bytes()
            for form in forms:
                assert form.encode() not in data, (p, form)
    finally:
        secret_url = f"host={base.host} port={base.port} dbname={base.database} user={base.username} password={SECRET}"
        with psycopg.connect(secret_url, autocommit=True) as con:
            con.execute(f"ALTER ROLE {base.username} PASSWORD '{base.password}'")
