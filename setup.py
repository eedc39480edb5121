"""Build the optional C walk of `qbprocore.qbxml`; all other metadata is in pyproject.toml.

The extension (`qbprocore.qbxml._speedups`) makes typed parsing about twice as fast. Where it
can't be built (no C compiler, say) the package installs without it and parses in pure Python,
with the same results. ``QBPROCORE_NO_EXTENSIONS=1`` skips it on purpose.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError


class OptionalBuildExt(build_ext):
    """Build the extension when possible; otherwise say why and install pure Python."""

    def run(self) -> None:
        """Build every extension, or install without them when there is no compiler."""
        try:
            super().run()
        except (PlatformError, CCompilerError, ExecError, OSError) as exc:
            _skipped(exc)

    def build_extension(self, ext: Extension) -> None:
        """Build one extension, or leave it out when it doesn't compile."""
        try:
            super().build_extension(ext)
        except (CCompilerError, ExecError, PlatformError, OSError, ValueError) as exc:
            _skipped(exc)


def _skipped(exc: BaseException) -> None:
    print(
        f"qbprocore: the C speedup was not built ({exc}); qbXML parsing will use pure Python",
        file=sys.stderr,
    )


def _extensions() -> list[Extension]:
    if os.environ.get("QBPROCORE_NO_EXTENSIONS"):
        return []
    try:
        import lxml
    except ImportError:  # the build requirements list it; a build without isolation may lack it
        _skipped(ImportError("lxml is not installed in the build environment"))
        return []
    return [
        Extension(
            "qbprocore.qbxml._speedups",
            ["src/qbprocore/qbxml/_speedups.c"],
            include_dirs=lxml.get_include(),
        )
    ]


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
