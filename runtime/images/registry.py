"""Talk to registries (Registry HTTP API v2 / OCI distribution): pull, push, login.

Imported only by the commands that need the network (it loads httpx).

Pull: manifest (a list/index picks this host's platform), config, then the
layers concurrently; every blob is checked against its digest and size while
it streams into the operation's staging dir, every layer against its diff id
while it unpacks, and only then is anything published (see ``store``).
Push: for each blob, skip it if the registry has it, else try a cross-repository
mount, else upload it; then put the manifest.

Plain HTTP is used for ``localhost``, ``127.0.0.0/8``, ``::1`` and the host
configuration's ``insecure_registries`` (after trying HTTPS without
verification), like Docker's insecure-registries.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from runtime.config import Paths
from runtime.errors import AuthenticationError, ImageNotFound, InvalidArgument, RegistryError
from runtime.images import manifest as mf
from runtime.images.auth import Challenge, CredentialStore, parse_challenge
from runtime.images.progress import Progress, ProgressFn, ignore, throttled
from runtime.images.reference import Reference, parse_reference
from runtime.images.store import (
    Image,
    ImageStore,
    StagedLayer,
    Staging,
    chain_ids,
    host_platform,
)

RETRIES = 3
MAX_MANIFEST = mf.MAX_MANIFEST
MAX_CONFIG = mf.MAX_CONFIG
CHUNK = 1 << 20


class RegistryNotFound(RegistryError, ImageNotFound):
    """The registry has no such repository, tag or blob."""

    kind = "not_found"


class _Cancelled(Exception):
    """Another layer of the same pull failed; stop this one."""


def is_insecure(host: str, paths: Paths) -> bool:
    """Tell whether plain HTTP is allowed for a registry host (loopback or configured)."""
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    hostname = hostname.strip("[]")
    if hostname == "localhost":
        return True
    try:
        addr = ipaddress.ip_address(hostname)
    except ValueError:
        addr = None
    if addr is not None and addr.is_loopback:
        return True
    for entry in paths.config.insecure_registries:
        if entry in (host, hostname):
            return True
        if addr is not None and "/" in entry:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def tls_context(host: str, paths: Paths) -> ssl.SSLContext:
    """Trust the system's and certifi's roots plus a registry's own CA, like Docker's certs.d.

    ``$WHARF_ROOT/certs.d/<host[:port]>/`` (or ``/etc/docker/certs.d/…``): ``*.crt``
    are CA certificates, ``NAME.cert`` + ``NAME.key`` a client certificate.
    """
    import certifi

    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=certifi.where())
    for base in (paths.root / "certs.d", Path("/etc/docker/certs.d")):
        folder = base / host
        if not folder.is_dir():
            continue
        try:
            for ca in sorted(folder.glob("*.crt")):
                ctx.load_verify_locations(cafile=str(ca))
            for cert in sorted(folder.glob("*.cert")):
                ctx.load_cert_chain(str(cert), str(cert.with_suffix(".key")))
        except (OSError, ssl.SSLError) as exc:
            raise InvalidArgument(f"registry certificates in {folder}: {exc}") from exc
    return ctx


def unreachable(exc: httpx.TransportError, method: str, url: str) -> str:
    """Say why a registry could not be reached as Docker does, in one line.

    ``Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection
    refused`` rather than httpx's ``[Errno 111] Connection refused``.
    """
    host_port = httpx.URL(url).netloc.decode()
    host = httpx.URL(url).host
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "connection refused" in low:
        why = f"dial tcp {host_port}: connect: connection refused"
    elif "network is unreachable" in low:
        why = f"dial tcp {host_port}: connect: network is unreachable"
    elif any(
        s in low
        for s in ("name or service not known", "temporary failure in name resolution", "no address")
    ):
        why = f"dial tcp: lookup {host}: no such host"
    elif isinstance(exc, httpx.TimeoutException):
        why = f"dial tcp {host_port}: i/o timeout"
    else:
        why = text.splitlines()[0] if text else type(exc).__name__
    return f'{method.title()} "{url}": {why}'


def _error_message(resp: httpx.Response) -> tuple[str, str | None]:
    """Return the registry's own message (and code) from an error response."""
    try:
        body = json.loads(resp.read() or b"{}")
    except (ValueError, httpx.HTTPError):
        body = {}
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = str(first.get("code") or "")
        msg = str(first.get("message") or code.lower().replace("_", " "))
        return (f"{code.lower().replace('_', ' ')}: {msg}" if code else msg), code or None
    reason = resp.reason_phrase or ""
    return f"{resp.status_code} {reason}".strip(), None


