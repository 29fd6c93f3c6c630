"""Go's ``text/template``, as Docker's ``--format`` uses it.

Scripts written for Docker pass templates like ``{{range .Mounts}}{{.Source}} {{end}}``
or ``{{index .Config.Labels "team"}}``; they must get Docker's text and Docker's
errors. This module parses a template once (``parse``) and runs it on Python values
that stand for Go values (see ``runtime.cli.govalues``). It implements the
language (actions, pipelines, variables, ``if``/``else if``/``range``/``with``,
``define``/``template``/``block``, ``break``/``continue``, trim markers,
comments), Go's builtin functions and the ones Docker adds (``json``, ``join``,
``split``, ``title``, ``lower``, ``upper``, ``pad``, ``truncate``).

Errors carry Go's text (``template: :1:2: executing "" at <.Foo>: ...``); callers
prefix Docker's ``template parsing error: ``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runtime.cli.govalues import (
    MISSING,
    Record,
    go_json,
    go_quote,
    go_sprintf,
    go_str,
    go_type_name,
)


class TemplateError(Exception):
    """A template that does not parse, or fails while it runs (Go's error text).

    ``partial`` is what the template wrote before it failed (Docker prints it for
    table headers).
    """

    partial = ""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


# --- lexer -----------------------------------------------------------------------------

_SPACE = " \t\r\n"


@dataclass
class Tok:
    kind: str  # text, space, field, var, ident, str, raw, char, num, bool, nil, dot, op, end
    val: str
    pos: int


_NUM = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?\d+)?"
    r"|0[oObB][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d*)?)i?"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = {
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
}


def _lex(text: str) -> list[Tok]:
    """Split a template into text and action tokens; ``{{``/``}}`` become ``op`` tokens."""
    toks: list[Tok] = []
    pos = 0
    n = len(text)
    while pos < n:
        start = text.find("{{", pos)
        if start < 0:
            toks.append(Tok("text", text[pos:], pos))
            break
        chunk = text[pos:start]
        inner = start + 2
        trim_left = text.startswith("-", inner) and inner + 1 < n and text[inner + 1] in _SPACE
        if trim_left:
            chunk = chunk.rstrip(_SPACE)
            inner += 2
        if chunk:
            toks.append(Tok("text", chunk, pos))
        if text.startswith("/*", inner):  # a comment is the whole action
            close = text.find("*/", inner + 2)
            if close < 0:
                raise _lex_error(text, start, "unclosed comment")
            after = close + 2
            trim_right = False
            if text.startswith(" -}}", after) or (
                after < n and text[after] in _SPACE and text.startswith("-}}", after + 1)
            ):
                trim_right, after = True, after + 4
            elif text.startswith("}}", after):
                after += 2
            else:
                raise _lex_error(text, start, "comment ends before closing delimiter")
            pos = _skip_space(text, after) if trim_right else after
            continue
        toks.append(Tok("op", "{{", start))
        pos = _lex_action(text, inner, toks)
    toks.append(Tok("eof", "", n))
    return toks


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    return pos


def _lex_error(text: str, pos: int, msg: str) -> TemplateError:
    line = text.count("\n", 0, pos) + 1
    return TemplateError(f"template: :{line}: {msg}")


def _lex_action(text: str, pos: int, toks: list[Tok]) -> int:
    """Tokens of one action from ``pos``; returns the position after its ``}}``."""
    n = len(text)
    depth = 0
    while True:
        if pos >= n:
            raise _lex_error(text, pos, "unclosed action")
        ch = text[pos]
        if ch in _SPACE:
            end = _skip_space(text, pos)
            if text.startswith("-}}", end) and end > pos:
                if depth:
                    raise _lex_error(text, pos, "unclosed left paren")
                toks.append(Tok("end", "}}", end))
                return _skip_space(text, end + 3)
            toks.append(Tok("space", text[pos:end], pos))
            pos = end
            continue
        if text.startswith("}}", pos):
            if depth:
                raise _lex_error(text, pos, "unclosed left paren")
            toks.append(Tok("end", "}}", pos))
            return pos + 2
        if ch == "(":
            depth += 1
            toks.append(Tok("op", "(", pos))
            pos += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _lex_error(text, pos, "unexpected right paren")
            toks.append(Tok("op", ")", pos))
            pos += 1
        elif text.startswith(":=", pos):
            toks.append(Tok("op", ":=", pos))
            pos += 2
        elif ch in "|=,":
            toks.append(Tok("op", ch, pos))
            pos += 1
        elif ch == '"':
            end = pos + 1
            while end < n and text[end] != '"':
                if text[end] == "\n":
                    raise _lex_error(text, pos, "unterminated quoted string")
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise _lex_error(text, pos, "unterminated quoted string")
            toks.append(Tok("str", text[pos : end + 1], pos))
            pos = end + 1
        elif ch == "`":
            end = text.find("`", pos + 1)
            if end < 0:
                raise _lex_error(text, pos, "unterminated raw quoted string")
            toks.append(Tok("raw", text[pos + 1 : end], pos))
            pos = end + 1
        elif ch == "'":
            end = pos + 1
            while end < n and text[end] != "'":
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise _lex_error(text, pos, "unterminated character constant")
            toks.append(Tok("char", text[pos : end + 1], pos))
            pos = end + 1
        elif ch == "$":
            m = _IDENT.match(text, pos + 1)
            name = "$" + (m.group(0) if m else "")
            toks.append(Tok("var", name, pos))
            pos += len(name)
        elif ch == ".":
            m = _IDENT.match(text, pos + 1)
            if m:
                toks.append(Tok("field", m.group(0), pos))
                pos = m.end()
            elif pos + 1 < n and text[pos + 1].isdigit():
                m = _NUM.match(text, pos)
                toks.append(Tok("num", m.group(0), pos))
                pos = m.end()
            else:
                toks.append(Tok("dot", ".", pos))
                pos += 1
        elif ch.isdigit() or (ch in "+-" and pos + 1 < n and text[pos + 1] in "0123456789."):
            m = _NUM.match(text, pos)
            end = m.end() if m else pos
            if end < n and (text[end].isalnum() or text[end] == "_"):
                bad = go_quote(text[pos : end + 1])
                raise _lex_error(text, pos, f"bad number syntax: {bad}")
            toks.append(Tok("num", text[pos:end], pos))
            pos = end
        elif ch.isalpha() or ch == "_":
            m = _IDENT.match(text, pos)
            word = m.group(0)
            if word in ("true", "false"):
                kind = "bool"
            elif word == "nil":
                kind = "nil"
            elif word in _KEYWORDS:
                kind = "kw"
            else:
                kind = "ident"
            toks.append(Tok(kind, word, pos))
            pos = m.end()
        elif ch == "}":
            raise _lex_error(text, pos, "bad character U+007D '}'")
        elif ch.isascii() and ch.isprintable():
            raise _lex_error(text, pos, f'unexpected "{ch}" in operand')
        else:
            raise _lex_error(text, pos, f"unrecognized character in action: U+{ord(ch):04X}")


# --- nodes -----------------------------------------------------------------------------


@dataclass
class Node:
    pos: int


@dataclass
class Text(Node):
    text: str


@dataclass
class Field(Node):
    names: list[str]

    def __str__(self) -> str:
        return "." + ".".join(self.names)


@dataclass
class Var(Node):
    name: str
    names: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.name + "".join("." + n for n in self.names)


@dataclass
class Chain(Node):
    node: Node
    names: list[str]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, Pipe) else str(self.node)
        return inner + "".join("." + n for n in self.names)


@dataclass
class Ident(Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class Const(Node):
    value: Any
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Dot(Node):
    def __str__(self) -> str:
        return "."


@dataclass
class Command(Node):
    args: list[Node]

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, Pipe) else str(a) for a in self.args)


@dataclass
class Pipe(Node):
    decls: list[str]
    assign: bool
    cmds: list[Command]

    def __str__(self) -> str:
        head = ", ".join(self.decls) + (" = " if self.assign else " := ") if self.decls else ""
        return head + " | ".join(str(c) for c in self.cmds)


@dataclass
class Action(Node):
    pipe: Pipe


@dataclass
class Branch(Node):
    kind: str  # if, range, with
    pipe: Pipe
    body: list[Node]
    other: list[Node] | None


@dataclass
class Call(Node):
    name: str
    pipe: Pipe | None


@dataclass
class Control(Node):
    kind: str  # break, continue


# --- parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, funcs: dict[str, Callable[..., Any]]) -> None:
        self.text = text
        self.toks = _lex(text)
        self.i = 0
        self.funcs = funcs
        self.templates: dict[str, list[Node]] = {}
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.nesting = 0  # inside if/range/with/define/block: no define there

    def error(self, msg: str, pos: int | None = None) -> TemplateError:
        tok = self.toks[min(self.i, len(self.toks) - 1)]
        p = tok.pos if pos is None else pos
        line = self.text.count("\n", 0, p) + 1
        return TemplateError(f"template: :{line}: {msg}")

    def peek(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def next_nonspace(self) -> Tok:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_nonspace(self) -> Tok:
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        return self.toks[j]

    def skip_space(self) -> None:
        while self.peek().kind == "space":
            self.i += 1

    def parse(self) -> list[Node]:
        body, stop = self.item_list(top=True)
        if stop is not None:
            raise self.error(f"unexpected {{{{{stop}}}}}")
        return body

    def item_list(self, top: bool = False) -> tuple[list[Node], str | None]:
        """Nodes until ``{{end}}``/``{{else}}`` (returned as the stop word) or the end."""
        if top:
            return self.items(top)
        self.nesting += 1
        try:
            return self.items(top)
        finally:
            self.nesting -= 1

    def items(self, top: bool) -> tuple[list[Node], str | None]:
        nodes: list[Node] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                if not top:
                    raise self.error("unexpected EOF")
                return nodes, None
            if tok.kind == "text":
                nodes.append(Text(tok.pos, tok.val))
                continue
            # "{{"
            word = self.peek_nonspace()
            if word.kind == "kw":
                self.next_nonspace()
                if word.val in ("end", "else"):
                    if top:
                        raise self.error(f"unexpected {{{{{word.val}}}}}")
                    if word.val == "end":
                        self.expect_end("end")
                    return nodes, word.val
                node = self.control(word)
                if node is not None:
                    nodes.append(node)
                continue
            pipe = self.pipeline("command")
            nodes.append(Action(tok.pos, pipe))

    def expect_end(self, context: str) -> None:
        tok = self.next_nonspace()
        if tok.kind != "end":
            raise self.error(f"unexpected {_describe(tok)} in {context}")

    def control(self, word: Tok) -> Node | None:
        kind = word.val
        if kind in ("if", "range", "with"):
            return self.branch(kind, word.pos)
        if kind in ("break", "continue"):
            if not self.range_depth:
                raise self.error(f"{{{{{kind}}}}} outside {{{{range}}}}")
            self.expect_end(f"{{{{{kind}}}}}")
            return Control(word.pos, kind)
        if kind == "define" and self.nesting:
            raise self.error("unexpected <define> in command")
        if kind in ("template", "block", "define"):
            name_tok = self.next_nonspace()
            if name_tok.kind not in ("str", "raw"):
                raise self.error(f"unexpected {_describe(name_tok)} in {kind} clause")
            name = _unquote(name_tok)
            if kind == "define":
                self.expect_end("define clause")
                saved = self.vars
                self.vars = ["$"]
                body, stop = self.item_list()
                self.vars = saved
                if stop != "end":
                    raise self.error("unexpected {{else}} in define clause")
                self.templates[name] = body
                return None
            pipe = None
            if self.peek_nonspace().kind != "end":
                pipe = self.pipeline(f"{kind} clause")
            else:
                self.next_nonspace()
            if kind == "block":
                if pipe is None:
                    raise self.error("missing value for block clause")
                saved = self.vars
                self.vars = ["$"]
                body, stop = self.item_list()
                self.vars = saved
                if stop != "end":
                    raise self.error("unexpected {{else}} in block clause")
                self.templates[name] = body
            return Call(name_tok.pos, name, pipe)
        raise self.error(f"unexpected {word.val}")

    def branch(self, kind: str, pos: int) -> Branch:
        depth = len(self.vars)
        pipe = self.pipeline(kind)
        if kind == "range":
            self.range_depth += 1
        body, stop = self.item_list()
        if kind == "range":
            self.range_depth -= 1
        other: list[Node] | None = None
        if stop == "else":
            nxt = self.peek_nonspace()
            if nxt.kind == "kw" and nxt.val in ("if", "with") and kind == nxt.val:
                # "{{else if x}}" is "{{else}}{{if x}}...{{end}}{{end}}" sharing one end
                self.next_nonspace()
                other = [self.branch(nxt.val, nxt.pos)]
            else:
                self.expect_end("else")
                other, stop = self.item_list()
                if stop != "end":
                    raise self.error("expected end; found {{else}}")
        del self.vars[depth:]
        return Branch(pos, kind, pipe, body, other)

    def pipeline(self, context: str) -> Pipe:
        start = self.peek_nonspace().pos
        decls: list[str] = []
        assign = False
        # declarations: "$x :=", "$x =", "$i, $v :="
        j = self.i
        while self.toks[j].kind == "space":
            j += 1
        if self.toks[j].kind == "var":
            k = j + 1
            while self.toks[k].kind == "space":
                k += 1
            if self.toks[k].kind == "op" and self.toks[k].val in (":=", "=", ","):
                first = self.toks[j]
                self.i = k + 1
                op = self.toks[k].val
                decls.append(first.val)
                if op == ",":
                    if context != "range":
                        raise self.error("too many declarations in " + context)
                    second = self.next_nonspace()
                    if self.peek_nonspace().kind == "op" and self.peek_nonspace().val == ",":
                        raise self.error("too many declarations in " + context)
                    if second.kind != "var":
                        raise self.error(f"bad variable declaration in {context}")
                    decls.append(second.val)
                    op_tok = self.next_nonspace()
                    if op_tok.kind != "op" or op_tok.val not in (":=", "="):
                        raise self.error(f"unexpected {_describe(op_tok)} in {context}")
                    op = op_tok.val
                assign = op == "="
                for name in decls:
                    if assign:
                        if name not in self.vars:
                            raise self.error(f'undefined variable "{name}"')
                    else:
                        self.vars.append(name)
        cmds: list[Command] = []
        while True:
            tok = self.peek_nonspace()
            if tok.kind == "end" or (tok.kind == "op" and tok.val == ")"):
                if not cmds:
                    raise self.error(f"missing value for {context}")
                self.next_nonspace()
                break
            if tok.kind == "op" and tok.val == "|":
                raise self.error('unexpected "|" in command')
            cmds.append(self.command())
            nxt = self.peek_nonspace()
            if nxt.kind == "op" and nxt.val == "|":
                self.next_nonspace()
        for stage, c in enumerate(cmds[1:], start=2):
            if isinstance(c.args[0], Const | Dot):
                raise self.error(f"non executable command in pipeline stage {stage}")
        return Pipe(start, decls, assign, cmds)

    def command(self) -> Command:
        self.skip_space()
        args: list[Node] = []
        pos = self.peek().pos
        while True:
            tok = self.peek()
            if tok.kind == "space":
                self.skip_space()
                continue
            if tok.kind == "end" or (tok.kind == "op" and tok.val in ("|", ")")):
                break
            args.append(self.operand())
            after = self.peek()
            if after.kind not in ("space", "end") and not (
                after.kind == "op" and after.val in ("|", ")")
            ):
                raise self.error(f"unexpected {_describe(after)} in operand")
        if not args:
            raise self.error("empty command")
        return Command(pos, args)

    def operand(self) -> Node:
        node = self.term()
        if self.peek().kind == "field":
            names = []
            chain_pos = self.peek().pos
            while self.peek().kind == "field":
                names.append(self.next().val)
            if isinstance(node, Field):
                return Field(chain_pos, node.names + names)
            if isinstance(node, Var):
                return Var(chain_pos, node.name, node.names + names)
            if isinstance(node, Const | Dot):
                raise self.error(f"unexpected . after term {str(node)!r}")
            return Chain(chain_pos, node, names)
        return node

    def term(self) -> Node:
        tok = self.next()
        kind = tok.kind
        if kind == "ident":
            if tok.val not in self.funcs:
                raise self.error(f'function "{tok.val}" not defined')
            return Ident(tok.pos, tok.val)
        if kind == "dot":
            return Dot(tok.pos)
        if kind == "nil":
            return Const(tok.pos, None, "nil")
        if kind == "var":
            if tok.val not in self.vars:
                raise self.error(f'undefined variable "{tok.val}"')
            return Var(tok.pos, tok.val)
        if kind == "field":
            return Field(tok.pos, [tok.val])
        if kind == "bool":
            return Const(tok.pos, tok.val == "true", tok.val)
        if kind in ("str", "raw"):
            return Const(tok.pos, _unquote(tok), tok.val if kind == "str" else f"`{tok.val}`")
        if kind == "char":
            return Const(tok.pos, _char_value(tok.val, self), tok.val)
        if kind == "num":
            return Const(tok.pos, _number(tok.val, self), tok.val)
        if kind == "op" and tok.val == "(":
            pipe = self.pipeline("parenthesized pipeline")
            pipe.pos = tok.pos
            return pipe
        raise self.error(f"unexpected {_describe(tok)} in operand")


def _describe(tok: Tok) -> str:
    if tok.kind == "end":
        return '"}}"'
    if tok.kind == "eof":
        return "EOF"
    if tok.kind == "space":
        return "space"
    if tok.kind in ("str", "char"):
        return f"quoted string {tok.val}" if tok.kind == "str" else tok.val
    if tok.kind == "op":
        return f'"{tok.val}"'
    return f"<{tok.val}>"


_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(body[i + 2 : i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif nxt == "U":
            out.append(chr(int(body[i + 2 : i + 10], 16)))
            i += 10
        elif nxt in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise ValueError(body)
    return "".join(out)


def _unquote(tok: Tok) -> str:
    if tok.kind == "raw":
        return tok.val
    try:
        return _unescape(tok.val[1:-1])
    except (ValueError, IndexError) as exc:
        raise TemplateError("template: :1: invalid syntax") from exc


def _char_value(text: str, parser: _Parser) -> int:
    body = _unescape(text[1:-1])
    if len(body) != 1:
        raise parser.error(f"malformed character constant: {text}")
    return ord(body)


def _number(text: str, parser: _Parser) -> int | float:
    clean = text.replace("_", "")
    try:
        if clean.endswith("i"):
            raise ValueError
        low = clean.lower().lstrip("+-")
        if low.startswith(("0x", "0o", "0b")) and "." not in low and "p" not in low:
            return int(clean, 0)
        if re.fullmatch(r"[+-]?\d+", clean):
            return int(clean, 8) if len(low) > 1 and low.startswith("0") else int(clean)
        if low.startswith("0x"):
            return float.fromhex(clean)
        return float(clean)
    except ValueError:
        raise parser.error(f"illegal number syntax: {go_quote(text)}") from None


# --- functions -------------------------------------------------------------------------


def truth(value: Any) -> bool:
    """Go's ``isTrue``: zero values, nil and empty collections are false; structs are true."""
    if value is MISSING or value is None:
        return False
    if isinstance(value, Record):
        return True
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return bool(value)
    return True


