"""Dockerfile parsing: a table of inputs and the instructions they must give."""

import pytest

from runtime.build.dockerignore import is_ignored, parse_dockerignore
from runtime.build.errors import BuildError
from runtime.build.parser import parse
from runtime.build.substitution import split_words

CASES = [
    ("FROM busybox\n", [("FROM", "busybox", 1, {}, None)]),
    ("from busybox as b\n", [("FROM", "busybox as b", 1, {}, None)]),
    (
        "FROM a\nRUN echo a \\\n  && echo b\n",
        [("FROM", "a", 1, {}, None), ("RUN", "echo a && echo b", 2, {}, None)],
    ),
    (
        "FROM a\nRUN echo a \\\n\n# note\n  b\n",
        [("FROM", "a", 1, {}, None), ("RUN", "echo a b", 2, {}, None)],
    ),
    (
        "# escape=`\nFROM a\nRUN dir `\n  c:\\\n",
        [("FROM", "a", 2, {}, None), ("RUN", "dir c:\\", 3, {}, None)],
    ),
    (
        'FROM a\nCMD ["sh", "-c", "x"]\n',
        [("FROM", "a", 1, {}, None), ("CMD", '["sh", "-c", "x"]', 2, {}, ["sh", "-c", "x"])],
    ),
    ("FROM a\nCMD [not json\n", [("FROM", "a", 1, {}, None), ("CMD", "[not json", 2, {}, None)]),
    (
        "FROM a\nCOPY --from=b --chown=1:2 x /y\n",
        [("FROM", "a", 1, {}, None), ("COPY", "x /y", 2, {"from": "b", "chown": "1:2"}, None)],
    ),
    ("  FROM   a  \n\t\n   RUN    x\n", [("FROM", "a", 1, {}, None), ("RUN", "x", 3, {}, None)]),
    ("# syntax=docker/dockerfile:1\nFROM a\n", [("FROM", "a", 2, {}, None)]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_parse_table(text, expected):
    got = [(i.cmd, i.args, i.line, i.flags, i.json_args) for i in parse(text).instructions]
    assert got == expected


def test_heredoc_bodies_are_kept():
    df = parse("FROM a\nRUN <<EOF\necho one\necho two\nEOF\nCMD x\n")
    run = df.instructions[1]
    assert run.heredocs == [("EOF", "echo one\necho two\n")]
    assert df.instructions[2].line == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM a\nFROB x\n", "Dockerfile:2: unknown instruction: FROB"),
        ("FROM a\nSHELL sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
        ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token"),
        ("FROM a\nRUN <<EOF\nnever ends\n", "Dockerfile:2: unterminated heredoc"),
        ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
    ],
)
def test_errors_name_the_line(text, message):
    with pytest.raises(BuildError, match=message):
        parse(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("$A", ["x"]),
        ("${A}y", ["xy"]),
        ("${B:-def}", ["def"]),
        ("${A:-def}", ["x"]),
        ("${A:+alt}", ["alt"]),
        ("${B:+alt}", []),
        ("${E-set}", []),
        ("${B-unset}", ["unset"]),
        ('"q $A"', ["q x"]),
        ("'s $A'", ["s $A"]),
        ("\\$A", ["$A"]),
        ("a\\ b c", ["a b", "c"]),
    ],
)
def test_substitution(text, words):
    assert split_words(text, {"A": "x", "E": ""}) == words


@pytest.mark.parametrize("text", ["$NOPE", "${NOPE}", "a-${NOPE}-b", '"in $NOPE quotes"'])
def test_a_variable_never_declared_is_an_error_naming_it_and_the_line(text):
    with pytest.raises(BuildError, match=r"Dockerfile:7: \$NOPE is used but not declared"):
        split_words(text, {"A": "x"}, line=7)


def test_dockerignore_rules():
    pats = parse_dockerignore("# c\n*.log\n!keep.log\nbuild/\n**/*.tmp\ndocs\n!docs/README.md\n")
    assert is_ignored("a.log", pats)
    assert not is_ignored("keep.log", pats)
    assert is_ignored("build/x/y", pats)
    assert is_ignored("deep/er/f.tmp", pats) and is_ignored("f.tmp", pats)
    assert is_ignored("docs/other.md", pats)
    assert not is_ignored("docs/README.md", pats), "a later ! exception wins"
    assert not is_ignored("src/main.py", pats)
