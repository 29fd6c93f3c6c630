"""The container console's colours in a real browser: a shell's ANSI red is drawn red on
xterm.js's canvas, and the page opens the console without a single CSP refusal (xterm.js's
own DOM renderer wrote its colours into <style> elements the policy refuses)."""

from __future__ import annotations

import json

import pytest
from e2e_stack import wait_for
from test_container_streams_browser import ENTER, _keys, _rows
from test_dashboard_browser import csp_violations
from test_inventory_browser import _sign_in

# every CSP refusal the page sees from now on, as the page itself is told of it
COLLECT_VIOLATIONS = """
window.wharfViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.wharfViolations.push(`${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""

# the text canvas's pixels on ROW (of ROWS): how many are strongly red, how many light
PIXELS_ON_ROW = """
const [row, rows] = arguments;
const canvas = document.querySelector('#console canvas.xterm-text-layer');
const band = canvas.height / rows;
const data = canvas.getContext('2d')
  .getImageData(0, Math.floor(row * band), canvas.width, Math.ceil(band)).data;
let red = 0, light = 0;
for (let i = 0; i < data.length; i += 4) {
  const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
  if (a > 200 && r > 170 && g < 100 && b < 100) red++;
  if (a > 200 && r > 170 && g > 170 && b > 170) light++;
}
return {red, light};
"""


@pytest.fixture
def container(stack, host_env):
    """A running busybox container of the admin's team; removed after the test."""
    with stack.running("colours", ["sleep", "3600"]) as made:
        yield made["container"]["id"]


def _pixels(browser, row: int) -> dict[str, int]:
    rows = len(_rows(browser))
    return browser._call(
        "POST", browser._s("/execute/sync"), {"script": PIXELS_ON_ROW, "args": [row, rows]}
    )


def test_the_console_draws_ansi_red_within_the_csp(stack, container, browser, shots):
    _sign_in(stack, browser, f"/containers/{container}/")
    browser.script(COLLECT_VIOLATIONS)
    browser.click("#console-open")
    wait_for(lambda: any(r.endswith("#") for r in _rows(browser)), 30, "a prompt")
    _keys(browser, "printf '\\033[31mRED\\033[0m\\n'", ENTER)
    row = wait_for(
        lambda: "RED" in (rows := _rows(browser)) and rows.index("RED"),
        30,
        "RED on a row of its own",
    )
    command = row - 1  # the typed line: the same letters, in the default colour
    assert "RED" in _rows(browser)[command]
    drawn = wait_for(lambda: (p := _pixels(browser, row))["red"] > 20 and p, 10, "red ink")
    assert drawn["light"] == 0, f"the output row has light (uncoloured) letters: {drawn}"
    typed = _pixels(browser, command)
    assert typed["red"] == 0 and typed["light"] > 20, f"the typed line is not red: {typed}"

    refused = browser.script("return window.wharfViolations") + csp_violations(browser)
    assert refused == [], json.dumps(refused, indent=1)