class Transport:
    """HTTP to one registry host: scheme choice, auth challenges, retries."""

    def __init__(self, host: str, paths: Paths, credentials: tuple[str, str] | None = None) -> None:
        self.host = host
        self.insecure = is_insecure(host, paths)
        creds = credentials or CredentialStore(paths).get(host)
        self.credentials = creds
        self.client = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=15.0),
            follow_redirects=True,
            verify=False if self.insecure else tls_context(host, paths),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            headers={"User-Agent": "wharf/0.1"},
        )
        self._base: str | None = None
        self._tokens: dict[str, str] = {}
        self._basic = False
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    @property
    def base(self) -> str:
        """Return ``https://host`` or, for an insecure registry without TLS, ``http://host``."""
        with self._lock:
            if self._base is None:
                self._base = f"https://{self.host}"
                if self.insecure:
                    try:
                        self.client.get(f"https://{self.host}/v2/", timeout=5.0).close()
                    except httpx.TransportError:
                        self._base = f"http://{self.host}"
            return self._base

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def _auth_header(self, scope: str) -> dict[str, str]:
        if scope in self._tokens:
            return {"Authorization": f"Bearer {self._tokens[scope]}"}
        if self._basic and self.credentials:
            user, password = self.credentials
            raw = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {raw}"}
        return {}

    def _authenticate(self, challenge: Challenge | None, scope: str) -> None:
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise AuthenticationError(
                f"{self.host}: authentication required with an unsupported challenge", status=401
            )
        if challenge.scheme == "basic":
            if not self.credentials:
                raise AuthenticationError(
                    f"{self.host}: authentication required (run: wharf login {self.host})",
                    status=401,
                )
            self._basic = True
            return
        realm = challenge.params.get("realm")
        if not realm:
            raise AuthenticationError(f"{self.host}: bearer challenge without a realm", status=401)
        params: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            params.append(("service", challenge.params["service"]))
        params += [("scope", one) for one in scope.split()]
        auth = httpx.BasicAuth(*self.credentials) if self.credentials else None
        try:
            resp = self.client.get(realm, params=params, auth=auth)
        except httpx.TransportError as exc:
            raise RegistryError(unreachable(exc, "GET", realm)) from exc
        if resp.status_code != 200:
            msg, code = _error_message(resp)
            cls = AuthenticationError if resp.status_code in (401, 403) else RegistryError
            raise cls(f"{self.host}: token request refused: {msg}", resp.status_code, code)
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise AuthenticationError(f"{self.host}: token server sent no token", 401)
        self._tokens[scope] = token

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        what: str,
        headers: dict[str, str] | None = None,
        body: Callable[[], bytes | Iterator[bytes]] | None = None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
        not_found_ok: bool = False,
    ) -> httpx.Response:
        """Send one request with auth and retries; raise the registry's error unless ``ok``."""
        authed = False
        attempt = 0
        while True:
            req_headers = dict(headers or {})
            req_headers.update(self._auth_header(scope))
            request = self.client.build_request(
                method, self.url(path), headers=req_headers, content=body() if body else None
            )
            try:
                resp = self.client.send(request, stream=stream)
            except httpx.TransportError as exc:
                attempt += 1
                if attempt >= RETRIES or "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise RegistryError(unreachable(exc, method, str(request.url))) from exc
                time.sleep(0.2 * 2**attempt)
                continue
            if resp.status_code == 401 and not authed:
                challenge = parse_challenge(resp.headers.get("www-authenticate", ""))
                resp.close()
                self._authenticate(challenge, scope)
                authed = True
                continue
            if (
                resp.status_code in (429, 500, 502, 503, 504)
                and attempt + 1 < RETRIES
                and method in ("GET", "HEAD")
            ):
                resp.close()
                attempt += 1
                time.sleep(0.2 * 2**attempt)
                continue
            if resp.status_code in ok or (not_found_ok and resp.status_code == 404):
                return resp
            msg, code = _error_message(resp)
            resp.close()
            if resp.status_code in (401, 403):
                raise AuthenticationError(f"{what}: {msg}", resp.status_code, code)
            if resp.status_code == 404:
                raise RegistryNotFound(f"{what}: not found: {msg}", resp.status_code, code)
            raise RegistryError(f"{what}: {msg}", resp.status_code, code)


