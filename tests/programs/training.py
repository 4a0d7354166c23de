"""Training loops at their real length, made from the corpus in `real/`.

The corpus programs had their loops shortened while the engine recorded every op; each entry here
names a corpus program (whose header names its source) and restores what the source runs, so the
training-loop tests and `bench/training_loop.py` use the tutorials' own iteration counts.
"""

from __future__ import annotations

from pathlib import Path

REAL = Path(__file__).parent / "real"

# name: (corpus file, [(text in the corpus program, text in the source)])
LOOPS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "polynomial_autograd": ("01_polynomial_autograd.py", [("range(60)", "range(2000)")]),
    "polynomial_nn": ("07_polynomial_nn.py", [("range(100)", "range(2000)")]),
    "polynomial_optim": ("08_polynomial_optim.py", [("range(100)", "range(2000)")]),
    "two_layer_net_autograd": ("03_two_layer_net_autograd.py", [
        ("N, D_in, H, D_out = 16, 20, 8, 3", "N, D_in, H, D_out = 64, 1000, 100, 10"),
        ("range(100)", "range(500)"), ("t % 25 == 24", "t % 100 == 99")]),
    "linear_regression_scratch": ("21_d2l_linear_regression_scratch.py", [
        ("synthetic_data(true_w, true_b, 100)", "synthetic_data(true_w, true_b, 1000)")]),
    # The notebook trains for 2,000 epochs; 300 Adam steps are the "few hundred" the tests need.
    "spiral_classifier_adam": ("36_atcold_spiral_classification.py", [("range(30)", "range(300)")]),
}


def loop_source(name: str) -> str:
    """The training program `name`, at its source's length."""
    corpus_file, changes = LOOPS[name]
    source = (REAL / corpus_file).read_text(encoding="utf-8")
    for shortened, original in changes:
        assert shortened in source, (corpus_file, shortened)
        source = source.replace(shortened, original)
    return source
