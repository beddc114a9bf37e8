"""Storage URLs made safe to show: the one password redaction of the package (no torch).

Every message, log line, table, report and plot that names a storage URL goes through
:func:`redact_url`. It is built on SQLAlchemy's URL parser (``make_url``), so a password in the
userinfo (``user:SECRET@host``), in the query (``?password=SECRET``), URL-encoded, or holding
``@`` / ``:`` / ``/`` is found the way the database driver would find it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["redact_url", "redact_text", "url_secrets"]

#: Query keys that carry a secret (libpq's ``password``; ``passfile`` names a file, kept).
_SECRET_KEYS = ("password", "pass", "passwd", "pwd", "secret", "token")
_MASK = "***"


def url_secrets(url: str) -> list[str]:
    """The secrets ``url`` carries (userinfo password, secret query values), decoded and as
    written, longest first: what must never appear in any output. Empty for a plain path."""
    found: set[str] = set()
    try:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        if u.password:
            found.add(str(u.password))
        for key, value in u.query.items():
            if key.lower() in _SECRET_KEYS:
                found.update([value] if isinstance(value, str) else list(value))
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy parses: the regex below still runs
        pass
    if "://" in url:
        head = url.split("://", 1)[1].partition("?")[0]
        if not head.startswith("/") and "@" in head:
            creds = head.rsplit("@", 1)[0]
            if ":" in creds:
                found.add(creds.split(":", 1)[1])
    for m in re.finditer(r"[?&](?:%s)=([^&#]*)" % "|".join(_SECRET_KEYS), url, flags=re.IGNORECASE):
        found.add(m.group(1))
    out = {s for s in found if s}
    out |= {unquote(s) for s in out}
    # a parse that stopped early (``p`` of ``p@ss``) is covered by the longer secret
    out = {s for s in out if not any(s != o and s in o for o in out)}
    return sorted(out, key=len, reverse=True)


def redact_url(url: str) -> str:
    """``url`` with every secret it carries replaced by ``***`` (safe to print, log or commit).

    ``postgresql://nas:SECRET@host:5432/nas`` -> ``postgresql://nas:***@host:5432/nas``;
    ``postgresql://nas@host/nas?password=SECRET`` -> ``...?password=***``. The userinfo password
    runs to the *last* ``@`` before the query (an unencoded ``@``, ``:`` or ``/`` in a password
    stays hidden);
    the rest of the URL is left as written (a SQLite path with ``@`` is not touched). A string
    that is not a URL is returned unchanged.
    """
    out = url
    if "://" in url:
        scheme, rest = url.split("://", 1)
        head, qmark, query = rest.partition("?")
        if not head.startswith("/") and "@" in head:  # an authority with userinfo (not a SQLite path)
            creds, host = head.rsplit("@", 1)          # the last @: a raw @ or / in a password stays inside
            if ":" in creds:
                out = f"{scheme}://{creds.split(':', 1)[0]}:{_MASK}@{host}{qmark}{query}"
    out = re.sub(r"([?&](?:%s)=)[^&#]*" % "|".join(_SECRET_KEYS), r"\1" + _MASK, out, flags=re.IGNORECASE)
    return redact_text(out, url)


def redact_text(text: str, url: str) -> str:
    """``text`` (an error message, a log line) with every secret of ``url`` replaced by ``***``."""
    for secret in url_secrets(url):
        text = text.replace(secret, _MASK)
    return text