class RegistryClient:
    """Pull from and push to one registry host."""

    def __init__(
        self,
        paths: Paths,
        host: str,
        progress: ProgressFn = ignore,
        credentials: tuple[str, str] | None = None,
        max_workers: int = 4,
    ) -> None:
        self.paths = paths
        self.transport = Transport(host, paths, credentials)
        self.progress = throttled(progress)
        self.max_workers = max_workers

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.transport.close()

    # --- reading -----------------------------------------------------------------

    def get_manifest(self, repo: str, reference: str) -> tuple[bytes, str, str]:
        """Return (bytes, media type, digest) of a manifest by tag or digest."""
        scope = f"repository:{repo}:pull"
        name = f"{self.transport.host}/{repo}"
        what = (
            f"manifest for {name}:{reference}"
            if not reference.startswith("sha256:")
            else f"manifest {name}@{reference}"
        )
        resp = self.transport.request(
            "GET",
            f"/v2/{repo}/manifests/{reference}",
            scope=scope,
            what=what,
            headers={"Accept": mf.ACCEPT},
            stream=True,
        )
        try:
            data = b""
            for chunk in resp.iter_bytes():
                data += chunk
                if len(data) > MAX_MANIFEST:
                    raise RegistryError(f"{what}: larger than {MAX_MANIFEST} bytes")
        except httpx.HTTPError as exc:
            raise RegistryError(f"{what}: {exc}") from exc
        finally:
            resp.close()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{what}: content has digest {digest}, not the one asked for")
        return data, resp.headers.get("content-type", ""), digest

    def get_blob_bytes(self, repo: str, desc: mf.Descriptor, limit: int) -> bytes:
        if desc.size > limit:
            raise InvalidArgument(
                f"blob {desc.digest}: {desc.size} bytes is over the {limit} limit"
            )
        parts: list[bytes] = []
        try:
            self._stream_blob(repo, desc, parts.append, None)
        except _TransientDownload as exc:
            raise RegistryError(f"blob {desc.digest}: download failed: {exc}") from None
        return b"".join(parts)

    def download_blob(
        self, repo: str, desc: mf.Descriptor, dest: Path, cancel: threading.Event | None = None
    ) -> None:
        """Download a blob into ``dest``, verifying size and digest (retrying broken transfers)."""
        short = desc.digest.removeprefix("sha256:")[:12]
        for attempt in range(RETRIES):
            with open(dest, "wb") as out:

                def sink(chunk: bytes, out: Any = out) -> None:
                    out.write(chunk)

                try:
                    self._stream_blob(repo, desc, sink, cancel, short)
                    return
                except _TransientDownload as exc:
                    if attempt + 1 >= RETRIES:
                        raise RegistryError(
                            f"blob {desc.digest}: download failed after {RETRIES} attempts: {exc}"
                        ) from None
                    time.sleep(0.2 * 2 ** (attempt + 1))

    def _stream_blob(
        self,
        repo: str,
        desc: mf.Descriptor,
        sink: Callable[[bytes], Any],
        cancel: threading.Event | None,
        short: str = "",
    ) -> None:
        what = f"blob {desc.digest}"
        resp = self.transport.request(
            "GET",
            f"/v2/{repo}/blobs/{desc.digest}",
            scope=f"repository:{repo}:pull",
            what=what,
            stream=True,
        )
        sha = hashlib.sha256()
        got = 0
        try:
            for chunk in resp.iter_raw(CHUNK):
                if cancel is not None and cancel.is_set():
                    raise _Cancelled()
                got += len(chunk)
                if got > desc.size:
                    raise RegistryError(
                        f"{what}: the registry sent more than the {desc.size} "
                        "bytes the manifest gives"
                    )
                sha.update(chunk)
                sink(chunk)
                if short:
                    self.progress(Progress(short, "Downloading", got, desc.size))
        except httpx.TransportError as exc:
            raise _TransientDownload(str(exc) or type(exc).__name__) from exc
        finally:
            resp.close()
        if got < desc.size:
            raise _TransientDownload(f"truncated: got {got} of {desc.size} bytes")
        actual = "sha256:" + sha.hexdigest()
        if actual != desc.digest:
            raise RegistryError(
                f"{what}: digest mismatch: the registry sent content with digest {actual}"
            )
        if short:
            self.progress(Progress(short, "Download complete", got, desc.size))

    # --- pull --------------------------------------------------------------------

    def resolve(
        self, ref: Reference, platform: tuple[str, str, str] | None
    ) -> tuple[mf.Manifest, str]:
        """Fetch the manifest a reference names; return it and the digest that names it."""
        data, media_type, digest = self.get_manifest(ref.path, ref.digest or ref.tag or "latest")
        parsed = mf.parse(data, media_type)
        if isinstance(parsed, mf.Index):
            want = platform or host_platform()
            chosen = mf.choose_platform(parsed, *want)
            data, media_type, _ = self.get_manifest(ref.path, chosen.digest)
            parsed = mf.parse(data, chosen.media_type or media_type)
            if isinstance(parsed, mf.Index):
                raise InvalidArgument(f"{ref}: nested manifest index is not supported")
        return parsed, digest

    def pull(
        self, store: ImageStore, ref: Reference, platform: tuple[str, str, str] | None = None
    ) -> Image:
        """Pull one image into the store; see the module docstring."""
        label = ref.digest or ref.tag or "latest"
        manifest, digest = self.resolve(ref, platform)  # a failure here says only why
        self.progress(Progress("", f"{label}: Pulling from {ref.path}"))
        config_bytes = self.get_blob_bytes(ref.path, manifest.config, MAX_CONFIG)
        diff_ids = _config_diff_ids(config_bytes, manifest)
        refs = ([ref.tagged] if ref.tag else []) + [f"{ref.name}@{digest}"]
        image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        up_to_date = (
            store.exists(image_id)
            and ref.tag is not None
            and store.exists(ref.tagged)
            and store.resolve_id(ref.tagged) == image_id
        )
        with store.staging() as staging:
            layers = self._fetch_layers(staging, store, ref.path, manifest.layers, diff_ids)
            image = store.publish(staging, config_bytes, layers, refs=refs)
        self.progress(Progress("", f"Digest: {digest}"))
        status = "Image is up to date for" if up_to_date else "Downloaded newer image for"
        self.progress(Progress("", f"Status: {status} {ref}"))
        return image

    def _fetch_layers(
        self,
        staging: Staging,
        store: ImageStore,
        repo: str,
        descs: list[mf.Descriptor],
        diff_ids: list[str],
    ) -> list[StagedLayer]:
        chains = chain_ids(diff_ids)
        results: list[StagedLayer | None] = [None] * len(descs)
        todo = []
        for i, desc in enumerate(descs):
            existing = store.existing_layer(staging, chains[i])
            if existing is not None:
                results[i] = existing
                self.progress(Progress(desc.digest.removeprefix("sha256:")[:12], "Already exists"))
            else:
                todo.append(i)
        cancel = threading.Event()

        def fetch(i: int) -> StagedLayer:
            desc = descs[i]
            short = desc.digest.removeprefix("sha256:")[:12]
            self.progress(Progress(short, "Waiting"))
            tmp = staging.path("download-")
            self.download_blob(repo, desc, tmp, cancel)
            with open(tmp, "rb") as raw:

                def on_read(_n: int, raw: Any = raw) -> None:
                    if cancel.is_set():
                        raise _Cancelled()
                    self.progress(Progress(short, "Extracting", raw.tell(), desc.size))

                layer = staging.unpack(
                    raw, chains[i - 1] if i else None, expected_diff_id=diff_ids[i], on_read=on_read
                )
            layer.blob = (desc.digest, desc.media_type, desc.size)
            staging.add_blob_file(tmp, desc.digest)
            self.progress(Progress(short, "Pull complete"))
            return layer

        if todo:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(todo))) as pool:
                futures = {i: pool.submit(fetch, i) for i in todo}
                first_error: BaseException | None = None
                for i in todo:
                    try:
                        results[i] = futures[i].result()
                    except _Cancelled:
                        continue
                    except BaseException as exc:  # noqa: BLE001 - re-raised below
                        cancel.set()
                        first_error = first_error or exc
                if first_error is not None:
                    raise first_error
        return [r for r in results if r is not None]

    # --- push --------------------------------------------------------------------

    def blob_exists(self, repo: str, digest: str, scope: str) -> bool:
        resp = self.transport.request(
            "HEAD",
            f"/v2/{repo}/blobs/{digest}",
            scope=scope,
            what=f"blob {digest}",
            not_found_ok=True,
        )
        resp.close()
        return resp.status_code == 200

    def push_blob(
        self,
        repo: str,
        digest: str,
        size: int,
        opener: Callable[[], Any],
        mount_from: list[str],
        short: str,
    ) -> None:
        """Make the registry hold a blob: exists, else mount, else a monolithic upload."""
        scope = f"repository:{repo}:pull,push"
        if self.blob_exists(repo, digest, scope):
            self.progress(Progress(short, "Layer already exists"))
            return
        for source in mount_from:
            mount_scope = f"{scope} repository:{source}:pull"
            resp = self.transport.request(
                "POST",
                f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}",
                scope=mount_scope,
                what=f"mount {digest}",
                ok=(201, 202),
            )
            resp.close()
            if resp.status_code == 201:
                self.progress(Progress(short, f"Mounted from {source}"))
                return
            self._upload(repo, resp.headers.get("location", ""), digest, size, opener, short, scope)
            return
        resp = self.transport.request(
            "POST", f"/v2/{repo}/blobs/uploads/", scope=scope, what=f"upload of {digest}", ok=(202,)
        )
        resp.close()
        self._upload(repo, resp.headers.get("location", ""), digest, size, opener, short, scope)

    def _upload(
        self,
        repo: str,
        location: str,
        digest: str,
        size: int,
        opener: Callable[[], Any],
        short: str,
        scope: str,
    ) -> None:
        if not location:
            raise RegistryError(f"upload of {digest}: the registry gave no upload location")
        if location.startswith("/"):
            location = self.transport.base + location
        sep = "&" if "?" in location else "?"
        sent = [0]

        def body() -> Iterator[bytes]:
            sent[0] = 0
            with opener() as f:
                while chunk := f.read(CHUNK):
                    sent[0] += len(chunk)
                    self.progress(Progress(short, "Pushing", sent[0], size))
                    yield chunk

        resp = self.transport.request(
            "PUT",
            f"{location}{sep}digest={digest}",
            scope=scope,
            what=f"upload of {digest}",
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            body=body,
            ok=(201, 204),
        )
        resp.close()
        self.progress(Progress(short, "Pushed", size, size))

    def push(self, store: ImageStore, image: Image, ref: Reference) -> str:
        """Push an image under ``ref``; return the manifest digest."""
        if ref.digest:
            raise InvalidArgument(f"cannot push to a digest reference: {ref}")
        repo = ref.path
        tag = ref.tag or "latest"
        self.progress(Progress("", f"The push refers to repository [{ref.full_name}]"))
        mount_from = _mount_sources(image, ref)
        descs: list[mf.Descriptor] = []
        for diff_id in image.diff_ids:  # gzip plain layers first: one database user at a time
            digest, media_type, size = store.compressed_layer_blob(diff_id)
            self.progress(Progress(digest.removeprefix("sha256:")[:12], "Preparing"))
            descs.append(mf.Descriptor(media_type, digest, size))
        unique = list({d.digest: d for d in descs}.values())

        def upload(desc: mf.Descriptor) -> None:
            path = store.blob_path(desc.digest)
            short = desc.digest.removeprefix("sha256:")[:12]
            opener = lambda: open(path, "rb")  # noqa: E731, SIM115 - closed by _upload
            self.push_blob(repo, desc.digest, desc.size, opener, mount_from, short)

        if unique:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(unique))) as pool:
                for future in [pool.submit(upload, d) for d in unique]:
                    future.result()
        config_bytes = store.read_blob(image.id)
        self.push_blob(
            repo,
            image.id,
            len(config_bytes),
            lambda: _BytesOpener(config_bytes),
            mount_from,
            image.short_id,
        )
        oci = any(d.media_type.startswith("application/vnd.oci.") for d in descs)
        if oci:
            descs = [mf.Descriptor(_to_oci(d.media_type), d.digest, d.size) for d in descs]
            media_type, config_type = mf.OCI_MANIFEST, mf.OCI_CONFIG
        else:
            media_type, config_type = mf.DOCKER_MANIFEST, mf.DOCKER_CONFIG
        body = mf.build(mf.Descriptor(config_type, image.id, len(config_bytes)), descs, media_type)
        resp = self.transport.request(
            "PUT",
            f"/v2/{repo}/manifests/{tag}",
            scope=f"repository:{repo}:pull,push",
            what=f"manifest for {ref}",
            headers={"Content-Type": media_type},
            body=lambda: body,
            ok=(201, 200, 202),
        )
        resp.close()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        store.add_repo_digest(f"{ref.name}@{digest}", image.id)
        self.progress(Progress("", f"{tag}: digest: {digest} size: {len(body)}"))
        return digest

    def login(self) -> None:
        """Check the credentials against the registry's ``/v2/`` endpoint."""
        resp = self.transport.request("GET", "/v2/", scope="", what="login")
        resp.close()