def _basic_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if v is None or v is MISSING:
        return "nil"
    return "other"


def _eq(arg1: Any, *args: Any) -> bool:
    if not args:
        raise TemplateError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in args:
        k2 = _basic_kind(arg)
        for v, k in ((arg1, k1), (arg, k2)):
            if k == "other" and "nil" not in (k1, k2):
                text = go_sprintf("%s", [v])
                raise TemplateError(f"non-comparable type {text}: {go_type_name(v)}")
        if k1 != k2 and "nil" not in (k1, k2):
            raise TemplateError("incompatible types for comparison")
        if k1 == "nil" or k2 == "nil":
            if k1 == k2:
                return True
            continue
        if arg1 == arg:
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka in ("bool", "nil", "other") or kb in ("bool", "nil", "other"):
        raise TemplateError("invalid type for comparison")
    if ka != kb:
        raise TemplateError("incompatible types for comparison")
    return a < b


def _index(item: Any, *indexes: Any) -> Any:
    for ix in indexes:
        if isinstance(item, list | tuple | str):
            if not isinstance(ix, int) or isinstance(ix, bool):
                raise TemplateError(f"cannot index slice/array with type {go_type_name(ix)}")
            if ix < 0 or ix >= len(item):
                raise TemplateError(f"index out of range: {ix}")
            item = item[ix].encode()[0] if isinstance(item, str) else item[ix]
        elif isinstance(item, dict) and not isinstance(item, Record):
            if ix in item:
                item = item[ix]
            else:
                # a missing key of Docker's string maps (labels, options) is "", of
                # anything else Go's zero interface, printed "<no value>"
                strings = all(isinstance(v, str) for v in item.values())
                item = "" if strings else MISSING
        elif item is None or item is MISSING:
            raise TemplateError("index of untyped nil")
        else:
            raise TemplateError(f"can't index item of type {go_type_name(item)}")
    return item


