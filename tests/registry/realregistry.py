"""A real registry for the tests: Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1.

- RegistryServer: the registry binary with a temporary config and storage; Basic auth from an
  htpasswd file (bcrypt), or token auth trusting a certificate the tests make.
- TokenServer: a small token service (Docker's token flow) that checks users and signs JWTs with
  that certificate's key, x5c in the header: what the registry verifies.
- RateLimitProxy: NOT a registry behaviour. The distribution registry never rate-limits, so
  this proxy in front of it answers 429 with Retry-After (like Docker Hub) to the first requests,
  then forwards the rest unchanged.
- Pusher: pushes blobs, image manifests and a two-platform index through the registry's own
  HTTP API (POST/PUT uploads, PUT manifests), as `docker push` does.

Under CI=true a missing binary fails the tests that need it; elsewhere they are skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

BINARY = "docker-registry"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SERVICE = "promoter-test-registry"
ISSUER = "promoter-test-issuer"


def registry_binary() -> str:
    """The registry binary's path; a one-line failure under CI, a skip elsewhere."""
    found = shutil.which(BINARY) or (f"/usr/bin/{BINARY}" if Path(f"/usr/bin/{BINARY}").exists() else None)
    if found:
        return found
    msg = f"{BINARY} not found: install Debian's docker-registry package (apt-get install docker-registry)"
    if os.environ.get("CI"):
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


# ---- the registry ------------------------------------------------------------------------------
class RegistryServer:
    def __init__(self, root: Path, *, auth: dict[str, Any]) -> None:
        self.root = root
        self.auth = auth
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> RegistryServer:
        binary = registry_binary()
        for _ in range(5):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            config = {
                "version": 0.1,
                "log": {"level": "error", "accesslog": {"disabled": True}},
                "storage": {"filesystem": {"rootdirectory": str(self.root / "data")}, "delete": {"enabled": True}},
                "http": {"addr": self.host, "secret": base64.b64encode(os.urandom(18)).decode()},
                "auth": self.auth,
            }
            path = self.root / "config.yml"
            path.write_text(json.dumps(config))  # JSON is YAML
            with open(self.root / "registry.log", "ab") as log:
                self.proc = subprocess.Popen(
                    [binary, "serve", str(path)], stdout=log, stderr=log, stdin=subprocess.DEVNULL
                )
            if self._wait_up():
                return self
            self.stop()
        raise RuntimeError(f"docker-registry did not start: {(self.root / 'registry.log').read_text()[-2000:]}")

    def _wait_up(self, seconds: float = 15.0) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                requests.get(f"{self.url}/v2/", timeout=1)
                return True
            except requests.ConnectionError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def htpasswd(path: Path, users: dict[str, str]) -> Path:
    import bcrypt

    # Cost 4 is bcrypt's minimum: the registry accepts any cost, and the tests stay fast.
    path.write_text(
        "".join(f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}\n" for u, p in users.items())
    )
    return path


# ---- the token service -------------------------------------------------------------------------
@dataclass
class SigningKey:
    key: Any
    cert_der: bytes
    cert_pem: bytes

    @classmethod
    def make(cls) -> SigningKey:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "promoter test token signer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert.public_bytes(serialization.Encoding.DER), cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class TokenServer:
    """Docker's token service: GET /token?service=…&scope=repository:NAME:pull[,push] with optional Basic auth."""

    signer: SigningKey
    users: dict[str, str]
    public: set[str] = field(default_factory=set)  # repositories anyone may pull
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def start(self) -> TokenServer:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._handle(self)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(h.path).query)
        auth = h.headers.get("Authorization")
        self.requests.append({"query": query, "authorization": auth})
        user = None
        if auth:
            scheme, _, value = auth.partition(" ")
            try:
                name, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                name, password = "", ""
            if scheme != "Basic" or self.users.get(name) != password:
                return self._reply(h, 401, {"details": "incorrect username or password"})
            user = name
        access = []
        for scope in query.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = actions.split(",")
            granted = wanted if user else (["pull"] if name in self.public and "pull" in wanted else [])
            if kind == "repository" and granted:
                access.append({"type": "repository", "name": name, "actions": granted})
        self._reply(h, 200, {"token": self.sign(user or "", access), "expires_in": 300})

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": base64.urlsafe_b64encode(os.urandom(12)).decode(),
            "access": access,
        }
        return jwt.encode(
            claims,
            self.signer.key,
            algorithm="ES256",
            headers={"x5c": [base64.b64encode(self.signer.cert_der).decode()]},
        )

    @staticmethod
    def _reply(h: http.server.BaseHTTPRequestHandler, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


# ---- the 429 proxy (a stand-in for Docker Hub's rate limits, not a registry behaviour) -----------
@dataclass
class RateLimitProxy:
    """Forwards to `upstream`, but answers the first `limited` requests 429 with `Retry-After: retry_after`."""

    upstream: str
    limited: int = 1
    retry_after: str = "1"
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    port: int = 0
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RateLimitProxy:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                owner._handle(self)

            def do_GET(self) -> None:
                owner._handle(self)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        if self.limited > 0:
            self.limited -= 1
            self.seen.append((h.command, h.path, 429))
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limited by the test proxy"}]}'
            h.send_response(429)
            h.send_header("Retry-After", self.retry_after)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(body)
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
        resp = requests.request(h.command, self.upstream + h.path, headers=headers, timeout=10, allow_redirects=False)
        self.seen.append((h.command, h.path, resp.status_code))
        h.send_response(resp.status_code)
        for k, v in resp.headers.items():
            if k.lower() not in ("connection", "transfer-encoding", "content-encoding", "content-length"):
                h.send_header(k, v)
        body = resp.content
        h.send_header(
            "Content-Length",
            resp.headers.get("Content-Length", str(len(body))) if h.command == "HEAD" else str(len(body)),
        )
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)


