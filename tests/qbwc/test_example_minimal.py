"""examples/qbwc_minimal.py, run as a subprocess and driven by FakeWebConnector over HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from qbprocore.testing import FakeQuickBooks, FakeWebConnector, QuickBooksAnswer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "qbwc_minimal.py"


def _class(text: str, name: str) -> str:
    match = re.search(rf"^class {name}:.*?(?=^\S)", text, flags=re.S | re.M)
    assert match is not None, name
    return match.group(0).rstrip()


def test_the_guide_tutorial_is_the_example() -> None:
    guide = (ROOT / "docs" / "guides" / "qbwc.md").read_text()
    assert _class(guide, "PrintVendors") == _class(EXAMPLE.read_text(), "PrintVendors")


def test_prints_every_vendor_name_as_pages_arrive() -> None:
    # Port 0: the OS picks a free port and the example says which on its first stderr line.
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, proc.kill)  # bounds every wait below
    watchdog.start()
    try:
        assert proc.stderr is not None
        err_first = proc.stderr.readline()
        assert err_first.startswith("serving http://127.0.0.1:"), err_first
        url = err_first.split()[1]
        assert url.endswith("/qbwc")
        assert httpx.get(f"{url}?wsdl", timeout=10).status_code == 200
        stdout = proc.stdout
        assert stdout is not None
        early: list[str] = []

        class Watching(FakeQuickBooks):
            def process(self, request: str | bytes) -> QuickBooksAnswer:
                if len(self.requests) == 1:
                    # Before QuickBooks answers page 2, page 1 must already be on stdout.
                    early.extend(stdout.readline().rstrip("\n") for _ in range(100))
                return super().process(request)

        qb = Watching()
        names = [f"Vendor {i:03d} & Sons" for i in range(250)]
        qb.add_vendors(names)
        qb.modify_vendor(qb.vendors[0].list_id, is_active=False)  # inactive ones count too
        with FakeWebConnector(url=url, username="demo", password="demo") as wc:
            result = wc.update(qb)
        assert result.status == "done"
        assert result.progress == [40, 80, 100]
        with FakeWebConnector(url=url, username="demo", password="wrong") as wc:
            assert wc.update(qb).status == "nvu"
    finally:
        proc.terminate()
        out, _err = proc.communicate(timeout=30)
        watchdog.cancel()
    assert early == names[:100]
    assert early + out.splitlines() == names
