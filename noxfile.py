"""Developer sessions: ``nox -s tests lint typecheck docs bench``."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = os.environ.get("QBPROCORE_NOX_PYTHON") or None


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (installs the package with its test extras)."""
    session.install("-e", ".[test]")
    # The C walk of qbprocore.qbxml must have been built here (CI has a compiler): a broken
    # build fails tests/qbxml/test_speedups.py instead of quietly leaving pure Python.
    session.run("pytest", *session.posargs, env={"QBPROCORE_EXPECT_SPEEDUPS": "1"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("ruff==0.17.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/."""
    # tomli: mypy checks the Python 3.10 branch of the TOML import too.
    session.install("-e", ".[postgres,server]", "tomli>=2", "mypy==2.4.1", "lxml-stubs==0.5.1")
    session.run("mypy", "--strict", "src")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Run the benchmarks and print a report (figures go in docs/benchmarks.md)."""
    # server and postgres: the load benchmark runs the reference server on PostgreSQL.
    session.install("-e", ".[bench,server,postgres]")
    session.run("python", "-m", "bench", *session.posargs)


FUZZ_TARGETS = {
    "soap-wsgi": "tests/security/test_fuzz_soap.py::"
    "test_wsgi_endpoint_survives_hostile_requests_and_still_serves_a_full_session",
    "soap-asgi": "tests/security/test_fuzz_soap.py::"
    "test_asgi_endpoint_survives_hostile_requests_and_still_serves_a_full_session",
    "qbxml": "tests/security/test_fuzz_qbxml.py::"
    "test_qbxml_parsers_raise_only_qbxml_errors_for_any_input",
    "procore": "tests/security/test_fuzz_procore.py::"
    "test_hostile_procore_responses_raise_only_the_documented_error_tree",
}


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Fuzz each target with QBPROCORE_FUZZ_EXAMPLES inputs (default 100,000) and print counts.

    Not a default session (it takes a while). ``nox -s fuzz -- qbxml procore`` runs only the
    named targets (soap-wsgi, soap-asgi, qbxml, procore), e.g. one per shell to run in parallel.
    """
    session.install("-e", ".[test]")
    names = session.posargs or list(FUZZ_TARGETS)
    unknown = sorted(set(names) - set(FUZZ_TARGETS))
    if unknown:
        session.error(f"unknown fuzz targets {unknown}; choose from {sorted(FUZZ_TARGETS)}")
    env = {"QBPROCORE_FUZZ_EXAMPLES": os.environ.get("QBPROCORE_FUZZ_EXAMPLES", "100000")}
    # -s: the targets print their counts; no logging plugin: it would keep every log record
    # of 100,000 inputs in memory.
    session.run(
        "pytest",
        "-s",
        "-q",
        "-p",
        "no:logging",
        "-p",
        "no:cacheprovider",
        *(FUZZ_TARGETS[name] for name in names),
        env=env,
    )
