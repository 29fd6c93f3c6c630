"""A container's page, live, in a real browser against a real worker: its logs stream in and
can be searched, its stats charts take samples, and its console (xterm.js over the exec
socket) runs ``echo hi``, is interrupted by Ctrl-C and ends with the shell's exit code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from e2e_stack import wait_for
from test_dashboard_browser import csp_violations

TICKER = "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.3; done"
ENTER, CONTROL = "\ue007", "\ue009"


def _keys(browser, *strokes: str | tuple[str, str]) -> None:
    """Press keys in the focused element (WebDriver actions): a text types each character,
    a (modifier, key) pair is a chord such as Ctrl-C."""
    actions = []
    for stroke in strokes:
        if isinstance(stroke, tuple):
            modifier, key = stroke
            actions += [
                {"type": "keyDown", "value": modifier},
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key},
                {"type": "keyUp", "value": modifier},
            ]
        else:
            for ch in stroke:
                actions += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
    browser._call(
        "POST",
        browser._s("/actions"),
        {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]},
    )


def _rows(browser) -> list[str]:
    """The console's screen, row by row, as xterm.js gives it to screen readers (the canvas
    it draws on holds no text)."""
    return browser.script(
        "return [...document.querySelectorAll('#console .xterm-accessibility-tree > div')]"
        ".map(d => d.textContent.trimEnd())"
    )


def _sizes(browser) -> list[tuple[int, int]]:
    """What ``stty size`` printed in the console: (rows, columns), oldest first."""
    return [
        (int(r.split()[0]), int(r.split()[1]))
        for r in _rows(browser)
        if re.fullmatch(r"\d+ \d+", r.strip())
    ]


def _log_numbers(browser) -> list[int]:
    text = browser.script("return document.getElementById('logs').textContent")
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith("line ")]


def test_logs_stream_stats_move_and_the_console_answers(stack, host_env, browser):
    with stack.running("live", ["sh", "-c", TICKER]) as made:
        cid = made["container"]["id"]
        browser.sign_in(stack.web_url, f"/containers/{cid}/", "admin", stack.password)

        # logs: the last lines, then new ones as the container writes them
        first = wait_for(lambda: _log_numbers(browser), 30, "the first log lines")
        wait_for(lambda: max(_log_numbers(browser)) >= max(first) + 3, 30, "new lines to stream in")
        numbers = _log_numbers(browser)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "in order, none lost"
        browser.type("#logs-search", "line 1")
        shown = browser.script(
            "return [...document.querySelectorAll('#logs .line')]"
            ".filter(e => !e.hidden).map(e => e.textContent)"
        )
        assert shown and all("line 1" in t for t in shown)
        assert "download=1" in browser.script(
            "return document.getElementById('logs-download').href"
        )

        # stats: samples arrive and the read-outs show them
        wait_for(
            lambda: (
                int(
                    browser.script(
                        "return document.getElementById('stats-card').dataset.samples || '0'"
                    )
                )
                >= 3
            ),
            30,
            "three stats samples",
        )
        assert "MiB" in browser.text("#stat-memory")
        assert "%" in browser.text("#stat-cpu")

        # the console: a shell on the container's own terminal
        browser.click("#console-open")
        wait_for(
            lambda: (
                browser.script("return document.getElementById('console-card').dataset.state")
                == "open"
            ),
            30,
            "the console to connect",
        )
        try:
            wait_for(lambda: any(r.endswith("#") for r in _rows(browser)), 30, "a prompt")
        except AssertionError:
            browser.screenshot(Path(stack.base) / "console.png")
            raise AssertionError(f"no prompt in the console: {_rows(browser)}") from None
        _keys(browser, "echo hi", ENTER)
        wait_for(lambda: "hi" in _rows(browser), 30, "the shell's answer on a row of its own")
        # resize: a narrower window, a narrower terminal (the shell's own view of it)
        _keys(browser, "stty size", ENTER)
        before = wait_for(lambda: _sizes(browser), 30, "stty's answer")[-1]
        browser._call("POST", browser._s("/window/rect"), {"width": 900, "height": 900})
        _keys(browser, "clear; stty size", ENTER)
        after = wait_for(
            lambda: (s := _sizes(browser)) and s[-1] != before and s[-1], 30, "a new size"
        )
        assert after[1] < before[1], (before, after)
        _keys(browser, "sleep 300", ENTER)
        wait_for(lambda: any(r.endswith("# sleep 300") for r in _rows(browser)), 30, "the echo")
        _keys(browser, (CONTROL, "c"))
        _keys(browser, "echo after-ctrl-c", ENTER)
        wait_for(lambda: "after-ctrl-c" in _rows(browser), 30, "Ctrl-C to end the sleep")
        _keys(browser, "exit 3", ENTER)
        browser.wait_text("#console-status", "exited with code 3", timeout=30)
        assert (
            browser.script("return document.getElementById('console-card').dataset.exitCode") == "3"
        )

        # the container stopped and started again: its logs end, then follow the new run
        with stack.api() as api:
            api.post(f"/api/v1/containers/{cid}/stop/", json={"timeout": 1})
            browser.wait_text("#logs-status", "stopped", timeout=60)
            api.post(f"/api/v1/containers/{cid}/start/")
        wait_for(
            lambda: _log_numbers(browser).count(0) == 2,
            60,
            "the logs of the second run (line 0 again) without a reload",
        )
        assert browser.text("#logs-status") == "following"

        refused = csp_violations(browser)
        assert refused == [], json.dumps(refused, indent=1)
