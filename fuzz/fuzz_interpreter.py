"""Coverage-guided fuzzing of the engine (lexical checks, parser, static checks, interpreter,
budget guard, recorder, backward, gradient check) with atheris, in process.

The property: `trace()` returns a Trace or raises ProgramError. Anything else (an exception of any
other type, a crash, a hang past libFuzzer's -timeout) is a finding, and libFuzzer saves the input
as crash-*/timeout-* in the working directory.

    # a short run on a scratch copy of the corpus (libFuzzer adds what it finds to the first
    # directory); `make test` does the same through tests/security/test_fuzz.py
    cp -r fuzz/corpus /tmp/grafo-corpus
    .venv/bin/python fuzz/fuzz_interpreter.py -max_total_time=20 -timeout=10 /tmp/grafo-corpus

    # a long run: an hour, keeping what it learns in a scratch corpus (seeded from ours)
    mkdir -p /tmp/grafo-corpus && cp fuzz/corpus/* /tmp/grafo-corpus/
    .venv/bin/python fuzz/fuzz_interpreter.py -max_total_time=3600 -timeout=10 -rss_limit_mb=4096 \
        -dict=fuzz/grafo.dict /tmp/grafo-corpus fuzz/corpus

    # replay one finding
    .venv/bin/python fuzz/fuzz_interpreter.py crash-<hash>

Inputs are decoded as UTF-8 with `surrogatepass`, so lone surrogates and any other code point reach
the lexical checks. The engine's own limits apply, with a 1 s time limit and 5 million tensor
elements in total per run (so a run stays well under libFuzzer's default 2 GB RSS limit).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import atheris  # noqa: E402

with atheris.instrument_imports(include=["app"]):
    from app.engine import trace  # noqa: E402
    from app.errors import ProgramError  # noqa: E402
    from app.settings import Limits  # noqa: E402
    from app.trace_model import Trace  # noqa: E402

import torch  # noqa: E402

torch.set_num_threads(1)
# The engine's limits, with a shorter time and a smaller total so each input stays fast and small.
LIMITS = Limits(time_limit_s=1.0, max_total_elements=5_000_000)


def test_one_input(data: bytes) -> None:
    try:
        source = data.decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        source = data.decode("utf-8", errors="surrogateescape")  # invalid bytes become lone surrogates
    try:
        result = trace(source, limits=LIMITS)
    except ProgramError:
        return
    if not isinstance(result, Trace):
        raise AssertionError(f"trace returned {type(result).__name__}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