# ---- pushing images through the registry's HTTP API --------------------------------------------
@dataclass
class Pushed:
    """An image the tests pushed: its manifest digest and, for an index, each platform's."""

    digest: str
    platforms: dict[str, str] = field(default_factory=dict)  # "linux/amd64" -> manifest digest
    config_digests: dict[str, str] = field(default_factory=dict)


class Pusher:
    """Pushes to one registry as a user; `auth` is Basic (user, password) or a TokenServer to ask for push tokens."""

    def __init__(
        self,
        base_url: str,
        *,
        basic: tuple[str, str] | None = None,
        tokens: TokenServer | None = None,
        user: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.basic = basic
        self.tokens = tokens
        self.user = user

    def _auth(self, repo: str) -> dict[str, str]:
        if self.tokens is not None:
            access = [{"type": "repository", "name": repo, "actions": ["pull", "push", "delete"]}]
            return {"Authorization": "Bearer " + self.tokens.sign(self.user or "pusher", access)}
        if self.basic is not None:
            raw = base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode()
            return {"Authorization": "Basic " + raw}
        return {}

    def blob(self, repo: str, data: bytes) -> str:
        digest = digest_of(data)
        start = self.session.post(f"{self.base_url}/v2/{repo}/blobs/uploads/", headers=self._auth(repo), timeout=10)
        assert start.status_code == 202, (start.status_code, start.text)
        location = urllib.parse.urljoin(self.base_url, start.headers["Location"])
        sep = "&" if "?" in location else "?"
        put = self.session.put(
            f"{location}{sep}digest={digest}",
            data=data,
            timeout=10,
            headers={**self._auth(repo), "Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 201, (put.status_code, put.text)
        return digest

    def manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        resp = self.session.put(
            f"{self.base_url}/v2/{repo}/manifests/{reference}",
            data=body,
            timeout=10,
            headers={**self._auth(repo), "Content-Type": media_type},
        )
        assert resp.status_code == 201, (resp.status_code, resp.text)
        return resp.headers["Docker-Content-Digest"]

    def delete(self, repo: str, digest: str) -> None:
        resp = self.session.delete(
            f"{self.base_url}/v2/{repo}/manifests/{digest}", headers=self._auth(repo), timeout=10
        )
        assert resp.status_code == 202, (resp.status_code, resp.text)

    def image(
        self,
        repo: str,
        platform: str,
        *,
        tag: str | None = None,
        labels: dict[str, str] | None = None,
        created: str = "2026-03-01T12:00:00Z",
        annotations: dict[str, str] | None = None,
        salt: str = "",
    ) -> tuple[str, str]:
        """Push one platform's image (a layer, a config, a manifest); returns (manifest digest, config digest)."""
        os_, arch, *variant = platform.split("/")
        layer = f"layer of {repo} {platform} {salt}".encode()
        config: dict[str, Any] = {
            "architecture": arch,
            "os": os_,
            "created": created,
            "config": {"Labels": labels or {}},
            "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
        }
        if variant:
            config["variant"] = variant[0]
        config_bytes = canonical(config)
        config_digest = self.blob(repo, config_bytes)
        layer_digest = self.blob(repo, layer)
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        }
        if annotations:
            manifest["annotations"] = annotations
        body = canonical(manifest)
        digest = self.manifest(repo, tag or digest_of(body), body, OCI_MANIFEST)
        assert digest == digest_of(body)
        return digest, config_digest

    def index(
        self,
        repo: str,
        tag: str,
        platforms: list[str],
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        salt: str = "",
        attestation: bool = True,
    ) -> Pushed:
        """Push one image per platform, then an OCI index of them (plus a BuildKit-style attestation entry) tagged `tag`."""
        pushed = Pushed(digest="")
        entries = []
        for p in platforms:
            d, cfg = self.image(repo, p, labels=labels, salt=salt)
            pushed.platforms[p] = d
            pushed.config_digests[p] = cfg
            os_, arch, *variant = p.split("/")
            plat: dict[str, Any] = {"os": os_, "architecture": arch}
            if variant:
                plat["variant"] = variant[0]
            size = len(canonical_manifest_size_probe(self, repo, d))
            entries.append({"mediaType": OCI_MANIFEST, "digest": d, "size": size, "platform": plat})
        if attestation:
            att, _ = self.image(repo, "unknown/unknown", salt=salt + "attestation")
            entries.append(
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": att,
                    "size": len(canonical_manifest_size_probe(self, repo, att)),
                    "platform": {"os": "unknown", "architecture": "unknown"},
                    "annotations": {
                        "vnd.docker.reference.type": "attestation-manifest",
                        "vnd.docker.reference.digest": entries[0]["digest"],
                    },
                }
            )
        index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        if annotations:
            index["annotations"] = annotations
        body = canonical(index)
        pushed.digest = self.manifest(repo, tag, body, OCI_INDEX)
        assert pushed.digest == digest_of(body)
        return pushed


def canonical_manifest_size_probe(pusher: Pusher, repo: str, digest: str) -> bytes:
    """The manifest bytes the registry stores for `digest` (its size goes into the index entry)."""
    resp = pusher.session.get(
        f"{pusher.base_url}/v2/{repo}/manifests/{digest}",
        timeout=10,
        headers={**pusher._auth(repo), "Accept": OCI_MANIFEST},
    )
    assert resp.status_code == 200, (resp.status_code, resp.text)
    return resp.content
