"""Go's text/template as Docker runs it: each expected text below is what Docker's CLI
(Go 1.24 text/template with Docker's template functions) printed for the template, run
on the same data: ``docker context inspect -f TEMPLATE default``'s context object.
"""

from __future__ import annotations

import pytest

from runtime.cli.gotemplate import TemplateError, parse
from runtime.cli.govalues import Record, go_duration, go_json

DATA = Record(
    {
        "Name": "default",
        "Metadata": Record({}, go_type="store.Metadata"),
        "Endpoints": {
            "docker": Record(
                {"Host": "unix:///var/run/docker.sock", "SkipTLSVerify": False},
                go_type="context.EndpointMetaBase",
            )
        },
        "TLSMaterial": {},
        "Storage": Record(
            {"MetadataPath": "<IN MEMORY>", "TLSPath": "<IN MEMORY>"}, go_type="store.StorageInfo"
        ),
    },
    go_type="context.contextWithTLSListing",
)

OK_CASES = [
    ("{{.Name}}", "default"),
    ("{{.Endpoints.docker.Host}}", "unix:///var/run/docker.sock"),
    ("{{.Endpoints.nope}}", "<no value>"),
    ("{{.Endpoints.nope.Host}}", "<no value>"),
    ("{{.Endpoints}}", "map[docker:{unix:///var/run/docker.sock false}]"),
    (
        "{{json .Endpoints}}",
        '{"docker":{"Host":"unix:///var/run/docker.sock","SkipTLSVerify":false}}',
    ),
    ("{{index .Name 1}}", "101"),
    ('{{index .Endpoints "docker"}}', "{unix:///var/run/docker.sock false}"),
    ('{{index .Endpoints "x"}}', "<no value>"),
    ("{{len .Name}} {{len .Endpoints}}", "7 1"),
    (
        '{{printf "%5.2f|%-6s|%q|%v|%d|%x|%X|%o|%b|%e|%g|%c|%U" 3.14159 "ab" "x\\"y" 1.5 42 255 "hi" 8 5 1234.5678 0.000012 65 9731}}',
        ' 3.14|ab    |"x\\"y"|1.5|42|ff|6869|10|101|1.234568e+03|1.2e-05|A|U+2603',
    ),
    ('{{printf "%s %d" 1 "a"}}', "%!s(int=1) %!d(string=a)"),
    ('{{printf "%s"}}', "%!s(MISSING)"),
    ('{{printf "%s" "a" "b"}}', "a%!(EXTRA string=b)"),
    (
        '{{printf "%v %v %v" true nil .Endpoints}}',
        "true <nil> map[docker:{unix:///var/run/docker.sock false}]",
    ),
    (
        '{{printf "%08.3f|%+d|%-5d|%5s|%.2s|%t" 3.14159 5 3 "ab" "abcdef" true}}',
        "0003.142|+5|3    |   ab|ab|true",
    ),
    ('{{printf "%6.2f%%" 12.3456}}', " 12.35%"),
    ('{{range $i, $v := split "a,b,c" ","}}{{$i}}={{$v}} {{end}}', "0=a 1=b 2=c "),
    ('{{range split "a,b,c" ","}}[{{.}}]{{else}}none{{end}}', "[a][b][c]"),
    ('{{range split "" ","}}[{{.}}]{{else}}none{{end}}', "[]"),
    ("{{range .Endpoints}}{{.Host}}{{end}}", "unix:///var/run/docker.sock"),
    ("{{range $k, $v := .Endpoints}}{{$k}}:{{$v.SkipTLSVerify}}{{end}}", "docker:false"),
    ('{{if eq .Name "default"}}yes{{else}}no{{end}}', "yes"),
    ('{{if eq .Name "x" "default"}}yes{{else if eq 1 1}}one{{else}}no{{end}}', "yes"),
    ('{{if ne .Name "default"}}yes{{else if eq 1 2}}one{{else}}no{{end}}', "no"),
    ('{{lt 1 2}} {{le 2 2}} {{gt 1.5 2.5}} {{ge "b" "a"}}', "true true false true"),
    ("{{with .Endpoints.docker}}{{.Host}}{{end}}", "unix:///var/run/docker.sock"),
    ("{{with .Endpoints.x}}{{.Host}}{{else}}none{{end}}", "none"),
    ('{{$x := "a"}}{{$x}}{{$x = "b"}}{{$x}}', "ab"),
    ('{{and 1 0 2}} {{or 0 "" "z"}} {{not 0}} {{and 1 2}}', "0 z true 2"),
    ('{{print 1 2 "a" "b" 3}}|{{println 1 "a"}}|', "1 2ab3|1 a\n|"),
    (
        '{{html "<a href=\'x\'>&\\"</a>"}} {{js "it\'s <b>=&\\\\"}} {{urlquery "a b&c=d/é"}}',
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt; it\\'s \\u003Cb\\u003E\\u003D\\u0026\\\\ a+b%26c%3Dd%2F%C3%A9",
    ),
    ('{{slice "abcdef" 1 3}} {{slice (split "a,b,c" ",") 1}}', "bc [b c]"),
    (
        '{{join (split "a,b,c" ",") "-"}} {{title "hello world-foo bar_baz"}} {{upper "aB"}} {{lower "aB"}}',
        "a-b-c Hello World-Foo Bar_baz AB ab",
    ),
    (
        '[{{pad "x" 2 3}}][{{pad "" 2 3}}] {{truncate "abcdef" 3}} {{truncate "ab" 3}} {{truncate "abc" 3}}',
        "[  x   ][] abc ab abc",
    ),
    ('{{- "  trimmed  " -}}', "  trimmed  "),
    ('a  {{- "b" -}}  c', "abc"),
    ("a  {{- /* comment */ -}}  c", "ac"),
    ("a{{/* c */}}b", "ab"),
    ('{{.Name | printf "%s!"}}', "default!"),
    ('{{"x" | printf "%s-%s" "a"}}', "a-x"),
    ("{{.Name | len}}", "7"),
    ('{{(split "a,b" ",") | len}}', "2"),
    ('{{(index .Endpoints "docker").Host}}', "unix:///var/run/docker.sock"),
    ("{{$e := .Endpoints}}{{$e.docker.Host}}", "unix:///var/run/docker.sock"),
    (
        '{{range $i, $v := split "a,b,c" ","}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 2}}{{break}}{{end}}{{$v}}{{end}}',
        "a",
    ),
    ('{{define "T"}}[{{.}}]{{end}}{{template "T" .Name}}{{template "T" "x"}}', "[default][x]"),
    ('{{block "B" .Name}}<{{.}}>{{end}}', "<default>"),
    ('{{json "<&>"}} {{json 1.5}} {{json (split "a" ",")}} {{json nil}}', '"<&>" 1.5 ["a"] null'),
    ("{{1.0}} {{1e3}} {{0x1F}} {{'a'}} {{-5}} {{1_000}}", "1 1000 31 97 -5 1000"),
    ('{{"a\\tb\\u00e9"}}', "a\tbé"),
    ('{{printf "%q" (split "a,b" ",")}}', '["a" "b"]'),
    ('{{printf "%v" (split "a,b" ",")}} {{split "a,b" ","}}', "[a b] [a b]"),
    ('{{printf "%T" 1}}', "int"),
    ('{{printf "%5t|%-7v|" true "x"}}', " true|x      |"),
    ("{{.Storage}}", "{<IN MEMORY> <IN MEMORY>}"),
    ("{{.Storage.MetadataPath | lower}}", "<in memory>"),
    ("{{.Name}} {{- .Name}}", "defaultdefault"),
    ('{{range $x := split "a,b" ","}}{{$x}}{{end}}', "ab"),
    ('{{printf "%d" 3.5}}', "%!d(float64=3.5)"),
    ('{{printf "%s" true}}', "%!s(bool=true)"),
    ('{{range split "a,b" ","}}{{$.Name}}-{{.}} {{end}}', "default-a default-b "),
    ('{{$x := 1}}{{range split "a,b" ","}}{{$x = 2}}{{end}}{{$x}}', "2"),
    ("{{if true}}{{$y := 3}}{{$y}}{{end}}", "3"),
    ('{{if $z := "q"}}{{$z}}{{end}}', "q"),
    ("{{with $w := .Name}}{{$w}}{{.}}{{end}}", "defaultdefault"),
    ("{{ .Name }}", "default"),
    ("{{.Name | }}", "default"),
    ('{{printf "%d items" (len (split "a,b,c" ","))}}', "3 items"),
    ('{{len (index .Endpoints "docker").Host}}', "27"),
    ('{{"a" | printf "%s %s" "b"}}', "b a"),
    ("{{print}}|{{println}}|", "|\n|"),
    ("{{json .Storage}}", '{"MetadataPath":"<IN MEMORY>","TLSPath":"<IN MEMORY>"}'),
    ("{{with 0}}x{{else with 1}}y{{end}}", "y"),
    ("{{range $i := 3}}{{$i}}{{end}}", "012"),
    (
        "{{true}} {{false}} {{1.5}} {{2.50}} {{1e21}} {{1e-5}} {{100000000.0}}",
        "true false 1.5 2.5 1e+21 1e-05 1e+08",
    ),
    ('{{"\\x41\\101\\u00e9"}}', "AAé"),
    ('{{split "a" ""}} {{split "" ","}} {{len (split "" ",")}}', "[a] [] 1"),
    ('{{printf "%-10s|%10s|" "ab" "cd"}}', "ab        |        cd|"),
    ('{{printf "%3d|%-3d|%03d" 7 7 7}}', "  7|7  |007"),
    ('{{printf "%x %X %#x %#v" "hi" 255 255 "s"}}', '6869 FF 0xff "s"'),
    ('{{printf "[%5.1f] [%-8.3f] [%.0f]" 3.14159 2.5 2.5}}', "[  3.1] [2.500   ] [2]"),
    ('{{printf "%q %q" 65 "é\\n"}}', "'A' \"é\\n\""),
    ('{{index "abc" 1}}', "98"),
    ('{{title "HELLO wORLD"}}', "HELLO WORLD"),
    ('{{ 3 | printf "%d" }}', "3"),
    ('{{printf "%s" .Endpoints}}', "map[docker:{unix:///var/run/docker.sock %!s(bool=false)}]"),
    ('{{printf "%d" (split "1,2" ",")}}', "[%!d(string=1) %!d(string=2)]"),
    ('{{range $i, $e := split "a,b,c" ","}}{{if $i}}, {{end}}{{$e}}{{end}}', "a, b, c"),
    ('{{with $x := "v"}}{{$x}}{{else with $y := ""}}{{$y}}{{else}}none{{end}}', "v"),
    (
        '{{define "r"}}{{if .}}{{len .}}{{template "r" slice . 1}}{{end}}{{end}}{{template "r" "abc"}}',
        "321",
    ),
    ("{{- /* c */ -}} x", "x"),
    ('{{printf "%v|%s|%d" (split "a b" " ") (split "a b" " ") 5}}', "[a b]|[a b]|5"),
    ('{{index (index .Endpoints "docker") }}', "{unix:///var/run/docker.sock false}"),
    ('{{.Endpoints.docker.Host | printf "%q"}}', '"unix:///var/run/docker.sock"'),
    ("{{if and .Name (not .Metadata)}}a{{else}}b{{end}}", "b"),
    ('{{if or (eq .Name "x") (eq .Name "default")}}ok{{end}}', "ok"),
    ("{{ $n := len .Name }}{{ if gt $n 3 }}long{{ end }}", "long"),
    ('{{"a" | eq "a"}}', "true"),
    ('{{println "x" "y"}}', "x y\n"),
    ('{{print "a" 1 2 "b" true false}}', "a1 2btrue false"),
    ('{{printf "%-8s|" .Name}}{{printf "%8.3s|" .Name}}', "default |     def|"),
    ('{{printf "%v" .Storage}}', "{<IN MEMORY> <IN MEMORY>}"),
    ("{{html .Name 1}}", "default1"),
    ('{{urlquery "a+b c"}}', "a%2Bb+c"),
    ('{{js "\\u2028</script>"}}', "\\u2028\\u003C/script\\u003E"),
    ('{{printf "%5.1f%%" 99.55}}', " 99.5%"),
    ('{{printf "%x" -255}} {{printf "%o" 8}} {{printf "%b" -5}}', "-ff 10 -101"),
    ('{{printf "%+.2e" 12345.678}}', "+1.23e+04"),
    (
        '{{printf "%g" 100000.0}} {{printf "%g" 1000000.0}} {{printf "%G" 1e-7}}',
        "100000 1e+06 1E-07",
    ),
    ('{{printf "%6.2v|" 3.14159}}', "   3.1|"),
    ('{{printf "%t" 1}}', "%!t(int=1)"),
    ('{{printf "%c|%q" 0x1F600 0x1F600}}', "😀|'😀'"),
    ('{{printf "%08b" 5}}', "00000101"),
    ('{{printf "%-08d|" 5}}', "5       |"),
    ('{{printf "% d|%+d" 5 5}}', " 5|+5"),
]

