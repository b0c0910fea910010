"""The app (or a worker) as a real subprocess, for acceptance, API-contract and browser tests.

`LiveApp(..., frontend=False)` runs Reflex's backend only (API, executor, dispatcher; starts in
~3 s). Browser tests pass `frontend=True` (Vite build, ~10-30 s). Each instance has its own
data folder and port; stop it with `stop()` (SIGTERM) or crash it with `kill()` (SIGKILL).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_project(destination: Path) -> Path:
    """A copy of the project's source (no venv, build or data), to run a second app with a
    frontend build of its own beside the first."""
    ignore = shutil.ignore_patterns(".venv", ".web", ".data", ".git", "test-artifacts",
                                    "node_modules", "__pycache__", ".pytest_cache",
                                    ".ruff_cache", ".states", "*.egg-info")
    shutil.copytree(PROJECT_ROOT, destination, ignore=ignore)
    return destination


def base_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{venv_bin}:{env.get('PATH', '')}",
        REFLEX_USE_NPM="1",
        REFLEX_TELEMETRY_ENABLED="false",
        DATA_DIR=str(data_dir),
        SECRET_KEY="live-test-secret-key-long-enough-for-fernet",
        ALLOWED_NETWORKS="127.0.0.0/8",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


class LiveProcess:
    """A subprocess in its own process group, logging to a file in its data folder."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path,
                 cwd: Path = PROJECT_ROOT) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """A crash: SIGKILL to the whole process group, no clean-up of any kind."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if not self.alive():
            return self.process.returncode if self.process else None
        self.signal(signal.SIGTERM)
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class LiveApp(LiveProcess):
    def __init__(self, data_dir: Path, *, port: int | None = None, frontend: bool = False,
                 database_url: str | None = None, cwd: Path = PROJECT_ROOT,
                 **env: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.data_dir = data_dir
        args = [sys.executable, "-m", "reflex", "run", "--env", "prod",
                "--backend-port", str(self.port)]
        if frontend:
            args += ["--frontend-port", str(self.port)]
        else:
            args.append("--backend-only")
        extra = {"PORT": str(self.port), "PUBLIC_URL": f"http://127.0.0.1:{self.port}", **env}
        super().__init__(args, base_env(data_dir, database_url, **extra), data_dir / "app.log",
                         cwd=cwd)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def migrate_and_seed(self) -> None:
        subprocess.run([sys.executable, "-m", "app.cli", "seed-demo", "--password",
                        "demo-password"], cwd=PROJECT_ROOT, env=self.env, check=True,
                       capture_output=True)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT,
                              env=self.env, check=True, capture_output=True, text=True)

    def start(self) -> None:
        super().start()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the app exited during start-up:\n{self.log_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the app did not start in time:\n{self.log_text()[-3000:]}")


class LiveWorker(LiveProcess):
    def __init__(self, data_dir: Path, *, database_url: str | None = None, name: str = "worker",
                 **env: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__([sys.executable, "-m", "app.worker"],
                         base_env(data_dir, database_url, **env), data_dir / f"{name}.log")
