"""A throwaway PostgreSQL cluster for the test suite, built from the binaries on the machine.

Every database test runs on SQLite and on PostgreSQL; the suite starts its own cluster instead of
relying on a system service, so it needs no setup beyond the PostgreSQL server package.

PostgreSQL refuses to run as root. When we are root (CI, containers) the cluster's files and
processes belong to the ``postgres`` system user; the Debian package creates that user. The
server listens on 127.0.0.1 only, and its Unix socket lives in the cluster's own directory so it
never meets a system cluster's lock files in /var/run/postgresql.

A cluster can also get a streaming replica (``start_replica``: pg_basebackup, then a hot standby
on its own port), for tests of reads routed to replicas; ``wait_for_replay`` waits until the
replica has replayed everything the primary wrote.

No pytest import: ``python tests/pgcluster.py`` is a smoke test of the module on its own.
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["PostgresCluster", "PostgresClusterError", "find_bindir", "free_port"]

ShutdownMode = Literal["smart", "fast", "immediate"]

_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
# psql for the replay checks: no event loop needed, so it works inside async tests too.
_REPLICA_BINARIES = ("pg_basebackup", "psql")
_SERVER_SETTINGS = {
    # Durability is worthless for a cluster that lives as long as one test run.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # Several engines with pools, plus uvicorn subprocesses in end-to-end tests.
    "max_connections": "200",
    "listen_addresses": "'127.0.0.1'",
    # Streaming replicas (start_replica); wal_level=replica and hot_standby=on are defaults.
    "max_wal_senders": "10",
}
# initdb -A trust writes this line already; start_replica makes sure it is there.
_REPLICATION_HBA = "host replication all 127.0.0.1/32 trust"
# The Unix socket path ("<dir>/.s.PGSQL.<port>") must fit in sockaddr_un.sun_path.
_MAX_SOCKET_PATH = 107
_INITDB_OPTIONS = ("-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions")
_START_ATTEMPTS = 3
_LOG_TAIL_LINES = 40
_REPLAY_POLL_SECONDS = 0.05


class PostgresClusterError(RuntimeError):
    """A step of setting up or running the cluster failed; the message carries its output."""


def find_bindir() -> Path | None:
    """Find the directory holding initdb, pg_ctl and postgres, or None if there is none.

    Tries, in order: ``initdb`` on PATH (symlinks resolved, so /usr/local/bin/initdb leads to the
    real bindir with psql and createdb next to it), ``pg_config --bindir`` (on Debian this is
    libpq-dev's and may name /usr/bin, which has no initdb, hence the check), and the newest
    /usr/lib/postgresql/<major>/bin.
    """
    candidates: list[Path] = []
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    if pg_config := shutil.which("pg_config"):
        try:
            bindir = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            if bindir:
                candidates.append(Path(bindir))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.isdigit()]
        candidates += [p / "bin" for p in sorted(versions, key=lambda p: int(p.name), reverse=True)]
    for candidate in candidates:
        if all(os.access(candidate / name, os.X_OK) for name in _REQUIRED_BINARIES):
            return candidate
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port nobody listens on (racy, hence the retries in ``start``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class _Owner:
    """Who runs the server: ``postgres`` when we are root, else ourselves (all fields None)."""

    uid: int | None = None
    gid: int | None = None
    home: str | None = None

    @classmethod
    def for_current_process(cls) -> "_Owner":
        if os.geteuid() != 0:
            return cls()
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresClusterError(
                "running as root, but there is no 'postgres' user to own the cluster "
                "(installing the postgresql package creates it)"
            ) from None
        return cls(uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir)

    def run(
        self, args: Sequence[str | Path], *, cwd: Path, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a command as this owner; output is captured, the exit status is not checked.

        subprocess drops privileges itself (setgid, setgroups([]), setuid), which is what
        ``runuser -u postgres --`` would do, without depending on util-linux or PAM.
        """
        env = _clean_environment()
        if self.home is not None:
            env |= {"HOME": self.home, "USER": "postgres", "LOGNAME": "postgres"}
        return subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd,
            env=env,
            user=self.uid,
            group=self.gid,
            extra_groups=None if self.uid is None else [],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _clean_environment() -> dict[str, str]:
    """Our environment without PG* variables, which would point clients at another server."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _teardown(pg_ctl: Path, owner: _Owner, root: Path) -> None:
    """Kill the server if it runs and delete the cluster directory.

    A module function, so the ``weakref.finalize`` calling it holds no reference to the cluster.
    """
    data = root / "data"
    if (data / "postmaster.pid").exists():
        owner.run([pg_ctl, "stop", "-D", data, "-m", "immediate", "-w", "-t", "60"], cwd=root)
    shutil.rmtree(root, ignore_errors=True)


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temporary directory on a free loopback port.

    Usage::

        cluster = PostgresCluster()
        cluster.start()
        url = cluster.create_database("vestnik_test")  # postgresql+asyncpg://...
        ...
        cluster.stop()

    or ``with PostgresCluster() as cluster: ...``. ``stop_server``/``start_server`` stop and
    start the server on the same port keeping the data, for tests of a database outage. If the
    owner forgets ``stop``, the server is killed and the directory removed at interpreter exit.

    Args:
        base_dir: where to create the cluster's directory; the system temp dir by default. When
            running as root, base_dir and all its ancestors must be traversable by ``postgres``
            (pytest's /tmp/pytest-of-root is not). Keep it short: the Unix socket lives there.
        bindir: the PostgreSQL binaries; ``find_bindir()`` by default.
    """

    host: str = "127.0.0.1"

    def __init__(self, base_dir: Path | None = None, *, bindir: Path | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise PostgresClusterError(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH, via "
                "pg_config --bindir or in /usr/lib/postgresql/*/bin; install postgresql-15"
            )
        self.bindir: Path = found
        self.base_dir = base_dir
        self.port: int = 0
        self.locale: str | None = None
        self._owner = _Owner.for_current_process()
        self._root: Path | None = None
        self._running = False
        # Set on a replica made by start_replica: the cluster it streams from.
        self.primary: PostgresCluster | None = None
        self._finalizer: weakref.finalize[[Path, _Owner, Path], PostgresCluster] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Create the cluster (initdb) and start the server on a free port."""
        if self._root is not None:
            raise PostgresClusterError(f"cluster already started in {self._root}")
        self._root = self._make_root()
        self._finalizer = weakref.finalize(
            self, _teardown, self.bindir / "pg_ctl", self._owner, self._root
        )
        try:
            self._initdb()
            self._start_on_free_port()
        except BaseException:
            self.stop()
            raise

    def start_replica(self, timeout: float = 60) -> "PostgresCluster":
        """Make a streaming replica of this running cluster and start it on a free port.

        ``pg_basebackup -R -X stream`` copies the data directory and writes the standby
        settings (``standby.signal``, ``primary_conninfo``); the copy gets a Unix socket
        directory of its own. The replica is a hot standby: read-only queries, no writes. It
        answers once it is consistent; call ``wait_for_replay`` before reading what the
        primary wrote. Stop it with ``stop()`` like any cluster.
        """
        root = self._require_root()
        if not self._running:
            raise PostgresClusterError("start the primary before making a replica of it")
        missing = [name for name in _REPLICA_BINARIES if not (self.bindir / name).exists()]
        if missing:
            raise PostgresClusterError(f"{', '.join(missing)} not found in {self.bindir}")
        self._allow_replication(root / "data")
        replica = PostgresCluster(self.base_dir, bindir=self.bindir)
        replica.primary = self
        replica._root = replica._make_root()
        replica._finalizer = weakref.finalize(
            replica, _teardown, self.bindir / "pg_ctl", replica._owner, replica._root
        )
        try:
            data = replica._root / "data"
            basebackup: list[str | Path] = [
                self.bindir / "pg_basebackup",
                *("-D", data, "-R", "-X", "stream", "-c", "fast", "--no-sync"),
                *("-h", self.host, "-p", str(self.port), "-U", "postgres"),
            ]
            result = replica._owner.run(basebackup, cwd=replica._root, timeout=timeout)
            if result.returncode != 0:
                raise PostgresClusterError(
                    f"pg_basebackup from {self.host}:{self.port} failed "
                    f"(exit {result.returncode}):\n{result.stdout}{result.stderr}"
                )
            replica.locale = self.locale
            # The copied postgresql.conf names the primary's socket directory; later lines win.
            socket_directory = _quote(replica._socket_directory())
            self._append_settings(
                data / "postgresql.conf", {"unix_socket_directories": socket_directory}
            )
            replica._start_on_free_port()
        except BaseException:
            replica.stop()
            raise
        return replica

    def wait_for_replay(self, timeout: float = 30) -> None:
        """On a replica: wait until it has replayed all WAL its primary has written so far.

        Compares the primary's WAL insert position, read once now, with the replica's
        ``pg_last_wal_replay_lsn()``, so a commit made before the call is visible after it.
        The insert position, not ``pg_current_wal_lsn()`` (the write position): with
        ``synchronous_commit=off`` a commit may still sit in WAL buffers, not yet written.
        """
        if self.primary is None:
            raise PostgresClusterError("wait_for_replay is for replicas (made by start_replica)")
        target = self.primary.sql("SELECT pg_current_wal_insert_lsn()")
        check = (
            "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() IS NOT NULL "
            f"AND pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        )
        deadline = time.monotonic() + timeout
        while True:
            # A replica waiting to reconnect to a restarted primary refuses nothing: it answers.
            if self.sql(check) == "t":
                return
            if time.monotonic() >= deadline:
                replayed = self.sql("SELECT pg_last_wal_replay_lsn()")
                raise PostgresClusterError(
                    f"replica on port {self.port} replayed up to {replayed}, not {target}, "
                    f"within {timeout:g} s\n--- last lines of {self.log_path} ---\n"
                    f"{self.log_tail()}"
                )
            time.sleep(_REPLAY_POLL_SECONDS)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql and return its unaligned, tuples-only output."""
        self._require_root()
        result = subprocess.run(
            [
                str(self.bindir / "psql"),
                *("-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"),
                *("-h", self.host, "-p", str(self.port), "-U", "postgres", "-d", database),
                *("-c", statement),
            ],
            env=_clean_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresClusterError(f"psql {statement!r} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def stop(self) -> None:
        """Kill the server and delete the cluster directory. Safe to call twice."""
        if self._finalizer is not None:
            self._finalizer()  # runs _teardown at most once
        self._finalizer = None
        self._root = None
        self._running = False

    def _start_on_free_port(self) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            self.port = free_port(self.host)
            try:
                self.start_server()
                return
            except PostgresClusterError as error:
                # Someone took the port between free_port() and the bind: pick another.
                if attempt == _START_ATTEMPTS or "could not bind" not in str(error):
                    raise

    def start_server(self) -> None:
        """Start the server (again) on ``self.port``, keeping the data."""
        root = self._require_root()
        data, log = root / "data", self.log_path
        # The port is the only server option on the command line: it has no spaces to quote.
        pg_ctl: list[str | Path] = [
            self.bindir / "pg_ctl",
            "start",
            "-D",
            data,
            "-l",
            log,
            "-o",
            f"-p {self.port}",
        ]
        result = self._owner.run([*pg_ctl, "-w", "-t", "60"], cwd=root)
        if result.returncode != 0:
            raise PostgresClusterError(
                f"pg_ctl start on {self.host}:{self.port} failed "
                f"(exit {result.returncode}):\n{result.stdout}{result.stderr}\n"
                f"--- last lines of {self.log_path} ---\n{self.log_tail()}"
            )
        self._running = True

    def stop_server(self, mode: ShutdownMode = "fast") -> None:
        """Stop the server, keeping the data; ``mode="immediate"`` simulates a crash."""
        root = self._require_root()
        result = self._owner.run(
            [self.bindir / "pg_ctl", "stop", "-D", root / "data", "-m", mode, "-w", "-t", "60"],
            cwd=root,
        )
        if result.returncode != 0:
            raise PostgresClusterError(
                f"pg_ctl stop failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
        self._running = False

    def restart(self, mode: ShutdownMode = "fast") -> None:
        """Stop and start the server on the same port."""
        self.stop_server(mode)
        self.start_server()

    @property
    def running(self) -> bool:
        return self._running

    # -- databases ---------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create a database and return its async SQLAlchemy URL."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise ValueError(f"not a plain identifier: {name!r}")
        self._require_root()
        createdb = self.bindir / "createdb"
        # createdb is a client: it needs no particular user, trust auth lets anyone in.
        result = subprocess.run(
            [str(createdb), "-h", self.host, "-p", str(self.port), "-U", "postgres", name],
            env=_clean_environment(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresClusterError(f"createdb {name} failed: {result.stderr.strip()}")
        return self.url(name)

    def url(self, database: str = "postgres") -> str:
        """The async SQLAlchemy URL of a database (plain asyncpg wants it without '+asyncpg')."""
        return f"postgresql+asyncpg://postgres@{self.host}:{self.port}/{database}"

    # -- diagnostics -------------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        return self._require_root() / "server.log"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as error:
            return f"(no server log: {error})"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> "PostgresCluster":
        if self._root is None:  # a replica from start_replica is running already
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"PostgresCluster(root={self._root}, port={self.port}, running={self._running})"

    # -- internals ---------------------------------------------------------------------------

    def _require_root(self) -> Path:
        if self._root is None:
            raise PostgresClusterError("cluster not started")
        return self._root

    def _make_root(self) -> Path:
        root = Path(tempfile.mkdtemp(prefix="vestnik-pg-", dir=self.base_dir))
        if self._owner.uid is not None and self._owner.gid is not None:
            os.chown(root, self._owner.uid, self._owner.gid)
            # mkdtemp's parent is /tmp (sticky, world-traversable) by default; a base_dir we own
            # may be 0700, so let others through it (through, not list or write).
            parent = root.parent
            if parent.stat().st_uid == os.geteuid():
                parent.chmod(parent.stat().st_mode | 0o001)
        return root

    def _socket_directory(self) -> str:
        root = self._require_root()
        if len(f"{root}/.s.PGSQL.65535") > _MAX_SOCKET_PATH:
            return ""  # too long for a Unix socket: TCP only (pg_ctl -w does not need one)
        return str(root)

    def _initdb(self) -> None:
        """initdb, preferring C.UTF-8: under plain C, lower() and ILIKE ignore Cyrillic."""
        root = self._require_root()
        data = root / "data"
        for locale in ("C.UTF-8", "C"):
            initdb: list[str | Path] = [
                self.bindir / "initdb",
                "-D",
                data,
                f"--locale={locale}",
                *_INITDB_OPTIONS,
            ]
            result = self._owner.run(initdb, cwd=root)
            if result.returncode == 0:
                self.locale = locale
                break
            shutil.rmtree(data, ignore_errors=True)
            if "invalid locale" not in result.stderr:
                break
        if self.locale is None:
            hint = ""
            if self._owner.uid is not None and "Permission denied" in result.stderr:
                hint = f"\nAs root: every directory above {root} must be traversable by postgres."
            raise PostgresClusterError(f"initdb failed:\n{result.stdout}{result.stderr}{hint}")
        self._append_settings(
            data / "postgresql.conf",
            _SERVER_SETTINGS | {"unix_socket_directories": _quote(self._socket_directory())},
        )

    def _allow_replication(self, data: Path) -> None:
        """Let replication connections in from 127.0.0.1, if pg_hba.conf does not already."""
        hba = data / "pg_hba.conf"
        rules = [line.split() for line in hba.read_text().splitlines()]
        if _REPLICATION_HBA.split() in rules:
            return
        with hba.open("a") as file:  # appending keeps the file's owner (postgres)
            file.write(f"\n# Vestnik test cluster: streaming replicas\n{_REPLICATION_HBA}\n")
        result = self._owner.run([self.bindir / "pg_ctl", "reload", "-D", data], cwd=data.parent)
        if result.returncode != 0:
            raise PostgresClusterError(f"pg_ctl reload failed:\n{result.stdout}{result.stderr}")

    @staticmethod
    def _append_settings(conf: Path, settings: Mapping[str, str]) -> None:
        # Appending keeps the file's owner (postgres); later lines win over initdb's.
        lines = [f"{key} = {value}" for key, value in settings.items()]
        with conf.open("a") as file:
            file.write("\n# Vestnik test cluster\n" + "\n".join(lines) + "\n")


def _quote(value: str) -> str:
    """A postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


if __name__ == "__main__":
    began = time.perf_counter()
    with PostgresCluster() as smoke:
        started = time.perf_counter()
        print(f"started in {started - began:.2f}s: {smoke!r}, locale {smoke.locale}")
        print(smoke.create_database("vestnik_smoke"))
        smoke.restart()
        print(f"restarted in {time.perf_counter() - started:.2f}s on port {smoke.port}")
        replicated = time.perf_counter()
        with smoke.start_replica() as standby:
            smoke.sql("CREATE TABLE replicated AS SELECT 42 AS answer", "vestnik_smoke")
            standby.wait_for_replay()
            answer = standby.sql("SELECT answer FROM replicated", "vestnik_smoke")
            print(f"replica on port {standby.port} answered {answer} after ", end="")
            print(f"{time.perf_counter() - replicated:.2f}s")
    print(f"stopped and removed; total {time.perf_counter() - began:.2f}s")
