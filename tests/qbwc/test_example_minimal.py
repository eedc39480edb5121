"""examples/qbwc_minimal.py, run as a subprocess and driven by FakeWebConnector over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from qbprocore.testing import FakeQuickBooks, FakeWebConnector

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "qbwc_minimal.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_prints_every_vendor_name_as_pages_arrive() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/qbwc"
    try:
        deadline = time.monotonic() + 30
        while True:  # wait until it listens (bounded)
            try:
                if httpx.get(f"{url}?wsdl", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the example did not start"
            time.sleep(0.05)
        qb = FakeQuickBooks()
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
        out, err = proc.communicate(timeout=30)
    assert out.splitlines() == names
    assert "serving" in err
