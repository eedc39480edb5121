"""A Procore client from PyPI side by side with `qbprocore.procore`, against FakeProcore.

The peer is ``procore`` 0.1.0 (fylein/procore-sdk-py, on `requests`), the Procore client
PyPI offers. Both list a company's projects from one `FakeProcore` served over real HTTP by
uvicorn on 127.0.0.1, in the same run: records returned, requests made, wall time.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from qbprocore import procore as ours
from qbprocore.testing import FakeProcore, serve_asgi

PROJECTS = 5_000
_REDIRECT = "http://127.0.0.1/callback"


def _refresh_token(fake: FakeProcore, base: str) -> str:
    code = fake.authorize(redirect_uri=_REDIRECT)
    answer = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": _REDIRECT,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
        },
    )
    answer.raise_for_status()
    token: str = answer.json()["refresh_token"]
    return token


def run(projects: int = PROJECTS) -> dict[str, Any]:
    """Both clients list ``projects`` projects; return what each got."""
    fake = FakeProcore()
    for n in range(projects):
        fake.add_project(name=f"Project {n:05}")
    out: dict[str, Any] = {"projects": projects}
    with serve_asgi(fake) as base:
        env = ours.Environment.custom(name="bench", login_url=base, api_url=base)
        auth = ours.ProcoreAuth.client_credentials(
            environment=env, client_id=fake.client_id, client_secret=fake.client_secret
        )
        before = len(fake.calls)
        started = time.perf_counter()
        with ours.ProcoreClient(auth=auth, company_id=fake.company_id) as client:
            got = sum(1 for _ in client.projects.list(per_page=1000))
        out["qbprocore"] = {
            "records": got,
            "requests": len(fake.calls) - before,
            "seconds": round(time.perf_counter() - started, 3),
            "error": "",
        }
        try:
            import procore as peer  # the PyPI package, not ours
        except ImportError as exc:
            out["peer"] = {"records": 0, "requests": 0, "seconds": 0.0, "error": f"{exc}"}
            return out
        before = len(fake.calls)
        started = time.perf_counter()
        try:
            conn = peer.Procore(
                login_url=base,
                base_url=f"{base}/rest/v1.0",
                client_id=fake.client_id,
                client_secret=fake.client_secret,
                refresh_token=_refresh_token(fake, base),
            )
            rows = conn.projects.get(str(fake.company_id))
            error = ""
            got = len(rows) if isinstance(rows, list) else 0
        except Exception as exc:  # whatever the peer raises is the finding
            error = f"{type(exc).__name__}: {exc}"[:200]
            got = 0
        out["peer"] = {
            "records": got,
            "requests": len(fake.calls) - before,
            "seconds": round(time.perf_counter() - started, 3),
            "error": error,
        }
    return out


def render(figures: dict[str, Any]) -> str:
    """The figures as a Markdown section."""
    lines = [
        "## A Procore client from PyPI, side by side",
        "",
        f"Both list a company's {figures['projects']:,} projects from one FakeProcore served"
        " over HTTP on 127.0.0.1.",
        "",
        "| client | projects returned | requests | wall | error |",
        "|---|---:|---:|---:|---|",
    ]
    for label, key in (("qbprocore.procore", "qbprocore"), ("procore 0.1.0 (PyPI)", "peer")):
        f = figures[key]
        lines.append(
            f"| {label} | {f['records']:,} | {f['requests']} | {f['seconds']} s"
            f" | {f['error'] or '—'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> str:
    """Run and return the Markdown section (for ``python -m bench``)."""
    return render(run())


if __name__ == "__main__":
    print(main())
