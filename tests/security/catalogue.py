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


@dataclass(frozen=True)
class Case:
    group: str
    id: str
    source: str | None = None
    raw: dict | None = None  # {"headers": {...}, "body": bytes, "chunks": [bytes] | None, "path", "method"}
    status: int = 400
    kind: str | tuple[str, ...] = "forbidden"
    regression: str | None = None
    extra: dict = field(default_factory=dict)


def _escapes() -> list[Case]:
    g = "escapes"
    c = lambda id, source, kind="forbidden", **kw: Case(g, id, source, kind=kind, **kw)  # noqa: E731
    return [
        # dunders and private names
        c("class-bases-subclasses", "x = ().__class__.__bases__[0].__subclasses__()"),
        c("dunder-globals", "x = print.__globals__"),
        c("dunder-builtins-name", "x = __builtins__"),
        c("dunder-import", "x = __import__('os')"),
        c("dunder-on-tensor", T + "x = torch.ones(1).__class__"),
        c("dunder-dict", T + "x = torch.__dict__"),
        c("dunder-loader", T + "x = torch.__loader__"),
        c("dunder-spec", T + "x = torch.__spec__"),
        c("dunder-reduce", "x = print.__reduce__()"),
        c("dunder-init-subclass", "x = (1).__init_subclass__"),
        c("dunder-name-keyword", T + "x = torch.ones(1, __class__=1)"),
        c("underscore-name", "x = _x"),
        c("underscore-attr", T + "x = torch._C"),
        c("underscore-tensor-attr", T + "x = torch.ones(1)._version"),
        c("underscore-tensor-cdata", T + "x = torch.ones(1)._cdata"),
        c("underscore-ops", T + "x = torch._ops"),
        c("underscore-dynamo", T + "x = torch._dynamo"),
        # format strings
        c("format-attr-walk", "x = '{0.__class__}'.format(1)"),
        c("fstring-format-spec", "print(f'{1:{\"{0.__class__}\"}}')"),
        c("fstring-huge-width", "print(f'{1:>999999999}')"),
        c("fstring-ascii-conversion", "print(f'{1!a}')"),
        c("percent-format", "x = '%s' % (1,)", kind="type"),
        c("str-format-method", "x = 'a{}'.format"),
        # getattr tricks and Python built-ins
        c("getattr", T + "x = getattr(torch, 'lo' + 'ad')"),
        c("setattr", T + "setattr(torch, 'x', 1)"),
        c("vars", T + "x = vars(torch)"),
        c("dir", T + "x = dir(torch)"),
        c("globals", "x = globals()"),
        c("locals", "x = locals()"),
        c("eval", "x = eval('1')"),
        c("exec", "exec('x = 1')"),
        c("compile", "x = compile('1', 'a', 'eval')"),
        c("open-read", "x = open('/etc/passwd')"),
        c("breakpoint", "breakpoint()"),
        c("type-call", "x = type(1)"),
        c("object", "x = object"),
        c("builtin-input", "x = input()"),
        c("max-key-callable", "x = max([1, 2], key=print)", kind="type"),
        c("builtin-as-value", "f = print\nx = f.__call__", kind="forbidden"),
        c("print-file", "print('x', file=1)", kind="type"),
        # modules and module objects
        c("import-os", "import os"),
        c("import-sys", "import sys"),
        c("import-subprocess", "import subprocess"),
        c("import-builtins", "import builtins"),
        c("import-ctypes", "import ctypes"),
        c("import-socket", "import socket"),
        c("import-numpy", "import numpy"),
        c("import-torch-os", "import torch.os"),
        c("import-torch-utils", "import torch.utils.data"),
        c("from-torch-import-load", "from torch import load"),
        c("from-torch-import-star", "from torch import *"),
        c("from-relative", "from . import x"),
        c("from-torch-hub", "from torch.hub import load"),
        c("torch-os", T + "x = torch.os.system('id')"),
        c("torch-sys", T + "x = torch.sys.modules"),
        c("torch-builtins", T + "x = torch.builtins"),
        c("torch-ctypes", T + "x = torch.ctypes"),
        c("torch-nn-modules", T + "x = torch.nn.modules"),
        c("torch-nn-functional-torch", TF + "x = F.torch"),
        c("functional-warnings", TF + "x = F.warnings"),
        c("torch-autograd-function", T + "x = torch.autograd.Function"),
        c("torch-autograd-grad", T + "x = torch.autograd.grad"),
        # files and network
        c("torch-load", T + "x = torch.load('/etc/passwd')"),
        c("torch-save", T + f"torch.save(torch.ones(1), '{PWN}')"),
        c("torch-from-file", T + "x = torch.from_file('/etc/passwd', size=10)"),
        c("torch-hub", T + "x = torch.hub.load('a/b', 'c')"),
        c("torch-utils-download", T + f"torch.utils.model_zoo.load_url('http://127.0.0.1/{PWN}')"),
        c("torch-package", T + "x = torch.package"),
        c("torch-jit-load", T + "x = torch.jit.load('/etc/passwd')"),
        c("torch-classes", T + "x = torch.classes"),
        c("torch-ops", T + "x = torch.ops.aten"),
        c("torch-library", T + "x = torch.library.Library('x', 'DEF')"),
        c("torch-compile", T + "x = torch.compile"),
        c("torch-fx", T + "x = torch.fx.symbolic_trace"),
        c("torch-distributed", T + "x = torch.distributed"),
        c("torch-multiprocessing", T + "x = torch.multiprocessing"),
        c("torch-cuda", T + "x = torch.cuda.is_available()"),
        c("numpy-tofile", T + f"torch.ones(1).numpy().tofile('{PWN}')"),
        c("tensor-tofile", T + f"torch.ones(1).tofile('{PWN}')"),
        # storages, raw memory, devices
        c("storage", T + "x = torch.ones(3).storage()"),
        c("untyped-storage", T + "x = torch.ones(3).untyped_storage()"),
        c("data-ptr", T + "x = torch.ones(3).data_ptr()"),
        c("set-", T + "x = torch.ones(3)\nx.set_(torch.ones(1))"),
        c("as-strided", T + "x = torch.ones(3).as_strided((100,), (1,))"),
        c("torch-as-strided", T + "x = torch.as_strided(torch.ones(3), (100,), (1,))"),
        c("share-memory", T + "x = torch.ones(3).share_memory_()"),
        c("resize-", T + "x = torch.ones(3)\nx.resize_(100)"),
        c("numpy-array-attr", T + "x = torch.ones(3).numpy().ctypes"),
        c("device-kwarg", T + "x = torch.ones(3, device='meta')"),
        c("out-kwarg", T + "x = torch.add(torch.ones(3), 1, out=torch.ones(3))"),
        c("pin-memory-kwarg", T + "x = torch.ones(3, pin_memory=True)"),
        c("to-device", T + "x = torch.ones(3).to('meta')"),
        c("to-device-kw", T + "x = torch.ones(3).to(device='cpu')"),
        c("cuda-method", T + "x = torch.ones(3).cuda()"),
        c("tensor-type-string", T + "x = torch.ones(3).type('torch.cuda.FloatTensor')"),
        c("apply-", T + "x = torch.ones(3)\nx.apply_(print)"),
        c("map-", T + "x = torch.ones(3)\nx.map_(x, print)"),
        # hooks and autograd internals
        c("register-hook", W + "w.register_hook(print)"),
        c("register-post-accumulate", W + "w.register_post_accumulate_grad_hook(print)"),
        c("grad-fn-next-functions", W + "x = (w * 2).grad_fn.next_functions"),
        c("grad-fn-register-hook", W + "(w * 2).grad_fn.register_hook(print)"),
        c("grad-fn-metadata", W + "x = (w * 2).grad_fn.metadata"),
        c("grad-fn-call", W + "x = (w * 2).grad_fn(torch.ones(3))", kind="type"),
        c("grad-fn-in-torch", W + "x = torch.add((w * 2).grad_fn, 1)", kind=("type", "runtime")),
        c("saved-tensors", W + "x = (w * 2).grad_fn._saved_self"),
        c("backward-create-graph", W + "(w * w).sum().backward(create_graph=True)"),
        c("backward-inputs", W + "(w * w).sum().backward(inputs=[w])"),
        c("autograd-backward", W + "torch.autograd.backward((w * w).sum())"),
        c("tensor-attr-set-data", W + "w.data = torch.ones(5)"),
        c("tensor-attr-set-shape", W + "w.shape = (5,)"),
        c("method-object-attr", W + "x = w.add.__self__"),
        # uninitialised memory
        c("empty", T + "x = torch.empty(1000)"),
        c("empty-like", T + "x = torch.empty_like(torch.ones(3))"),
        c("empty-strided", T + "x = torch.empty_strided((3,), (1,))"),
        c("new-empty", T + "x = torch.ones(3).new_empty(1000)"),
        c("new-empty-strided", T + "x = torch.ones(3).new_empty_strided((3,), (1,))"),
        c("ones-like-then-resize", T + "x = torch.ones(1)\nx.resize_(1000)"),
        # global state
        c("set-default-dtype", T + "torch.set_default_dtype(torch.float64)"),
        c("set-default-device", T + "torch.set_default_device('meta')"),
        c("set-default-tensor-type", T + "torch.set_default_tensor_type(torch.DoubleTensor)"),
        c("set-num-threads", T + "torch.set_num_threads(64)"),
        c("set-grad-enabled", T + "torch.set_grad_enabled(False)"),
        c("set-printoptions", T + "torch.set_printoptions(threshold=10**9)"),
        c("set-anomaly", T + "torch.autograd.set_detect_anomaly(True)"),
        c("inference-mode", T + "with torch.inference_mode():\n    x = 1"),
        c("use-deterministic", T + "torch.use_deterministic_algorithms(True)"),
        c("set-rng-state", T + "torch.set_rng_state(torch.ones(3))"),
        c("manual-seed-float", T + "torch.manual_seed(1.5)", kind="type"),
        c("manual-seed-bool", T + "torch.manual_seed(True)", kind="type"),
        c("manual-seed-tensor", T + "torch.manual_seed(torch.ones(1))", kind="type"),
        c("manual-seed-string", T + "torch.manual_seed('1')", kind="type"),
        c("manual-seed-huge", T + "torch.manual_seed(2 ** 64)", kind="limit"),
        c("manual-seed-module", T + "torch.manual_seed(torch)", kind="type"),
        c("manual-seed-kwargs", T + "torch.manual_seed(seed=1, x=2)", kind="type"),
        c("with-not-grad-mode", T + "with torch.ones(1):\n    x = 1"),
        c("with-as", T + "with torch.no_grad() as g:\n    x = 1"),
        # regressions found by the suite
        c("setitem-list-into-tensor", T + "x = torch.ones(3)\nx[0] = [1, 2]", kind="type",
          regression="torch's TypeError escaped trace() as an internal error"),
        c("set-grad-wrong-shape", W + "w.grad = torch.ones(5)", kind="runtime",
          regression="torch's RuntimeError escaped trace() as an internal error"),
        c("augassign-shape-mismatch", T + "a = torch.ones(2)\na += torch.ones(3)", kind="runtime",
          regression="found by atheris: torch's error from an in-place `a %= b` escaped trace()"),
        c("augassign-mod-broadcast", T + "a = torch.ones(128)\na %= torch.ones(256)", kind="runtime",
          regression="found by atheris (the minimised input)"),
        c("list-contains-itself", "a = [1]\na[0] = a",
          regression="a list could contain itself (torch.tensor(a) then recursed in C++)"),
        c("list-slice-assign-grows", "a = [1]\nb = list(range(10000))\na[0:1] = b",
          regression="slice assignment grew a list past its checked size"),
    ]


