"""Registries for the image tests: Debian's docker-registry, a token server, a lying fake.

``RealRegistry`` runs ``/usr/bin/docker-registry serve`` on a free 127.0.0.1
port with its storage in a temp dir, open, with htpasswd basic auth, or with
token auth backed by ``TokenServer`` (a tiny realm issuing ES256 JWTs the
registry verifies against a self-signed certificate). ``FakeRegistry`` serves
one image and misbehaves on purpose (wrong bytes, truncated bodies, bad JSON).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

REGISTRY_BIN = "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A Docker-style token realm: checks basic credentials, grants what is asked."""

    def __init__(self, workdir: Path, users: dict[str, str], service: str = "wharf-test") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.users, self.service, self.issuer = users, service, "wharf-test-issuer"
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wharf test token signer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.requests: list[dict] = []
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                from urllib.parse import parse_qs, urlparse

                query = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
                    if server.users.get(u) != p:
                        self.send_response(401)
                        self.send_header("Content-Type", "application/json")
                        self.end_headers()
                        self.wfile.write(
                            b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                        )
                        return
                    user = u
                server.requests.append(
                    {
                        "user": user,
                        "scope": query.get("scope", []),
                        "service": query.get("service", []),
                    }
                )
                token = server.token(user, query.get("scope", []))
                body = json.dumps({"token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def token(self, user: str | None, scopes: list[str]) -> str:
        """Sign a JWT granting the scopes (pull only for anonymous users)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            granted = wanted if user else [a for a in wanted if a == "pull"]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": os.urandom(8).hex(),
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RealRegistry:
    """Debian's docker-registry on 127.0.0.1:<free port>, storage in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        auth: str = "none",
        users: dict[str, str] | None = None,
        tls: tuple[Path, Path] | None = None,
    ):
        self.workdir = workdir
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.users = users or {"alice": "s3cret"}
        self.token_server: TokenServer | None = None
        auth_yaml = ""
        if auth == "htpasswd":
            lines = [
                subprocess.run(
                    ["htpasswd", "-Bbn", u, p], check=True, capture_output=True, text=True
                ).stdout.strip()
                for u, p in self.users.items()
            ]
            (workdir / "htpasswd").write_text("\n".join(lines) + "\n")
            auth_yaml = (
                f"auth:\n  htpasswd:\n    realm: wharf-test\n    path: {workdir / 'htpasswd'}\n"
            )
        elif auth == "token":
            self.token_server = TokenServer(workdir, self.users)
            ts = self.token_server
            auth_yaml = (
                f"auth:\n  token:\n    realm: {ts.realm}\n    service: {ts.service}\n"
                f"    issuer: {ts.issuer}\n    rootcertbundle: {ts.cert_path}\n"
            )
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
            + (f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else "")
            + auth_yaml
        )
        self.log = open(workdir / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(workdir / 'registry.log').read_text()}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start within 15s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.token_server:
            self.token_server.close()


class FakeRegistry:
    """Serve one image (manifest, config, blobs) over HTTP, with chosen faults.

    ``faults`` maps a digest (or "manifest") to: "wrong-bytes" (same length,
    other content), "truncate" (close after half the promised body), "flaky"
    (HTTP 503 the first time), "hold" (send half the body, then the rest
    only once ``release`` is set: a pull caught in the middle), or raw bytes
    to send instead.
    """

    def __init__(
        self,
        manifest: bytes,
        blobs: dict[str, bytes],
        media_type: str = "application/vnd.docker.distribution.manifest.v2+json",
    ) -> None:
        self.manifest, self.blobs, self.media_type = manifest, blobs, media_type
        self.faults: dict[str, object] = {}
        self.hits: dict[str, int] = {}
        self.release = threading.Event()
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(
                self,
                code: int,
                body: bytes,
                ctype: str = "application/octet-stream",
                fault: object = None,
            ) -> None:
                length = len(body)
                if fault == "wrong-bytes":
                    body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault == "truncate":
                    self.wfile.write(body[: length // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "hold" and not fake.release.is_set():
                    self.wfile.write(body[: length // 2])
                    self.wfile.flush()
                    fake.release.wait()
                    body = body[length // 2 :]
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                key = "manifest" if "/manifests/" in path else path.rsplit("/", 1)[-1]
                fake.hits[key] = fake.hits.get(key, 0) + 1
                fault = fake.faults.get(key)
                if fault == "flaky" and fake.hits[key] == 1:
                    self._send(
                        503,
                        b'{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}',
                        "application/json",
                    )
                    return
                if path == "/v2/":
                    self._send(200, b"{}", "application/json")
                elif key == "manifest":
                    body = fault if isinstance(fault, bytes) else fake.manifest
                    self._send(200, body, fake.media_type, fault)
                elif key in fake.blobs:
                    body = fault if isinstance(fault, bytes) else fake.blobs[key]
                    self._send(200, body, fault=fault)
                else:
                    self._send(
                        404,
                        b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}',
                        "application/json",
                    )

            do_HEAD = do_GET  # noqa: N815

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @classmethod
    def for_layers(cls, layers: list[bytes], config_extra: dict | None = None) -> FakeRegistry:
        """Make a fake serving an image of the given gzip layers (diff ids computed)."""
        import gzip

        diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(b)).hexdigest() for b in layers]
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                **(config_extra or {}),
            }
        ).encode()
        blobs = {"sha256:" + hashlib.sha256(b).hexdigest(): b for b in [config, *layers]}
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "digest": "sha256:" + hashlib.sha256(b).hexdigest(),
                        "size": len(b),
                    }
                    for b in layers
                ],
            }
        ).encode()
        return cls(manifest, blobs)

    @classmethod
    def for_oci(cls, plain_layers: list[tuple[bytes, str]]) -> FakeRegistry:
        """Make a fake serving an OCI image; each plain tar is sent as none, gzip or zstd."""
        import gzip

        import zstandard

        packers = {
            "none": (lambda b: b, ""),
            "gzip": (gzip.compress, "+gzip"),
            "zstd": (zstandard.ZstdCompressor().compress, "+zstd"),
        }
        blobs_list = [(packers[c][0](tar), packers[c][1]) for tar, c in plain_layers]
        diff_ids = ["sha256:" + hashlib.sha256(tar).hexdigest() for tar, _ in plain_layers]
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
        ).encode()

        def desc(data: bytes, media_type: str) -> dict:
            return {
                "mediaType": media_type,
                "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                "size": len(data),
            }

        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": desc(config, "application/vnd.oci.image.config.v1+json"),
                "layers": [
                    desc(b, "application/vnd.oci.image.layer.v1.tar" + suffix)
                    for b, suffix in blobs_list
                ],
            }
        ).encode()
        blobs = {
            "sha256:" + hashlib.sha256(b).hexdigest(): b
            for b in [config, *(b for b, _ in blobs_list)]
        }
        return cls(manifest, blobs, "application/vnd.oci.image.manifest.v1+json")

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def make_tls(workdir: Path, hostname: str) -> tuple[Path, Path, Path]:
    """Make a private CA and a server certificate for ``hostname``; return (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def build(subject: str, key, issuer: str, issuer_key, ca: bool):  # noqa: ANN001
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            import ipaddress

            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(hostname), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("wharf test CA", ca_key, "wharf test CA", ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(hostname, key, "wharf test CA", ca_key, False)
    paths = workdir / "ca.crt", workdir / "server.crt", workdir / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