def _slice(item: Any, *indexes: Any) -> Any:
    if not isinstance(item, list | tuple | str):
        raise TemplateError(f"can't slice item of type {go_type_name(item)}")
    if len(indexes) > 2:
        raise TemplateError(f"too many slice indexes: {len(indexes)}")
    idx = [int(i) for i in indexes]
    lo = idx[0] if idx else 0
    hi = idx[1] if len(idx) > 1 else len(item)
    if lo < 0 or hi > len(item) or lo > hi:
        raise TemplateError(f"index out of range: {hi if hi > len(item) else lo}")
    return item[lo:hi]


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | tuple | dict):
        return len(item)
    raise TemplateError(f"len of type {go_type_name(item)}")


def go_sprint(args: tuple) -> str:
    """``fmt.Sprint``: a space between operands when neither is a string."""
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a))
    return "".join(out)


def _html(*args: Any) -> str:
    s = _eval_args_text(args)
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\0", "\ufffd")
    )


def _js(*args: Any) -> str:
    s = _eval_args_text(args)
    out = []
    for ch in s:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=" or ord(ch) < 0x20 or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args_text(args), safe="-_.~")


def _eval_args_text(args: tuple) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return go_sprint(args)


def _and(*args: Any) -> Any:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if truth(a):
            return a
    return args[-1]


