"""The benchmark's own PostgreSQL 15 cluster, kept between runs so the data is generated once.

Like the test suite's throwaway cluster (tests/pgcluster.py), it runs from the binaries on
the machine, on loopback, and as the ``postgres`` user when we are root (PostgreSQL refuses to
run as root). Unlike it, the data directory persists in a cache directory: generating a million
articles takes minutes, starting the cluster again takes a second. ``pg_stat_statements`` is
preloaded, which is how the runner counts SQL statements per request.

Durability is off (fsync, synchronous_commit): the data can always be generated again.
"""

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "100",
    "shared_buffers": "'512MB'",
    "effective_cache_size": "'4GB'",
    "work_mem": "'16MB'",
    "maintenance_work_mem": "'512MB'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "'4GB'",
    "checkpoint_timeout": "'30min'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "top",
    # Statements that do work, not BEGIN/COMMIT/SET: what "SQL statements per request" counts.
    "pg_stat_statements.track_utility": "off",
    "pg_stat_statements.max": "5000",
    "log_min_messages": "warning",
}


class ClusterError(RuntimeError):
    pass


def bindir() -> Path:
    """initdb/pg_ctl from ``pg_config --bindir`` (or Debian's /usr/lib/postgresql/15/bin)."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ClusterError("PostgreSQL 15 server binaries not found: apt-get install postgresql-15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Cluster:
    """A cluster in ``root`` (created on first use), started on a free port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.bin = bindir()
        self.port = 0
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres")
            except KeyError:
                raise ClusterError("running as root needs a 'postgres' user") from None

    def _run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        user = self._user
        if user is not None:
            env |= {"HOME": user.pw_dir, "USER": "postgres", "LOGNAME": "postgres"}
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=self.root,
            env=env,
            user=None if user is None else user.pw_uid,
            group=None if user is None else user.pw_gid,
            extra_groups=None if user is None else [],
            capture_output=True,
            text=True,
            check=False,
        )

    def ensure(self) -> None:
        """initdb unless the data directory exists."""
        if (self.data / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        shutil.rmtree(self.data, ignore_errors=True)
        result = self._run(
            self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        if result.returncode != 0:
            raise ClusterError(f"initdb failed:\n{result.stdout}{result.stderr}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# Vestnik benchmark cluster (rewritten at each start)\n")
            conf.write("include_if_exists = 'bench.conf'\n")

    def _write_settings(self) -> None:
        lines = [f"{key} = {value}" for key, value in SETTINGS.items()]
        # The Unix socket in the cluster's directory, never /var/run/postgresql.
        lines.append(f"unix_socket_directories = '{self.root}'")
        (self.data / "bench.conf").write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.ensure()
        self._write_settings()
        if (self.data / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w")
        self.port = free_port()
        result = self._run(
            self.bin / "pg_ctl", "start", "-D", self.data, "-l", self.root / "server.log",
            "-o", f"-p {self.port}", "-w", "-t", "120",
        )  # fmt: skip
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-3000:]
            raise ClusterError(f"pg_ctl start failed:\n{result.stdout}{result.stderr}\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(self.bin / "pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "120")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])
