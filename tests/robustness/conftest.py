"""Helpers for the robustness tests: the CLI (in a subprocess or in-process), folder digests,
a tiny search space, the study's trials read straight from the database, and PostgreSQL.

PostgreSQL: ``NAS_TEST_PG_URL`` (set by ``.ci/run``) or, when Debian's binaries are installed,
``scripts/pg_local.sh start`` (a throw-away server on 127.0.0.1:55432). Tests that need it skip
with the reason when neither gives a reachable server.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY_SPACE = Path(__file__).with_name("tiny_space.yaml")
#: Fast search flags: the tiny space, its cheap reference, smoke proxy, one torch thread.
TINY = ["--profile", "smoke", "--space", str(TINY_SPACE), "--references", "imdn_rtc", "--threads", "1"]


def nas_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "nas.cli", *args]


def nas(*args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run(nas_cmd(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO, **kw)


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> hex)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(stderr: str) -> str:
    """The single non-empty line of ``stderr``; fails if there are more or a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    print(f"error line: {lines[0]}")  # shown with -s or on failure
    return lines[0]


def trial_rows(url: str, study: str) -> list[dict]:
    """``[{number, state, admission, arch_id, reference, fail_reason}]`` read with plain SQL
    (no Optuna storage object, so nothing is created or migrated)."""
    import json

    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text(
                "SELECT t.trial_id, t.number, t.state FROM trials t JOIN studies s ON s.study_id = t.study_id "
                "WHERE s.study_name = :n ORDER BY t.number"), {"n": study}).all()
            attrs = conn.execute(sqlalchemy.text(
                "SELECT a.trial_id, a.key, a.value_json FROM trial_user_attributes a JOIN trials t "
                "ON t.trial_id = a.trial_id JOIN studies s ON s.study_id = t.study_id WHERE s.study_name = :n"),
                {"n": study}).all()
    except sqlalchemy.exc.SQLAlchemyError:
        return []  # tables not created yet
    finally:
        engine.dispose()
    by_id: dict[int, dict] = {tid: {"number": n, "state": str(st).split(".")[-1]} for tid, n, st in rows}
    for tid, key, value in attrs:
        if tid in by_id:
            by_id[tid][key] = json.loads(value)
    return sorted(by_id.values(), key=lambda r: r["number"])


def wait_for_admitted_trial(url: str, study: str, proc: subprocess.Popen, min_complete: int = 1,
                            timeout: float = 300) -> dict:
    """Poll until ``proc``'s study holds ``min_complete`` COMPLETE trials and one RUNNING trial
    that is training (admitted); return that trial's row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"search ended (rc {proc.returncode}) before a trial was running:\n{err}")
        rows = trial_rows(url, study) if not url.startswith("sqlite") or Path(url.split(":///", 1)[1]).exists() else []
        done = sum(r["state"] == "COMPLETE" for r in rows)
        running = [r for r in rows if r["state"] == "RUNNING" and r.get("admission") == "admitted"]
        if done >= min_complete and running:
            return running[0]
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("no trial started training in time")


def load_study(url: str, study: str):
    import optuna

    return optuna.load_study(study_name=study, storage=url)


# ---------------------------------------------------------------------- PostgreSQL
def _reachable(url: str) -> str | None:
    """None if a connection to ``url`` works, else the reason."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                             dbname=u.database, connect_timeout=5):
            return None
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of a reachable PostgreSQL server (skips the test with the reason otherwise)."""
    url = os.environ.get("NAS_TEST_PG_URL")
    if not url:
        script = REPO / "scripts" / "pg_local.sh"
        if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
            pytest.skip("PostgreSQL not available: NAS_TEST_PG_URL is not set and /usr/lib/postgresql/*/bin/initdb "
                        "is missing (apt-get install -y postgresql, or run .ci/run)")
        r = subprocess.run(["bash", str(script), "start"], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            pytest.skip(f"PostgreSQL not available: scripts/pg_local.sh start failed: {r.stderr.strip()[-300:]}")
        url = r.stdout.strip().splitlines()[-1]
    why = _reachable(url)
    if why is not None:
        pytest.skip(f"PostgreSQL at {url.split('@')[-1]} not reachable: {why}")
    return url


@pytest.fixture
def study_name() -> str:
    """A fresh study name (tests share one PostgreSQL database)."""
    return f"test_{uuid.uuid4().hex[:10]}"