def _str_arg(value: Any) -> str:
    if isinstance(value, str):
        return value
    got = "<nil>" if value is MISSING else go_type_name(value)
    raise TemplateError(f"wrong type for value; expected string; got {got}")


def _int_arg(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TemplateError(f"wrong type for value; expected int; got {go_type_name(value)}")


def _join(elems: Any, sep: Any) -> str:
    sep = _str_arg(sep)
    if elems is None or elems is MISSING:
        return ""
    if isinstance(elems, list | tuple):
        return sep.join(go_str(e) for e in elems)
    if isinstance(elems, dict):
        return sep.join(sorted(go_str(v) for v in elems.values()))
    raise TemplateError(f"expected slice, got {go_type_name(elems)}")


def _split(s: Any, sep: Any) -> list[str]:
    s, sep = _str_arg(s), _str_arg(sep)
    if sep == "":
        return list(s)
    return s.split(sep)


def _title(s: Any) -> str:
    s = _str_arg(s)
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), s)


def _pad(s: Any, prefix: Any, suffix: Any) -> str:
    s = _str_arg(s)
    if not s:
        return s
    return " " * _int_arg(prefix) + s + " " * _int_arg(suffix)


def _truncate(s: Any, length: Any) -> str:
    s, n = _str_arg(s), _int_arg(length)
    b = s.encode()
    return s if len(b) < n else b[:n].decode(errors="ignore")


