"""A private Dovecot IMAP server for tests, run as the test's own child process.

It listens on 127.0.0.1 only, on free ports: plain IMAP (STARTTLS offered when `tls`) and
IMAPS with a throw-away self-signed certificate. Started as root, its login and internal
processes run as `dovenull`/`dovecot` and the mail files belong to `nobody` (Dovecot refuses
mail access as uid 0); started as another user, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
PASSWORD = "desk-secret"
START_TIMEOUT_SECONDS = 15.0
_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


def dovecot_binary() -> str:
    """Dovecot's path; skips the test locally and fails it in CI when it is missing."""
    found = shutil.which("dovecot", path=f"/usr/sbin:/usr/local/sbin:{os.environ['PATH']}")
    if found:
        return found
    message = "dovecot not installed (apt-get install dovecot-imapd)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class DovecotServer:
    """One running server; each test takes its own account, so its own empty mailbox."""

    imap_port: int
    imaps_port: int
    cafile: Path
    log_path: Path
    passwd_dir: Path
    config_path: Path

    def account(self, user: str) -> Dovecot:
        # One passwd-file per user (args has %u): Dovecot caches a file it has read, so
        # adding lines to a shared one is not seen at once.
        path = self.passwd_dir / user
        path.write_text(f"{user}:{{PLAIN}}{PASSWORD}\n")
        path.chmod(0o644)  # read by the auth process, an unprivileged user
        return Dovecot(server=self, user=user)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass(frozen=True)
class Dovecot:
    """One account on the server, as the tests and the poller see it."""

    server: DovecotServer
    user: str
    password: str = PASSWORD

    @property
    def imap_port(self) -> int:
        return self.server.imap_port

    @property
    def imaps_port(self) -> int:
        return self.server.imaps_port

    def url(self, folder: str = "INBOX", *, scheme: str = "imap") -> str:
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        return f"{scheme}://{self.user}@{HOST}:{port}/{folder}"

    def ssl_context(self) -> ssl.SSLContext:
        """Verifies the server against the test's own certificate."""
        return ssl.create_default_context(cafile=str(self.server.cafile))

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A second session, as a person at the secretariat would have."""
        imap = imaplib.IMAP4(HOST, self.imap_port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, raw: bytes, *, folder: str = "INBOX", flags: str = "") -> None:
        with self.client() as imap:
            typ, data = imap.append(folder, f"({flags})" if flags else None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")

    def create_folder(self, folder: str) -> None:
        with self.client() as imap:
            imap.create(folder)

    def delete_folder(self, folder: str) -> None:
        with self.client() as imap:
            imap.delete(folder)

    def flags(self, folder: str = "INBOX") -> dict[int, frozenset[str]]:
        """UID -> flags of every mail in the folder, read without changing anything."""
        with self.client() as imap:
            imap.select(folder, readonly=True)
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS)")
        result: dict[int, frozenset[str]] = {}
        for line in data:
            uid = _UID.search(line) if isinstance(line, bytes) else None
            flags = _FLAGS.search(line) if isinstance(line, bytes) else None
            if uid and flags:
                result[int(uid.group(1))] = frozenset(flags.group(1).decode().split())
        return result

    def kick(self) -> None:
        """Drop every session of this account, as a server restart or a network cut would."""
        doveadm = shutil.which("doveadm", path=f"/usr/bin:/usr/sbin:{os.environ['PATH']}")
        if doveadm is None:
            pytest.skip("doveadm not installed (it comes with dovecot-core)")
        config = str(self.server.config_path)
        subprocess.run([doveadm, "-c", config, "kick", self.user], check=True, capture_output=True)

    def log(self) -> str:
        """The server log lines about this account."""
        marks = (f"user=<{self.user}>", f"imap({self.user})")
        lines = self.server.log().splitlines()
        return "\n".join(line for line in lines if any(mark in line for mark in marks))


@contextlib.contextmanager
def running_dovecot(*, tls: bool = True, capability: str = "") -> Iterator[DovecotServer]:
    """A server; `capability` replaces what it announces after login (e.g. without MOVE)."""
    binary = dovecot_binary()
    root = Path(tempfile.mkdtemp(prefix="dsr-dovecot-"))
    root.chmod(0o755)  # Dovecot's unprivileged processes must reach the files inside
    try:
        server = _configure(root, tls=tls, capability=capability)
        with _process(binary, root, server):
            yield server
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _configure(root: Path, *, tls: bool, capability: str) -> DovecotServer:
    imap_port, imaps_port = free_port(), free_port()
    mail = root / "mail"
    mail.mkdir()
    uid, gid, internal_user, login_user = _accounts()
    os.chown(mail, uid, gid)
    (root / "passwd.d").mkdir(mode=0o755)
    cafile = _write_certificate(root)
    (root / "dovecot.conf").write_text(
        _CONFIG.format(
            root=root,
            imap_port=imap_port,
            imaps_port=imaps_port,
            uid=uid,
            gid=gid,
            internal_user=internal_user,
            login_user=login_user,
            ssl="yes" if tls else "no",
        )
        + ("" if os.geteuid() == 0 else _UNPRIVILEGED.format(group=grp.getgrgid(gid).gr_name))
        + (f"imap_capability = {capability}\n" if capability else "")
    )
    return DovecotServer(
        imap_port=imap_port,
        imaps_port=imaps_port,
        cafile=cafile,
        log_path=root / "dovecot.log",
        passwd_dir=root / "passwd.d",
        config_path=root / "dovecot.conf",
    )


def _accounts() -> tuple[int, int, str, str]:
    """Mail uid/gid and the users Dovecot's internal and login processes run as."""
    if os.geteuid() != 0:
        me = getpass.getuser()
        return os.getuid(), os.getgid(), me, me
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid, "dovecot", "dovenull"


@contextlib.contextmanager
def _process(binary: str, root: Path, server: DovecotServer) -> Iterator[None]:
    output = (root / "stdout.log").open("wb")
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")], stdout=output, stderr=output
    )
    try:
        _wait_until_listening(process, server)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def _wait_until_listening(process: subprocess.Popen[bytes], server: DovecotServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (server.log_path.parent / "stdout.log").read_text(errors="replace")
            raise RuntimeError(
                f"dovecot exited with {process.returncode}:\n{output}\n{server.log()}"
            )
        try:
            with imaplib.IMAP4(HOST, server.imap_port, timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # polling a port, not waiting for an outcome
    raise RuntimeError(f"dovecot did not listen within {START_TIMEOUT_SECONDS} s:\n{server.log()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _write_certificate(root: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cafile = root / "cert.pem"
    cafile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile = root / "key.pem"
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    keyfile.chmod(0o600)
    return cafile


_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = dsr-test-{imap_port}
listen = 127.0.0.1
protocols = imap
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal_user}
default_login_user = {login_user}
auth_mechanisms = plain login
disable_plaintext_auth = no
ssl = {ssl}
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
passdb {{
  driver = passwd-file
  args = {root}/passwd.d/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
"""

# Unprivileged, Dovecot can neither chroot nor chown sockets to the stock `dovecot` group.
_UNPRIVILEGED = """\
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    group = {group}
  }}
}}
service imap-hibernate {{
  unix_listener imap-hibernate {{
    group = {group}
  }}
}}
service dict {{
  unix_listener dict {{
    group = {group}
  }}
}}
service dict-async {{
  unix_listener dict-async {{
    group = {group}
  }}
}}
"""
