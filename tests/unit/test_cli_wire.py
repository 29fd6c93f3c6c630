"""The fork server's request format survives every argument and environment a shell can pass."""

import pytest

from runtime.cli.wire import HEADER, decode_request, encode_request


def test_a_request_round_trips():
    argv = ["run", "--rm", "-e", "A=b=c", "busybox", "sh", "-c", "echo 'x y'\n", "", "ü"]
    env = {"PATH": "/bin", "EMPTY": "", "EQ": "a=b", "NL": "two\nlines"}
    data = encode_request(argv, "/tmp/dir with space", 0o027, "/src/runtime", env)
    (length,) = HEADER.unpack_from(data)
    assert length == len(data) - HEADER.size
    got = decode_request(data[HEADER.size :])
    assert got == {
        "cwd": "/tmp/dir with space",
        "umask": 0o027,
        "package": "/src/runtime",
        "argv": argv,
        "env": env,
    }


@pytest.mark.parametrize("payload", [b"", b"json please", b"wharf-1\0/\x0022\0/p\x005\0only-one"])
def test_anything_else_is_refused(payload):
    with pytest.raises(ValueError):
        decode_request(payload)
