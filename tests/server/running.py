"""Running the real ``vestnik`` command in a subprocess, for end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.pgcluster import free_port

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 60

_SCRIPT = Path(sys.executable).parent / "vestnik"
# The console script when installed next to this interpreter, else the same CLI via -m.
VESTNIK = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server"]


def environment(**settings: str) -> dict[str, str]:
    """This process's environment minus any Vestnik configuration, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VESTNIK_")}
    # For the `-m server` fallback: the packages must import from any working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update({f"VESTNIK_{key.upper()}": value for key, value in settings.items()})
    return env


def vestnik(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VESTNIK, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


@contextmanager
def serving(cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Run ``vestnik serve`` until the block ends; yields the base URL once /healthz answers."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [*VESTNIK, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(process, base_url, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # uvicorn shuts down cleanly on SIGTERM, then re-raises the signal so the exit status says
    # how it ended; the log shows the lifespan's shutdown ran.
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete." in log.read_text()


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"vestnik serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"vestnik serve did not answer /healthz in time:\n{log.read_text()}")