ERROR_CASES = [
    (
        "{{.Foo}}",
        'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type context.contextWithTLSListing',
    ),
    (
        "{{.A.B}}",
        'template: :1:4: executing "" at <.A.B>: can\'t evaluate field A in type context.contextWithTLSListing',
    ),
    (
        "{{.Metadata.Nope}}",
        'template: :1:11: executing "" at <.Metadata.Nope>: can\'t evaluate field Nope in type store.Metadata',
    ),
    (
        "{{index .Name 9}}",
        'template: :1:2: executing "" at <index .Name 9>: error calling index: index out of range: 9',
    ),
    (
        "{{range .Name}}x{{end}}",
        'template: :1:8: executing "" at <.Name>: range can\'t iterate over default',
    ),
    (
        '{{eq 1 "a"}}',
        'template: :1:2: executing "" at <eq 1 "a">: error calling eq: incompatible types for comparison',
    ),
    (
        "{{lt 1 2.0}}",
        'template: :1:2: executing "" at <lt 1 2.0>: error calling lt: incompatible types for comparison',
    ),
    ("{{$y}}", 'template: :1: undefined variable "$y"'),
    ("{{nope}}", 'template: :1: function "nope" not defined'),
    (
        '{{template "nope"}}',
        'template: :1:11: executing "" at <{{template "nope"}}>: template "nope" not defined',
    ),
    ("{{if}}x{{end}}", "template: :1: missing value for if"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{range .Name}}", "template: :1: unexpected EOF"),
    (
        '{{.Name "x"}}',
        'template: :1:2: executing "" at <.Name>: Name has arguments but cannot be invoked as function',
    ),
    (
        '{{index (split "a,b" ",") 5}}',
        'template: :1:2: executing "" at <index (split "a,b" ",") 5>: error calling index: index out of range: 5',
    ),
    ("{{len 3}}", 'template: :1:2: executing "" at <len 3>: error calling len: len of type int'),
    (
        "{{index 3 1}}",
        'template: :1:2: executing "" at <index 3 1>: error calling index: can\'t index item of type int',
    ),
    ("{{nil}}", 'template: :1:2: executing "" at <nil>: nil is not a command'),
    (
        "{{.Name | .Name}}",
        'template: :1:10: executing "" at <.Name>: Name has arguments but cannot be invoked as function',
    ),
    ('{{"a" | 1}}', "template: :1: non executable command in pipeline stage 2"),
    (
        "{{eq .Endpoints .Endpoints}}",
        'template: :1:2: executing "" at <eq .Endpoints .Endpoints>: error calling eq: non-comparable type map[docker:{unix:///var/run/docker.sock %!s(bool=false)}]: map[string]interface {}',
    ),
    ("{{lower 1}}", 'template: :1:8: executing "" at <1>: expected string; found 1'),
    (
        '{{join "a" ","}}',
        'template: :1:7: executing "" at <"a">: can\'t handle "a" for arg of type []string',
    ),
    (
        '{{range $i, $e := split "a,b" ","}}{{$i}}{{$e}}{{end}}{{$i}}',
        'template: :1: undefined variable "$i"',
    ),
    ("{{if}}x{{end}}", "template: :1: missing value for if"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{else}}", "template: :1: unexpected {{else}}"),
    ("{{range .Name}}", "template: :1: unexpected EOF"),
    (
        '{{.Name "x"}}',
        'template: :1:2: executing "" at <.Name>: Name has arguments but cannot be invoked as function',
    ),
    (
        "{{.Name.Foo}}",
        'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type string',
    ),
    ("{{.Name}}{{", "template: :1: unclosed action"),
    ("{{.Name", "template: :1: unclosed action"),
    ('{{"unterminated}}', "template: :1: unterminated quoted string"),
    ("{{(1}}", "template: :1: unclosed left paren"),
    ("{{1)}}", "template: :1: unexpected right paren"),
    ("{{| .Name}}", 'template: :1: unexpected "|" in command'),
    ("{{$x := }}", "template: :1: missing value for command"),
    ("{{.Name.}}", "template: :1: unexpected <.> in operand"),
    (
        '{{index .Endpoints "docker" "Host"}}',
        'template: :1:2: executing "" at <index .Endpoints "docker" "Host">: error calling index: can\'t index item of type context.EndpointMetaBase',
    ),
    (
        "{{not}}",
        'template: :1:2: executing "" at <not>: wrong number of args for not: want 1 got 0',
    ),
    (
        "{{and}}",
        'template: :1:2: executing "" at <and>: wrong number of args for and: want at least 1 got 0',
    ),
    (
        "{{eq}}",
        'template: :1:2: executing "" at <eq>: wrong number of args for eq: want at least 1 got 0',
    ),
    (
        "{{eq 1}}",
        'template: :1:2: executing "" at <eq 1>: error calling eq: missing argument for comparison',
    ),
    (
        "{{ne 1 2 3}}",
        'template: :1:2: executing "" at <ne>: wrong number of args for ne: want 2 got 3',
    ),
    (
        '{{print nil}} {{printf "%v" nil}} {{nil | print}}',
        'template: :1:36: executing "" at <nil>: nil is not a command',
    ),
    (
        '{{slice "abc" 4}}',
        'template: :1:2: executing "" at <slice "abc" 4>: error calling slice: index out of range: 4',
    ),
    (
        "{{range $i, $c := .Name}}{{end}}",
        'template: :1:18: executing "" at <.Name>: range can\'t iterate over default',
    ),
    (
        "{{range .Endpoints}}{{range $k, $v := .}}{{end}}{{end}}",
        'template: :1:38: executing "" at <.>: range can\'t iterate over {unix:///var/run/docker.sock false}',
    ),
    ("{{break}}", "template: :1: {{break}} outside {{range}}"),
    (
        '{{range split "a" ","}}{{define "x"}}{{end}}{{end}}',
        "template: :1: unexpected <define> in command",
    ),
    (
        "{{index nil 1}}",
        'template: :1:2: executing "" at <index nil 1>: error calling index: index of untyped nil',
    ),
    ("{{.Name}", "template: :1: bad character U+007D '}'"),
    ("{{.Name", "template: :1: unclosed action"),
    ('{{"abc}}', "template: :1: unterminated quoted string"),
    ("{{(.Name}}", "template: :1: unclosed left paren"),
    ("{{.Name)}}", "template: :1: unexpected right paren"),
    ("{{$x := }}", "template: :1: missing value for command"),
    ("{{.Name.}}", "template: :1: unexpected <.> in operand"),
    ("{{if .Name}}x", "template: :1: unexpected EOF"),
    ("{{range}}{{end}}", "template: :1: missing value for range"),
    ("{{with}}{{end}}", "template: :1: missing value for with"),
    ("{{else}}", "template: :1: unexpected {{else}}"),
    ("{{end}}", "template: :1: unexpected {{end}}"),
    ("{{.Name | | printf}}", 'template: :1: unexpected "|" in command'),
    ("{{template}}", 'template: :1: unexpected "}}" in template clause'),
    ('{{define "a"}}x', "template: :1: unexpected EOF"),
    ('{{printf "%s" .Name extra}}', 'template: :1: function "extra" not defined'),
    ("{{ 1a }}", 'template: :1: bad number syntax: "1a"'),
    ("{{.Name %}}", 'template: :1: unexpected "%" in operand'),
    ("{{$.}}", "template: :1: unexpected <.> in operand"),
    ("{{ .Name := 3 }}", 'template: :1: unexpected ":=" in operand'),
    ("{{range $a, $b, $c := .Name}}{{end}}", "template: :1: too many declarations in range"),
    ("{{with $a, $b := .Name}}{{end}}", "template: :1: too many declarations in with"),
    ("{{'ab'}}", "template: :1: malformed character constant: 'ab'"),
    ("{{0x}}", 'template: :1: illegal number syntax: "0x"'),
    ("{{1e}}", 'template: :1: illegal number syntax: "1e"'),
    ('{{"\\q"}}', "template: :1: invalid syntax"),
]