def _bombs() -> list[Case]:
    g = "bombs"
    c = lambda id, source, kind="limit", **kw: Case(g, id, source, kind=kind, **kw)  # noqa: E731
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


_UNSUPPORTED_STATEMENTS = {
    "def": "def f():\n    pass",
    "async-def": "async def f():\n    pass",
    "class": "class A:\n    pass",
    "return": "return 1",
    "for": "for i in range(3):\n    pass",
    "async-for": "async for i in x:\n    pass",
    "while": "while True:\n    pass",
    "if": "if True:\n    pass",
    "try": "try:\n    pass\nexcept Exception:\n    pass",
    "try-star": "try:\n    pass\nexcept* Exception:\n    pass",
    "raise": "raise ValueError",
    "assert": "assert False",
    "del": "x = 1\ndel x",
    "global": "global x",
    "nonlocal": "nonlocal x",
    "annotated-assign": "x: int = 1",
    "match": "match 1:\n    case 1:\n        pass",
    "break": "break",
    "continue": "continue",
    "async-with": "async with x:\n    pass",
    "lambda": "f = lambda: 1",
    "list-comprehension": "x = [i for i in range(3)]",
    "dict-comprehension": "x = {i: i for i in range(3)}",
    "set-comprehension": "x = {i for i in range(3)}",
    "generator": "x = (i for i in range(3))",
    "dict": "x = {'a': 1}",
    "set": "x = {1, 2}",
    "starred": "x = [*range(3)]",
    "double-star": "print(**{'sep': ''})",
    "walrus": "x = (y := 1)",
    "await": "await x",
    "yield": "yield 1",
    "is": "x = 1 is 1",
    "in": "x = 1 in (1, 2)",
    "bit-or": "x = 1 | 2",
    "bit-and": "x = 1 & 2",
    "bit-xor": "x = 1 ^ 2",
    "shift": "x = 1 << 100",
    "invert": "x = ~1",
    "complex": "x = 1j",
    "bytes": "x = b'abc'",
    "star-assign": "a, *b = (1, 2, 3)",
    "attribute-on-int": "x = (1).real",
    "call-on-string-method": "x = 'a'.upper()",
}


def _syntax() -> list[Case]:
    g = "syntax"
    cases = [Case(g, key, source, kind="forbidden") for key, source in _UNSUPPORTED_STATEMENTS.items()]
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
    cases += [Case(g, key, source, kind="syntax") for key, source in malformed.items()]
    return cases


def _unicode() -> list[Case]:
    g = "unicode"
    c = lambda id, source, kind="forbidden", **kw: Case(g, id, source, kind=kind, **kw)  # noqa: E731
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
        c("chunked-small-valid-error", _raw(headers=JSON, chunks=[b'{"source": ', b'"import os"}']), 400, "forbidden"),
        c("chunked-many-tiny", _raw(headers=JSON, chunks=[bytes([b]) for b in b'{"source": "import os"}']),
          400, "forbidden"),
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
        c("duplicate-keys", _raw(b'{"source": "x = 1", "source": "import os"}', JSON), 400, "forbidden"),
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


CASES: list[Case] = _escapes() + _bombs() + _syntax() + _unicode() + _http()
GROUPS = ("escapes", "bombs", "syntax", "unicode", "http")

assert len({(case.group, case.id) for case in CASES}) == len(CASES), "case ids must be unique per group"
