"""Benchmarks for qbprocore, run with ``nox -s bench`` (or ``python -m bench``)."""