def _call(fn: Any, *args: Any) -> Any:
    if fn is None or fn is MISSING:
        raise TemplateError("call of nil")
    if not callable(fn):
        raise TemplateError(f"non-function of type {go_type_name(fn)}")
    return fn(*args)


BUILTINS: dict[str, Callable[..., Any]] = {
    "and": _and,
    "or": _or,
    "not": lambda a: not truth(a),
    "len": _len,
    "index": _index,
    "slice": _slice,
    "print": lambda *a: go_sprint(a),
    "printf": lambda fmt, *a: go_sprintf(_str_arg(fmt), list(a)),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _lt,
    "le": lambda a, b: _lt(a, b) or _eq(a, b),
    "gt": lambda a, b: not (_lt(a, b) or _eq(a, b)),
    "ge": lambda a, b: not _lt(a, b),
    "html": _html,
    "js": _js,
    "urlquery": _urlquery,
    "call": _call,
}

#: Docker's ``templates.basicFunctions``.
DOCKER_FUNCS: dict[str, Callable[..., Any]] = {
    "json": go_json,
    "split": _split,
    "join": _join,
    "title": _title,
    "lower": lambda s: _str_arg(s).lower(),
    "upper": lambda s: "".join(c.upper() if len(c.upper()) == 1 else c for c in s),
    "pad": _pad,
    "truncate": _truncate,
}