@pytest.mark.parametrize(("template", "expected"), OK_CASES)
def test_it_renders_as_go(template: str, expected: str) -> None:
    assert parse(template).execute(DATA) == expected


@pytest.mark.parametrize(("template", "expected"), ERROR_CASES)
def test_it_fails_with_gos_error(template: str, expected: str) -> None:
    with pytest.raises(TemplateError) as exc:
        parse(template).execute(DATA)
    assert str(exc.value) == expected


def test_a_missing_map_key_is_no_value_or_an_error_when_asked() -> None:
    tmpl = parse("{{.Config.Nope}}")
    data = Record({"Config": {"Image": "busybox"}})
    assert tmpl.execute(data) == "<no value>"
    with pytest.raises(TemplateError) as exc:
        tmpl.execute(data, missing_key_error=True)
    assert str(exc.value) == (
        'template: :1:9: executing "" at <.Config.Nope>: map has no entry for key "Nope"'
    )


def test_maps_and_lists_render_as_go() -> None:
    data = {"Labels": {"team": "a", "app": "web"}, "Cmd": ["sh", "-c", "x"], "N": None}
    assert (
        parse("{{.Labels}} {{.Cmd}} {{.N}}").execute(data) == "map[app:web team:a] [sh -c x] <nil>"
    )
    assert parse("{{json .Labels}}").execute(data) == '{"app":"web","team":"a"}'
    assert parse('{{index .Labels "team"}}|{{index .Labels "x"}}').execute(data) == "a|"


def test_methods_take_arguments() -> None:
    ctx = Record(
        {"ID": "abc"}, go_type="*formatter.ContainerContext", methods={"Label": {"k": "v"}.get}
    )
    assert parse('{{.Label "k"}}:{{.ID}}').execute(ctx) == "v:abc"


def test_durations_and_json_text() -> None:
    assert [go_duration(n) for n in (0, 2 * 10**9, 90 * 10**9, 1_500_000, 3723 * 10**9)] == [
        "0s",
        "2s",
        "1m30s",
        "1.5ms",
        "1h2m3s",
    ]
    assert go_json({"a": "<b>&", "n": 1.5, "l": [1, None]}) == '{"a":"<b>&","l":[1,null],"n":1.5}'
