"""Every main page in a real browser meets WCAG 2.1's contrast minimum (1.4.3): each visible
text's colour against the background it is drawn on, computed in the page (the first opaque
background up its ancestors, translucent ones blended in, opacity applied), is at least 4.5:1,
or 3:1 for large text; and the keyboard's focus is visible on every link and button Tab
reaches (an outline of at least 3:1 against the page, WCAG 2.4.7 and 1.4.11)."""

from __future__ import annotations

import json

import pytest
from e2e_stack import wait_for
from test_container_streams_browser import _keys
from test_inventory_browser import _sign_in

TAB = "\ue004"

# shared by both checks: colours as [r, g, b, a], blending, luminance and the ratio
COLOUR = """
const parse = (c) => {
  const m = c.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, under) => {
  const a = top[3];
  return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]);
};
const lum = (c) => {
  const [r, g, b] = c.slice(0, 3).map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const ratio = (a, b) => {
  const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
};
// the colour EL is drawn on: backgrounds from the first opaque one up its ancestors, blended
const backdrop = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = parse(getComputedStyle(e).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  let colour = [255, 255, 255, 1];
  for (const layer of layers.reverse()) colour = over(layer, colour);
  return colour;
};
const opacity = (el) => {
  let o = 1;
  for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
  return o;
};
const describe = (el) =>
  el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
  (el.classList.length ? '.' + [...el.classList].join('.') : '');
"""

CONTRAST = (
    COLOUR
    + """
const found = [];
let checked = 0, lowest = 99;
const texts = [...document.querySelectorAll('body *')].filter((el) =>
  [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim()) ||
  (el.matches('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file]), textarea') && el.value));
for (const el of texts) {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  if (!el.getClientRects().length || style.visibility !== 'visible' || box.width <= 1 || box.height <= 1) continue;
  if (el.closest('.xterm, [disabled], script, style, option')) continue;  // canvas-drawn; inactive (exempt)
  const fg = parse(style.color);
  if (fg[3] === 0) continue;  // transparent text (a screen reader's copy) is not seen
  const bg = backdrop(el);
  const o = opacity(el);
  const seen = over([fg[0], fg[1], fg[2], fg[3] * o], bg);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  const r = ratio(seen, bg);
  checked += 1;
  lowest = Math.min(lowest, large ? r * 1.5 : r);  // large text's 3:1 counted as 4.5:1
  if (r < (large ? 3 : 4.5)) {
    found.push({element: describe(el), text: (el.value || el.textContent).trim().slice(0, 40),
                ratio: Math.round(r * 100) / 100, color: style.color, background: bg.slice(0, 3).join(','),
                opacity: o, size, large});
  }
}
return {found, checked, lowest: Math.round(lowest * 100) / 100};
"""
)

# the focused element: what it is, and whether an outline (or a ring) shows against the page
FOCUS = (
    COLOUR
    + """
const el = document.activeElement;
if (!el || el === document.body) return null;
const style = getComputedStyle(el);
const width = parseFloat(style.outlineWidth);
const shown = style.outlineStyle !== 'none' && width > 0;
const ring = shown ? parse(style.outlineColor) : [0, 0, 0, 0];
const around = backdrop(el.parentElement || el);
return {element: describe(el), text: el.textContent.trim().slice(0, 30), tag: el.tagName,
        outline: shown ? `${style.outlineStyle} ${width}px ${style.outlineColor}` : 'none',
        ratio: shown ? Math.round(ratio(over(ring, around), around) * 100) / 100 : 0};
"""
)


@pytest.fixture
def pages(stack, host_env):
    """The main pages' paths, a container's and a job's among them (the container removed after)."""
    with stack.running("contrast", ["sleep", "3600"]) as made:
        cid, job = made["container"]["id"], made["job"]
        yield [
            "/",
            "/containers/",
            f"/containers/{cid}/",
            "/images/",
            "/volumes/",
            "/networks/",
            "/hosts/",
            f"/hosts/{stack.host_name}/",
            "/jobs/",
            f"/jobs/{job['id']}/",
            "/audit/",
            "/profile/",
            "/teams/",
            "/teams/admins/members/",
            "/registries/",
        ]


def _settled(browser) -> None:
    """Wait until the page's live parts have drawn (htmx's first swaps, the sockets' rows)."""
    browser.find("main")
    wait_for(
        lambda: browser.script(
            "return document.readyState === 'complete' && !document.querySelector('.htmx-request')"
        ),
        20,
        "the page to settle",
    )


def test_every_main_page_has_enough_contrast(stack, browser, pages, shots):
    _sign_in(stack, browser, "/")
    # the check itself: grey on white (2.32:1) is found, and only it
    probe = browser.script(
        "const p = document.createElement('p'); p.id = 'probe'; p.textContent = 'faint';"
        "p.style.color = '#999'; p.style.background = '#fff';"
        "document.querySelector('main').append(p);"
        + CONTRAST.replace("return {found", "p.remove(); return {found")
    )
    assert [f["element"] for f in probe["found"]] == ["p#probe"], probe
    offenders = {}
    for path in pages:
        browser.get(stack.web_url + path)
        _settled(browser)
        seen = browser.script(CONTRAST)
        assert seen["checked"] >= 10, f"{path}: only {seen['checked']} texts seen"
        print(f"{path}: {seen['checked']} texts, lowest ratio {seen['lowest']}:1")
        if seen["found"]:
            offenders[path] = seen["found"]
            browser.screenshot(
                shots / f"contrast-{path.strip('/').replace('/', '-') or 'dashboard'}.png"
            )
    assert offenders == {}, "text under WCAG 2.1's contrast minimum:\n" + json.dumps(
        offenders, indent=1
    )


def test_the_keyboard_focus_is_visible_on_links_and_buttons(stack, browser, pages, shots):
    _sign_in(stack, browser, "/")
    unseen = {}
    for path in pages:
        browser.get(stack.web_url + path)
        _settled(browser)
        reached = 0
        for _ in range(25):
            _keys(browser, TAB)
            focused = browser.script(FOCUS)
            if not focused or focused["tag"] not in ("A", "BUTTON"):
                continue
            reached += 1
            if focused["ratio"] < 3:
                unseen.setdefault(path, []).append(focused)
        assert reached >= 5, f"{path}: Tab reached only {reached} links and buttons"
    assert unseen == {}, "focus that cannot be seen:\n" + json.dumps(unseen, indent=1)