#: Docker's ``templates.HeaderFunctions``: a table header keeps the column's name.
HEADER_FUNCS: dict[str, Callable[..., Any]] = {
    "json": lambda v: v,
    "split": lambda v, _s: v,
    "join": lambda v, _s: v,
    "title": lambda v: v,
    "lower": lambda v: v,
    "upper": lambda v: v,
    "truncate": lambda v, _n: v,
}

# Python arities of the functions Go checks at the call (Go: "wrong number of args").
_ARITY: dict[str, tuple[int, int | None]] = {
    "not": (1, 1),
    "len": (1, 1),
    "index": (1, None),
    "slice": (1, None),
    "printf": (1, None),
    "eq": (1, None),
    "ne": (2, 2),
    "lt": (2, 2),
    "le": (2, 2),
    "gt": (2, 2),
    "ge": (2, 2),
    "and": (1, None),
    "or": (1, None),
    "call": (1, None),
    "json": (1, 1),
    "split": (2, 2),
    "join": (2, 2),
    "title": (1, 1),
    "lower": (1, 1),
    "upper": (1, 1),
    "pad": (3, 3),
    "truncate": (2, 2),
}


# --- evaluation ------------------------------------------------------------------------


@dataclass
class Template:
    """A parsed template; ``execute`` renders it on a value."""

    text: str
    body: list[Node]
    defined: dict[str, list[Node]]
    funcs: dict[str, Callable[..., Any]]
    missing_key_error: bool = False

    def execute(
        self,
        data: Any,
        funcs: dict[str, Callable[..., Any]] | None = None,
        missing_key_error: bool | None = None,
    ) -> str:
        """Render on ``data``; on a failure raise ``TemplateError`` with Go's text."""
        out: list[str] = []
        state = _State(
            self,
            {**self.funcs, **(funcs or {})},
            self.missing_key_error if missing_key_error is None else missing_key_error,
            out,
        )
        try:
            state.walk_list(self.body, data, [("$", data)])
        except RecursionError:
            raise TemplateError("template: exceeded maximum template depth") from None
        except TemplateError as exc:
            exc.partial = "".join(out)
            raise
        return "".join(out)


def parse(text: str, funcs: dict[str, Callable[..., Any]] | None = None) -> Template:
    """Parse ``text`` with Go's builtins, Docker's functions and ``funcs``."""
    all_funcs = {**BUILTINS, **DOCKER_FUNCS, **(funcs or {})}
    parser = _Parser(text, all_funcs)
    body = parser.parse()
    return Template(text, body, parser.templates, all_funcs)


