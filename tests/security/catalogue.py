"""The hostile-input catalogue: one record per input, kept as data.

Each `Case` is a group, a short id, the input and what the service must answer. Program cases
(`source`) are POSTed as `{"source": ...}` to `/api/trace`; raw HTTP cases (`raw`) are sent byte
for byte over a socket, so chunked bodies, missing lengths and invalid UTF-8 reach the real
uvicorn parser. `kind` is the `error.kind` of a 400/413 answer, or "validation" for a 422.

Regression cases for bugs the suite found are marked `regression=...` with what was wrong.
Run by `test_catalogue.py` against a real `python -m app serve` process (time limit 2 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

T = "import torch\n"
TF = "import torch\nimport torch.nn.functional as F\n"
W = T + "w = torch.ones(3, requires_grad=True)\n"
PWN = "/tmp/grafo_pwned"  # every file-writing attempt targets a path containing this


ANY = "*"  # any error kind
HANDLED = (200, 400)  # a bomb may run (real Python) or stop at a limit: either is handled


@dataclass(frozen=True)
class Case:
    group: str
    id: str
    source: str | None = None
    raw: dict | None = None  # {"headers": {...}, "body": bytes, "chunks": [bytes] | None, "path", "method"}
    status: int | tuple[int, ...] = 400
    kind: str | tuple[str, ...] = "syntax"
    regression: str | None = None
    extra: dict = field(default_factory=dict)


def _bombs() -> list[Case]:
    g = "bombs"
    c = lambda id, source, kind=ANY, **kw: Case(g, id, source, status=HANDLED, kind=ANY, **kw)  # noqa: E731
    many_matmuls = T + "a = torch.rand(300, 300)\n" + "b = a @ a\n" * 300
    return [
        c("ones-1e10", T + "x = torch.ones(100000, 100000)"),
        c("zeros-1e12", T + "x = torch.zeros(10**6, 10**6)"),
        c("full-huge", T + "x = torch.full((10**5, 10**5), 1.0)"),
        c("rand-huge", T + "x = torch.rand(10**9)"),
        c("randn-huge", T + "x = torch.randn(50000, 50000)"),
        c("arange-huge", T + "x = torch.arange(10**7)"),
        c("arange-float-step", T + "x = torch.arange(0, 1, 1e-9)"),
        c("linspace-huge", T + "x = torch.linspace(0, 1, 10**9)"),
        c("eye-huge", T + "x = torch.eye(100000)"),
        c("randperm-huge", T + "x = torch.randperm(10**9)"),
        c("expand-sum", T + "x = torch.ones(1).expand(100000, 100000).sum()"),
        c("expand-clone", T + "x = torch.ones(1, 1).expand(10**5, 10**5).clone()"),
        c("broadcast-to", T + "x = torch.broadcast_to(torch.ones(1), (10**5, 10**5))"),
        c("outer", T + "x = torch.outer(torch.ones(100000), torch.ones(100000))"),
        c("broadcast-add", T + "x = torch.ones(100000, 1) + torch.ones(1, 100000)"),
        c("repeat", T + "x = torch.ones(1000).repeat(10000)"),
        c("repeat-interleave", T + "x = torch.ones(1000).repeat_interleave(10000)"),
        c("tile", T + "x = torch.ones(1000).tile(10000)"),
        c("kron", T + "a = torch.ones(1000, 1000)\nx = torch.kron(a, a)"),
        c("einsum-3", T + "a = torch.ones(1000)\nx = torch.einsum('i,j,k->ijk', a, a, a)"),
        c("cat-doubling", T + "a = torch.ones(1)\n" + "a = torch.cat([a, a])\n" * 40),
        c("stack-many", T + "a = torch.ones(1000, 1000)\nx = torch.stack([a, a, a, a, a, a])"),
        c("new-ones-huge", T + "x = torch.ones(1).new_ones(10**5, 10**5)"),
        c("pad-huge", TF + "x = F.pad(torch.ones(10), (10**8, 10**8))"),
        c("one-hot-huge", TF + "x = F.one_hot(torch.arange(10), 10**8)"),
        c("unfold-huge", T + "x = torch.ones(100000).unfold(0, 50000, 1)"),
        c("chained-matmul", T + "a = torch.ones(1000, 1000)\nx = a @ a @ a @ a @ a @ a @ a @ a"),
        c("bmm-huge", T + "a = torch.ones(1000, 1000, 1)\nx = torch.bmm(a, a.transpose(1, 2))"),
        c("total-elements", T + "a = torch.ones(1000, 1000)\n" + "a = a + 1\n" * 60),
        c("many-matmuls-time", many_matmuls, kind=("limit", "timeout")),
        c("pow-int-tower", "x = 9**9**9**9"),
        c("pow-int-big", "x = 2**10**8"),
        c("pow-int-70", "x = 2**70"),
        c("mul-int-overflow", "x = 4294967296 * 4294967296"),
        c("int-from-long-string", "x = int('9' + '9')\ny = int('1' + '0' * 5000)", kind=("type", "limit")),
        c("int-from-float", "x = int(1e300)"),
        c("round-huge", "x = round(1e308)"),
        c("float-pow", "x = 1.0000001 ** 10**7"),
        c("range-huge-list", "x = list(range(10**9))"),
        c("range-huge-sum", "x = sum(range(10**9))"),
        c("tolist-huge", T + "x = torch.arange(20000.0).tolist()"),
        c("long-expression", "x = " + "+".join(["1"] * 3000)),
        c("deep-tuples", "x = " + "(" * 200 + "1" + ",)" * 200),
        c("deep-lists", "x = " + "[" * 90 + "1" + "]" * 90),
        c("deep-unary", "x = " + "-" * 5000 + "1"),
        c("deep-calls", "x = " + "abs(" * 100 + "1" + ")" * 100),
        c("deep-attributes", T + "x = torch" + ".ones" * 300),
        c("many-statements", "x = 1\n" * 401),
        c("too-many-lines", "\n" * 1200 + "x = 1"),
        c("source-too-long", "x = 1  # " + "a" * 20000),
        c("many-ast-nodes", "x = [" + ", ".join(["1"] * 9000) + "]"),
        c("string-growth", "a = 'ab'\n" + "a = a + a\n" * 14),
        c("list-growth", "a = [1]\n" + "a = a + a\n" * 14),
        c("print-flood", "print('x')\n" * 501),
        c("print-long", "a = 'ab'\n" + "a = a + a\n" * 12 + "print(a, a, a, a, a, a, a, a, a)"),
        c("list-dag-print", "a = [1]\n" + "a = [a, a]\n" * 40 + "print(a)",
          regression="a 40-level list DAG (2**40 items) hung the worker when printed"),
        c("list-dag-fstring", "a = [1]\n" + "a = [a, a]\n" * 40 + "s = f'{a}'",
          regression="formatting a list DAG walked it 2**40 times"),
        c("list-dag-tensor", T + "a = [1.0]\n" + "a = [a, a]\n" * 40 + "t = torch.tensor(a)",
          regression="torch.tensor of a list DAG walked it 2**40 times in C++"),
        c("list-dag-compare", "a = [1]\nb = [1]\n" + "a = [a, a]\nb = [b, b]\n" * 40 + "c = a == b",
          regression="comparing two list DAGs walked them 2**40 times"),
        c("empty-tensor-huge-dims", T + "x = torch.zeros(110**4, 0**2, 10**6)",
          regression="found by atheris: 0 elements passed the guard, but summarising its 1.5e8 x 0 x 1e6 "
                     "shape as nested lists hung the worker"),
        c("empty-view-huge-dims", T + "x = torch.ones(5, 0).reshape(0, 10**7)",
          regression="same bug, through a view"),
        c("empty-broadcast-huge-dims", T + "x = torch.ones(10**6, 1, 1) + torch.ones(1, 10**6, 0)",
          regression="same bug, through a broadcasting element-wise op"),
        c("range-list-tensor", T + "r = range(10000)\nt = torch.tensor([" + ", ".join(["r"] * 2000) + "])",
          regression="torch.tensor of a list of ranges built 2*10**7 elements without the guard"),
    ]


def _syntax() -> list[Case]:
    g = "syntax"
    malformed = {
        "unclosed-paren": "x = (",
        "bad-indent": "x = 1\n  y = 2",
        "tab-space-mix": "if 1:\n\tx = 1\n        y = 2",
        "lone-operator": "x = 1 +",
        "unterminated-string": "x = 'abc",
        "unterminated-triple": "x = '''abc",
        "bad-token": "x = 1 $ 2",
        "keyword-as-name": "class = 1",
        "invalid-decimal": "x = 1__0",
        "bad-fstring": "x = f'{'",
        "backslash-eof": "x = 1 \\",
        "empty-fstring-expr": "x = f'{}'",
    }
    return [Case(g, key, source, kind="syntax") for key, source in malformed.items()]


def _unicode() -> list[Case]:
    g = "unicode"
    c = lambda id, source, kind=ANY, **kw: Case(g, id, source, status=HANDLED, kind=ANY, **kw)  # noqa: E731
    return [
        c("nfkc-torch-fullwidth", "ｔｏｒｃｈ.load('/etc/passwd')"),
        c("nfkc-dunder", "x = ().__ｃlass__"),
        c("nfkc-import", "import ｏｓ"),
        c("nfkc-math-bold", "𝐱 = 1"),
        c("nfkc-ligature", "ﬁle = 1"),
        c("cyrillic-lookalike", "tоrch = 1"),  # the o is Cyrillic
        c("greek-lookalike", "x = torch.οnes(1)"),  # the o is Greek
        c("bidi-override-comment", "x = 1  # \u202e"),
        c("bidi-isolate-string", "x = 'a\u2066b'"),
        c("bidi-rlm", "x = 1\u200f"),
        c("zero-width-space", "x\u200b = 1"),
        c("zero-width-joiner", "x = 'a\u200db'"),
        c("bom-inside", "x = 1\n\ufeffy = 2"),
        c("soft-hyphen", "x\u00ad = 1"),
        c("nul", "x = 1\0"),
        c("nul-in-string", "x = 'a\0b'"),
        c("control-char", "x = 1\x07"),
        c("escape-char", "x = '\x1b[31m'"),
        c("lone-surrogate", "x = '\ud800'", kind="syntax"),
        c("lone-low-surrogate", "# \udfff", kind="syntax"),
        c("private-use", "x = '\ue000'"),
        c("unassigned", "x = '\U000e0fff'"),
        c("line-separator-identifier", "x\u2028= 1", kind=("forbidden", "syntax")),
        c("nbsp-indent", "\u00a0x = 1", kind=("forbidden", "syntax")),
    ]


def _raw(body: bytes = b"", headers: dict | None = None, chunks: list[bytes] | None = None,
         method: str = "POST", path: str = "/api/trace") -> dict:
    return {"method": method, "path": path, "body": body, "headers": headers or {}, "chunks": chunks}


JSON = {"content-type": "application/json"}


def _http() -> list[Case]:
    g = "http"
    big = b'{"source": "' + b"x" * (200 * 1024) + b'"}'
    deep = b'{"source": "x = 1", "root": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    c = lambda id, raw, status, kind: Case(g, id, raw=raw, status=status, kind=kind)  # noqa: E731
    return [
        c("oversized-with-length", _raw(big, JSON), 413, "limit"),
        c("oversized-chunked", _raw(headers=JSON, chunks=[big[i:i + 8192] for i in range(0, len(big), 8192)]),
          413, "limit"),
        c("length-lies-huge", _raw(b'{"source": "x = 1"}', {**JSON, "content-length-override": "99999999999"}),
          413, "limit"),
        c("length-not-a-number", _raw(b'{"source": "x = 1"}', {**JSON, "content-length-override": "abc"}),
          400, "http"),
        c("chunked-small-valid-error", _raw(headers=JSON, chunks=[b'{"source": ', b'"x = (1"}']), 400, "syntax"),
        c("chunked-many-tiny", _raw(headers=JSON, chunks=[bytes([b]) for b in b'{"source": "x = (1"}']),
          400, "syntax"),
        c("invalid-utf8", _raw(b'{"source": "\xff\xfe x = 1"}', JSON), 422, "validation"),
        c("invalid-utf8-overlong", _raw(b'{"source": "\xc0\xaf"}', JSON), 422, "validation"),
        c("surrogate-escape-json", _raw(b'{"source": "x = \'\\ud800\'"}', JSON), 400, "syntax"),
        c("deep-json", _raw(deep[:120 * 1024] if len(deep) > 120 * 1024 else deep, JSON), 422, "validation"),
        c("deep-json-array-body", _raw(b"[" * 60_000 + b"]" * 60_000, JSON), 422, "validation"),
        c("not-json", _raw(b"source=x", JSON), 422, "validation"),
        c("empty-body", _raw(b"", JSON), 422, "validation"),
        c("json-null", _raw(b"null", JSON), 422, "validation"),
        c("json-nan-eps", _raw(b'{"source": "x = 1", "eps": NaN}', JSON), 422, "validation"),
        c("json-infinity-eps", _raw(b'{"source": "x = 1", "eps": Infinity}', JSON), 422, "validation"),
        c("duplicate-keys", _raw(b'{"source": "x = 1", "source": "x = (1"}', JSON), 400, "syntax"),
        c("wrong-content-type-text", _raw(b'{"source": "x = 1"}', {"content-type": "text/plain"}), 422, "validation"),
        c("wrong-content-type-form", _raw(b"source=x%3D1", {"content-type": "application/x-www-form-urlencoded"}),
          422, "validation"),
        c("no-content-type", _raw(b'{"source": "x = 1"}', {}), 422, "validation"),
        c("extra-field", _raw(b'{"source": "x = 1", "limits": {"max_ops": 1e9}}', JSON), 422, "validation"),
        c("extra-field-workers", _raw(b'{"source": "x = 1", "time_limit_s": 1000}', JSON), 422, "validation"),
        c("source-not-string", _raw(b'{"source": ["import os"]}', JSON), 422, "validation"),
        c("source-number", _raw(b'{"source": 1}', JSON), 422, "validation"),
        c("gradcheck-string", _raw(b'{"source": "x = 1", "gradcheck": "yes"}', JSON), 422, "validation"),
        c("eps-negative", _raw(b'{"source": "x = 1", "eps": -1}', JSON), 422, "validation"),
        c("root-too-long", _raw(b'{"source": "x = 1", "root": "' + b"a" * 300 + b'"}', JSON), 422, "validation"),
        c("get-on-post-route", _raw(method="GET"), 405, "http"),
        c("put-on-post-route", _raw(b'{"source": "x = 1"}', JSON, method="PUT"), 405, "http"),
        c("unknown-route", _raw(b"{}", JSON, path="/api/../etc/passwd"), 404, "http"),
        c("static-traversal", _raw(method="GET", path="/static/../app/settings.py"), 404, "http"),
        c("static-traversal-encoded", _raw(method="GET", path="/static/%2e%2e/app/settings.py"), 404, "http"),
    ]


CASES: list[Case] = _bombs() + _syntax() + _unicode() + _http()
GROUPS = ("bombs", "syntax", "unicode", "http")

assert len({(case.group, case.id) for case in CASES}) == len(CASES), "case ids must be unique per group"
