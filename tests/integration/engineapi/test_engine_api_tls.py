"""The Engine API on TCP: only with TLS and a client certificate the admin's CA signed.

Debian's ``docker`` CLI talks to the host agent with ``DOCKER_TLS_VERIFY`` and
certificates made here with ``cryptography``; a client without a certificate,
one signed by another CA, and a plain-HTTP client are turned away, and a host
config asking for TCP without the TLS files is refused with one line.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.integration.conftest import error_line, set_host_config


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool = False, usage=None):  # noqa: ANN001
    now = datetime.datetime.now(datetime.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
    return b.sign(issuer_key, hashes.SHA256())


def _write(dirpath: Path, cert, key) -> None:  # noqa: ANN001
    dirpath.mkdir(parents=True, exist_ok=True)
    (dirpath / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (dirpath / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """ca.pem; server/, client/ (signed by the CA) and rogue/ (another CA's) with cert+key."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("wharf test CA", ca_key, "wharf test CA", ca_key, ca=True)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for who, usage in (
        ("server", ExtendedKeyUsageOID.SERVER_AUTH),
        ("client", ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(tmp_path / who, _cert(who, key, "wharf test CA", ca_key, usage=usage), key)
    other_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    rogue = _cert("rogue", key, "other CA", other_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    _write(tmp_path / "rogue", rogue, key)
    return tmp_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _docker_env(port: int, certs: Path | None) -> dict[str, str]:
    env = {**os.environ, "DOCKER_HOST": f"tcp://127.0.0.1:{port}", "DOCKER_CONFIG": "/nonexistent"}
    if certs is not None:
        env |= {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    return env


def _client_dir(pki: Path, who: str) -> Path:
    """A DOCKER_CERT_PATH: the CA that signed the server, and WHO's cert and key."""
    d = pki / f"as-{who}"
    d.mkdir()
    shutil.copy(pki / "ca.pem", d / "ca.pem")
    shutil.copy(pki / who / "cert.pem", d / "cert.pem")
    shutil.copy(pki / who / "key.pem", d / "key.pem")
    return d


@pytest.fixture
def tls_docker(
    wharf: Callable[..., subprocess.CompletedProcess], wharf_paths, pki: Path
) -> tuple[Callable[..., subprocess.CompletedProcess], int]:
    """The docker CLI over TCP with the client certificate, and the port the agent serves."""
    binary = shutil.which("docker")
    if binary is None:
        pytest.fail("the docker CLI is missing: apt-get install docker.io", pytrace=False)
    port = _free_port()
    set_host_config(
        wharf_paths,
        api_tcp={
            "listen": f"127.0.0.1:{port}",
            "tls_ca": str(pki / "ca.pem"),
            "tls_cert": str(pki / "server" / "cert.pem"),
            "tls_key": str(pki / "server" / "key.pem"),
        },
    )
    wharf("system", "api-socket")  # starts the agent, which opens the TCP door
    env = _docker_env(port, _client_dir(pki, "client"))

    def run(*args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [binary, *args], env=env, capture_output=True, text=True, timeout=60, **kw
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    return run, port


def _api_answer(port: int, ctx: ssl.SSLContext | None) -> bytes | None:
    """What a _ping over TCP gets back, through ``ctx`` if given; None if it was cut off."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            conn = ctx.wrap_socket(raw, server_hostname="127.0.0.1") if ctx else raw
            conn.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = conn.recv(4096)  # TLS 1.3: a refused certificate shows on the first read
    except (ssl.SSLError, ConnectionError):
        return None
    return answer if b"OK" in answer else None


def test_a_client_with_the_cas_certificate_runs_containers(tls_docker, wharf) -> None:
    docker, _port = tls_docker
    out = docker("version", "--format", "{{.Server.APIVersion}}").stdout
    assert out.strip() == "1.41"
    # attached run: the hijacked stream and the exit code cross the TLS relay
    proc = docker("run", "--rm", "busybox", "sh", "-c", "echo over-tls; exit 4", check=False)
    assert (proc.stdout, proc.returncode) == ("over-tls\n", 4)
    proc = docker("run", "-i", "--rm", "busybox", "cat", input="piped\n", check=False)
    assert (proc.stdout, proc.returncode) == ("piped\n", 0)
    docker("run", "-d", "--name", "tls1", "busybox", "sleep", "60")
    assert wharf("ps", "--format", "{{.Names}}").stdout.split() == ["tls1"]
    docker("rm", "-f", "tls1")


def test_clients_without_the_cas_certificate_are_turned_away(tls_docker, pki) -> None:
    docker, port = tls_docker
    binary = shutil.which("docker")
    rogue = subprocess.run(
        [binary, "version", "--format", "{{.Server.APIVersion}}"],
        env=_docker_env(port, _client_dir(pki, "rogue")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rogue.returncode != 0 and "1.41" not in rogue.stdout, rogue
    # no certificate at all: the handshake needs one
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    assert _api_answer(port, ctx) is None
    # plain HTTP on the TLS port gets no answer of the API
    assert _api_answer(port, None) is None
    # and the door still serves the right client afterwards
    assert docker("version", "--format", "{{.Server.APIVersion}}").stdout.strip() == "1.41"


def test_tcp_without_the_tls_files_is_refused_in_one_line(wharf, wharf_paths) -> None:
    set_host_config(wharf_paths, api_tcp={"listen": "127.0.0.1:2376"})
    try:
        out = wharf("ps", check=False)
    finally:
        set_host_config(wharf_paths, api_tcp=None)  # the root's clean-up reads the config too
    assert out.returncode != 0
    assert error_line(out).endswith(
        "api_tcp needs tls_ca, tls_cert, tls_key: the Engine API is served on TCP only "
        "with TLS and client certificates"
    ), out.stderr