class _State:
    def __init__(self, tmpl: Template, funcs: dict, missing_error: bool, out: list[str]) -> None:
        self.tmpl = tmpl
        self.funcs = funcs
        self.missing_error = missing_error
        self.out = out
        self.depth = 0
        self.name = ""

    def error(self, node: Node, context: str, msg: str) -> TemplateError:
        text = self.tmpl.text[: node.pos]
        nl = text.rfind("\n")
        col = node.pos if nl < 0 else node.pos - nl - 1
        line = text.count("\n") + 1
        return TemplateError(
            f'template: :{line}:{col}: executing "{self.name}" at <{context}>: {msg}'
        )

    def walk_list(self, nodes: list[Node], dot: Any, scope: list) -> None:
        for node in nodes:
            self.walk(node, dot, scope)

    def walk(self, node: Node, dot: Any, scope: list) -> None:
        if isinstance(node, Text):
            self.out.append(node.text)
        elif isinstance(node, Action):
            value = self.eval_pipe(node.pipe, dot, scope)
            if not node.pipe.decls:
                self.out.append(self.printable(node.pipe, value))
        elif isinstance(node, Branch):
            self.branch(node, dot, scope)
        elif isinstance(node, Call):
            body = self.tmpl.defined.get(node.name)
            if body is None:
                raise self.error(
                    node, f'{{{{template "{node.name}"}}}}', f'template "{node.name}" not defined'
                )
            value = self.eval_pipe(node.pipe, dot, scope) if node.pipe else None
            self.depth += 1
            if self.depth > 100000:
                raise self.error(node, node.name, "exceeded maximum template depth (100000)")
            saved, self.name = self.name, node.name
            self.walk_list(body, value, [("$", value)])
            self.name = saved
            self.depth -= 1
        elif isinstance(node, Control):
            raise _Break() if node.kind == "break" else _Continue()

    def printable(self, node: Node, value: Any) -> str:
        if callable(value) and not isinstance(value, Record):
            raise self.error(node, str(node), f"can't print {node} of type func")
        return go_str(value)

    def branch(self, node: Branch, dot: Any, scope: list) -> None:
        mark = len(scope)
        value = self.eval_pipe(node.pipe, dot, scope, declare=node.kind != "range")
        if node.kind in ("if", "with"):
            if truth(value):
                self.walk_list(node.body, value if node.kind == "with" else dot, scope)
            elif node.other is not None:
                self.walk_list(node.other, dot, scope)
            del scope[mark:]
            return
        # range
        items: list[tuple[Any, Any]]
        if value is None or value is MISSING:
            items = []
        elif isinstance(value, Record):
            raise self.range_error(node, value)
        elif isinstance(value, dict):
            items = sorted(value.items(), key=lambda kv: (not isinstance(kv[0], int), kv[0]))
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        else:
            raise self.range_error(node, value)
        if not items:
            if node.other is not None:
                self.walk_list(node.other, dot, scope)
            del scope[mark:]
            return
        decls = node.pipe.decls
        for key, elem in items:
            inner = len(scope)
            if len(decls) == 1:
                self.setvar(scope, decls[0], elem, node.pipe.assign)
            elif len(decls) == 2:
                self.setvar(scope, decls[0], key, node.pipe.assign)
                self.setvar(scope, decls[1], elem, node.pipe.assign)
            try:
                self.walk_list(node.body, elem, scope)
            except _Break:
                del scope[inner:]
                break
            except _Continue:
                pass
            del scope[inner:]
        del scope[mark:]

    def range_error(self, node: Branch, value: Any) -> TemplateError:
        last = node.pipe.cmds[-1]
        return self.error(last, str(last), f"range can't iterate over {go_str(value)}")

    @staticmethod
    def setvar(scope: list, name: str, value: Any, assign: bool) -> None:
        if assign:
            for i in range(len(scope) - 1, -1, -1):
                if scope[i][0] == name:
                    scope[i] = (name, value)
                    return
        scope.append((name, value))

    def eval_pipe(self, pipe: Pipe, dot: Any, scope: list, declare: bool = True) -> Any:
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(cmd, dot, scope, value)
        if declare:
            for name in pipe.decls:
                self.setvar(scope, name, value, pipe.assign)
        return value

    def lookup_var(self, node: Node, scope: list, name: str) -> Any:
        for n, v in reversed(scope):
            if n == name:
                return v
        raise self.error(node, name, f"undefined variable: {name}")

    def eval_command(self, cmd: Command, dot: Any, scope: list, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, Field):
            return self.eval_fields(first, dot, first.names, cmd, dot, scope, final)
        if isinstance(first, Chain):
            base = self.eval_arg(first.node, dot, scope)
            return self.eval_fields(first, base, first.names, cmd, dot, scope, final)
        if isinstance(first, Var):
            base = self.lookup_var(first, scope, first.name)
            if not first.names:
                self.not_a_function(cmd, final)
                return base
            return self.eval_fields(first, base, first.names, cmd, dot, scope, final)
        if isinstance(first, Ident):
            return self.call_function(first, cmd, dot, scope, final)
        if isinstance(first, Pipe):
            self.not_a_function(cmd, final)
            return self.eval_pipe(first, dot, scope, declare=False)
        self.not_a_function(cmd, final)
        if isinstance(first, Dot):
            return dot
        if isinstance(first, Const):
            if first.value is None:
                raise self.error(first, "nil", "nil is not a command")
            return first.value
        raise self.error(first, str(first), "can't evaluate command")

    def not_a_function(self, cmd: Command, final: Any) -> None:
        if len(cmd.args) > 1 or final is not _NO_FINAL:
            raise self.error(
                cmd.args[0], str(cmd.args[0]), f"can't give argument to non-function {cmd.args[0]}"
            )

    def eval_fields(
        self,
        node: Node,
        receiver: Any,
        names: list[str],
        cmd: Command | None,
        dot: Any,
        scope: list,
        final: Any,
    ) -> Any:
        for i, name in enumerate(names):
            last = i == len(names) - 1
            args = cmd.args[1:] if (cmd is not None and last) else []
            fin = final if last else _NO_FINAL
            receiver = self.eval_field(node, receiver, name, args, dot, scope, fin)
        return receiver

    def eval_field(
        self,
        node: Node,
        receiver: Any,
        name: str,
        args: list[Node],
        dot: Any,
        scope: list,
        final: Any,
    ) -> Any:
        has_args = bool(args) or final is not _NO_FINAL
        if receiver is MISSING:
            if self.missing_error:
                raise self.error(node, str(node), f'nil data; no entry for key "{name}"')
            return MISSING
        if isinstance(receiver, Record):
            method = receiver.methods.get(name)
            if method is not None:
                values = [self.eval_arg(a, dot, scope) for a in args]
                if final is not _NO_FINAL:
                    values.append(final)
                try:
                    return method(*values)
                except TypeError:
                    raise self.error(
                        node,
                        str(node),
                        f"wrong number of args for {name}: want {method.__code__.co_argcount} got {len(values)}",
                    ) from None
                except TemplateError as exc:
                    raise self.error(node, str(node), f"error calling {name}: {exc}") from None
            if name in receiver:
                if has_args:
                    raise self.error(
                        node, str(node), f"{name} has arguments but cannot be invoked as function"
                    )
                return receiver[name]
            if receiver.go_type:
                raise self.error(
                    node, str(node), f"can't evaluate field {name} in type {receiver.go_type}"
                )
            raise self.error(node, str(node), f'map has no entry for key "{name}"')
        if isinstance(receiver, dict):
            if has_args:
                raise self.error(node, str(node), f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missing_error:
                raise self.error(node, str(node), f'map has no entry for key "{name}"')
            return MISSING
        if receiver is None:
            raise self.error(node, str(node), f"nil pointer evaluating interface {{}}.{name}")
        raise self.error(
            node, str(node), f"can't evaluate field {name} in type {go_type_name(receiver)}"
        )

    def eval_arg(self, node: Node, dot: Any, scope: list) -> Any:
        if isinstance(node, Dot):
            return dot
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Field):
            return self.eval_fields(node, dot, node.names, None, dot, scope, _NO_FINAL)
        if isinstance(node, Var):
            base = self.lookup_var(node, scope, node.name)
            return self.eval_fields(node, base, node.names, None, dot, scope, _NO_FINAL)
        if isinstance(node, Chain):
            base = self.eval_arg(node.node, dot, scope)
            return self.eval_fields(node, base, node.names, None, dot, scope, _NO_FINAL)
        if isinstance(node, Pipe):
            return self.eval_pipe(node, dot, scope, declare=False)
        if isinstance(node, Ident):
            return self.call_function(node, Command(node.pos, [node]), dot, scope, _NO_FINAL)
        raise self.error(node, str(node), "can't handle argument")

    def call_function(self, ident: Ident, cmd: Command, dot: Any, scope: list, final: Any) -> Any:
        name = ident.name
        fn = self.funcs.get(name)
        if fn is None:
            raise self.error(ident, name, f'"{name}" is not a defined function')
        arg_nodes = cmd.args[1:]
        if name in ("and", "or"):
            # short-circuit, as Go 1.18+
            values: list[Any] = []
            nodes: list[Any] = list(arg_nodes) + (
                [_FinalNode(final)] if final is not _NO_FINAL else []
            )
            if not nodes:
                raise self.error(
                    ident, name, f"wrong number of args for {name}: want at least 1 got 0"
                )
            for n in nodes:
                v = n.value if isinstance(n, _FinalNode) else self.eval_arg(n, dot, scope)
                values.append(v)
                if truth(v) == (name == "or"):
                    return v
            return values[-1]
        values = [self.eval_arg(a, dot, scope) for a in arg_nodes]
        if final is not _NO_FINAL:
            values.append(final)
        for i, kind in enumerate(_PARAMS.get(name, ())):
            if i < len(values):
                self.check_arg(arg_nodes[i] if i < len(arg_nodes) else ident, kind, values[i])
        lo, hi = _ARITY.get(name, (0, None))
        if len(values) < lo or (hi is not None and len(values) > hi):
            want = f"at least {lo}" if hi is None else str(lo)
            raise self.error(
                ident, name, f"wrong number of args for {name}: want {want} got {len(values)}"
            )
        try:
            return fn(*values)
        except TemplateError as exc:
            raise self.error(cmd, str(cmd), f"error calling {name}: {exc}") from None
        except TypeError as exc:
            raise self.error(ident, name, f"wrong number of args for {name}: {exc}") from None

    def check_arg(self, node: Node, kind: str, value: Any) -> None:
        """Go's argument conversion: a constant of the wrong kind, or a value of the wrong type."""
        ok = {
            "string": lambda v: isinstance(v, str),
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "[]string": lambda v: (
                isinstance(v, list | tuple) and all(isinstance(e, str) for e in v)
            ),
        }[kind](value)
        if ok:
            return
        if isinstance(node, Const):
            if kind == "[]string":
                msg = f"can't handle {node} for arg of type []string"
            else:
                msg = f"expected {'integer' if kind == 'int' else kind}; found {node}"
            raise self.error(node, str(node), msg)
        got = "<nil>" if value is MISSING else go_type_name(value)
        raise self.error(node, str(node), f"wrong type for value; expected {kind}; got {got}")


#: Go's parameter types of the functions that have them (checked before the call).
_PARAMS: dict[str, tuple[str, ...]] = {
    "printf": ("string",),
    "split": ("string", "string"),
    "join": ("[]string", "string"),
    "title": ("string",),
    "lower": ("string",),
    "upper": ("string",),
    "pad": ("string", "int", "int"),
    "truncate": ("string", "int"),
}


class _FinalNode:
    def __init__(self, value: Any) -> None:
        self.value = value


_NO_FINAL: Any = object()
