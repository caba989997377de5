"""PostgreSQL for tests: a throwaway database on whatever server this machine offers.

:func:`throwaway_database` finds a server (``POCKETFLOW_TEST_POSTGRES``, a DSN, when
set; else one listening on 127.0.0.1:5432; else one started from the installed
PostgreSQL binaries in a temp folder, on a free port, as the ``postgres`` user when run
as root), creates a database, yields its URL and drops it at the end; without any
server it skips the test with the reason (and fails it when the variable names a
server that cannot be used). :func:`own_server` starts a server of the
caller's own, which a test may crash and restart. For pytest fixtures (this module
imports pytest); the plugin's own tests use them through their conftest.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

ENV_DSN = "POCKETFLOW_TEST_POSTGRES"


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class OwnServer:
    """A PostgreSQL server this session started, which a test may crash and restart."""

    url: str
    pg_ctl: list[str]
    options: str
    log: Path

    def crash_and_restart(self) -> None:
        """Stop at once, as a crash does (no checkpoint), then start again."""
        subprocess.run([*self.pg_ctl, "-m", "immediate", "stop"], check=True, capture_output=True)
        self.start()

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        subprocess.run(
            [*self.pg_ctl, "-w", "-l", str(self.log), "-o", self.options, "start"],
            check=True, capture_output=True,
        )  # fmt: skip


@contextlib.contextmanager
def own_server() -> Iterator[OwnServer]:
    """Start a PostgreSQL server from the installed binaries."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or [
        path for path in [shutil.which("initdb")] if path
    ]
    if not found:
        pytest.skip(
            f"No PostgreSQL to test against: set {ENV_DSN} to a DSN, run a server on "
            f"127.0.0.1:5432, or install the PostgreSQL server binaries (initdb, pg_ctl)."
        )
    bin_dir = Path(found[-1]).parent
    folder = Path(tempfile.mkdtemp(prefix="pocketflow-pg-"))
    data, port = folder / "data", _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("Running as root and there is no 'postgres' user to run initdb as.")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    server = OwnServer(
        url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        pg_ctl=[*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)],
        options=f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        log=folder / "log",
    )
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
             "--auth=trust", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        server.start()
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"Could not start PostgreSQL from {bin_dir}: {error.stderr.decode()[-500:]}")
    try:
        yield server
    finally:
        subprocess.run([*server.pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _url(admin_dsn: str, database: str) -> str:
    """A postgresql:// URL for ``database`` on the admin DSN's server."""
    parts = conninfo_to_dict(admin_dsn)
    user = quote(str(parts.get("user") or "postgres"))
    password = parts.get("password")
    auth = f"{user}:{quote(str(password))}" if password else user
    host = parts.get("host") or "127.0.0.1"
    port = parts.get("port") or 5432
    return f"postgresql://{auth}@{host}:{port}/{database}"


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database on the machine's PostgreSQL; yields its URL, drops it after."""
    with contextlib.ExitStack() as stack:
        admin = os.environ.get(ENV_DSN)
        if not admin:
            if _answers("127.0.0.1", 5432):
                admin = "postgresql://postgres@127.0.0.1:5432/postgres"
            else:
                admin = stack.enter_context(own_server()).url
        database = f"pocketflow_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"CREATE DATABASE {database}")
        except psycopg.OperationalError as error:
            if os.environ.get(ENV_DSN):  # asked for by name: not reaching it is a failure
                pytest.fail(f"{ENV_DSN} names a PostgreSQL that cannot be used: {error}")
            pytest.skip(f"PostgreSQL on 127.0.0.1:5432 refused us: {error}")
        try:
            yield _url(admin, database)
        finally:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
