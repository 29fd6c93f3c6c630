"""A few W3C WebDriver calls over HTTP to drive Debian's headless Chromium.

Enough for the page tests (open, type, click, read, screenshot) without a new
dependency; chromedriver speaks the protocol, httpx carries it.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from e2e_stack import free_port, wait_for

ELEMENT = "element-6066-11e4-a52e-4f735466cecc"
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1400,900",
]


class Browser:
    def __init__(self) -> None:
        for tool in ("chromium", "chromedriver"):
            if shutil.which(tool) is None:
                raise AssertionError(
                    f"{tool} is not installed; run scripts/setup.sh (Debian chromium, chromium-driver)"
                )
        self.profile = tempfile.mkdtemp(prefix="wharf-chromium-")
        port = free_port()
        self.driver = subprocess.Popen(
            ["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        wait_for(self._ready, 20, "chromedriver to start")
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "goog:chromeOptions": {
                        "binary": shutil.which("chromium"),
                        "args": [*CHROME_FLAGS, f"--user-data-dir={self.profile}"],
                    },
                    # the console, CSP violations included, for console()
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _ready(self) -> bool:
        try:
            return self.http.get("/status").json()["value"]["ready"]
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    def _call(self, method: str, path: str, body: dict | None = None):
        r = self.http.request(method, path, json=body)
        value = r.json().get("value")
        if r.status_code >= 400:
            raise AssertionError(f"webdriver {method} {path}: {value}")
        return value

    def _s(self, path: str) -> str:
        return f"/session/{self.session}{path}"

    def get(self, url: str) -> None:
        self._call("POST", self._s("/url"), {"url": url})

    def find(self, css: str, timeout: float = 10) -> str:
        def lookup():
            r = self.http.post(self._s("/elements"), json={"using": "css selector", "value": css})
            found = r.json().get("value") or []
            if not found:
                return None
            ref = found[0]
            return ref.get(ELEMENT) or ref.get("ELEMENT") or next(iter(ref.values()))

        return wait_for(lookup, timeout, f"element {css!r}", interval=0.2)

    def type(self, css: str, text: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/value"), {"text": text})

    def click(self, css: str) -> None:
        self._call("POST", self._s(f"/element/{self.find(css)}/click"), {})

    def text(self, css: str) -> str:
        return self._call("GET", self._s(f"/element/{self.find(css)}/text"))

    def script(self, source: str):
        return self._call("POST", self._s("/execute/sync"), {"script": source, "args": []})

    def console(self) -> list[dict]:
        """The browser console's entries since the last call (chromedriver's log endpoint)."""
        return self._call("POST", self._s("/se/log"), {"type": "browser"})

    def url(self) -> str:
        return self._call("GET", self._s("/url"))

    def resize(self, width: int, height: int) -> None:
        """Set the window's size (a phone's width, say) in CSS pixels."""
        self._call("POST", self._s("/window/rect"), {"width": width, "height": height})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", self._s("/screenshot"))))

    def sign_in(self, base_url: str, path: str, user: str, password: str) -> None:
        """Open ``path``, sign in on the page it leads to, wait until ``path`` is loaded.

        The sign-in page's own address names ``path`` too (``?next=PATH``): only the
        address's path, and the document loaded, say the sign-in is over; a script
        run before that would run on the sign-in page.
        """
        self.get(base_url + path)
        self.type("#id_username", user)
        self.type("#id_password", password)
        self.click("#sign-in")
        wanted = urlsplit(path).path
        wait_for(
            lambda: (
                urlsplit(self.url()).path == wanted
                and self.script("return document.readyState") == "complete"
            ),
            20,
            f"{path} after signing in",
        )

    def wait_text(self, css: str, wanted: str, timeout: float = 60) -> str:
        return wait_for(
            lambda: wanted in self.text(css) and self.text(css),
            timeout,
            f"{wanted!r} in {css}",
            interval=0.3,
        )

    def quit(self) -> None:
        try:
            self._call("DELETE", self._s(""))
        finally:
            self.driver.terminate()
            try:
                self.driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.driver.kill()
            time.sleep(0.2)
            shutil.rmtree(self.profile, ignore_errors=True)