class _TransientDownload(Exception):
    """A blob transfer broke off; worth another attempt."""


class _BytesOpener:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def __enter__(self) -> _BytesOpener:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def read(self, n: int) -> bytes:
        out = self._data[self._pos : self._pos + n]
        self._pos += len(out)
        return out


def _to_oci(media_type: str) -> str:
    return {
        mf.DOCKER_LAYER_GZIP: mf.OCI_LAYER_GZIP,
        "application/vnd.docker.image.rootfs.diff.tar": mf.OCI_LAYER,
    }.get(media_type, media_type)


def _mount_sources(image: Image, ref: Reference) -> list[str]:
    """Return other repositories of the same registry that already hold this image."""
    out = []
    for name in image.repo_digests + image.repo_tags:
        try:
            other = parse_reference(name)
        except InvalidArgument:
            continue
        if other.domain == ref.domain and other.path != ref.path and other.path not in out:
            out.append(other.path)
    return out[:1]


def _config_diff_ids(config_bytes: bytes, manifest: mf.Manifest) -> list[str]:
    try:
        config = json.loads(config_bytes)
        diff_ids = config["rootfs"]["diff_ids"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArgument(f"image config {manifest.config.digest} is malformed: {exc}") from exc
    if not isinstance(diff_ids, list) or len(diff_ids) != len(manifest.layers):
        raise InvalidArgument(
            f"image config {manifest.config.digest}: {len(diff_ids)} diff ids "
            f"for {len(manifest.layers)} layers"
        )
    return [str(d) for d in diff_ids]


def pull(
    store: ImageStore,
    name: str,
    *,
    platform: str | None = None,
    progress: ProgressFn = ignore,
    credentials: tuple[str, str] | None = None,
) -> Image:
    """Pull ``name`` (``busybox``, ``host:5000/app:1``, ``app@sha256:…``) into the store."""
    ref = parse_reference(name)
    plat = mf.parse_platform(platform) if platform else None
    with RegistryClient(store.paths, ref.registry_host, progress, credentials) as client:
        return client.pull(store, ref, plat)


def push(
    store: ImageStore,
    name: str,
    dest: str | None = None,
    *,
    progress: ProgressFn = ignore,
    credentials: tuple[str, str] | None = None,
) -> str:
    """Push a local image to the registry its name (or ``dest``) points at; return the digest."""
    image = store.get(name)
    ref = parse_reference(dest or name)
    with RegistryClient(store.paths, ref.registry_host, progress, credentials) as client:
        return client.push(store, image, ref)


def check_login(paths: Paths, host: str, username: str, password: str) -> None:
    """Check credentials against a registry, storing nothing (the Engine API's ``/auth``:
    the docker client keeps them itself)."""
    with RegistryClient(paths, host, credentials=(username, password)) as client:
        try:
            client.login()
        except AuthenticationError as exc:
            raise AuthenticationError(
                f"login to {host} failed: {exc}", exc.status, exc.code
            ) from exc


def login(paths: Paths, host: str, username: str, password: str) -> None:
    """Check credentials against a registry and store them in the 0600 credentials file."""
    check_login(paths, host, username, password)
    CredentialStore(paths).set(host, username, password)


__all__ = [
    "pull",
    "push",
    "login",
    "check_login",
    "RegistryClient",
    "RegistryNotFound",
    "is_insecure",
]
