"""Everything a program may import, imported and used once in the forkserver, before any worker forks.

Inside the sandbox a program can read the Python installation, so an import of something not loaded
here still works; but loading torch's lazily imported parts costs time and touches files torch reads
only on first use (`/proc/cpuinfo`, caches), which the sandbox hides. So the usual imports of teaching
programs are done here, and a small model is trained for two steps with SGD and Adam.
"""

from __future__ import annotations

import abc  # noqa: F401  (each import below is loaded for the programs, not used here)
import bisect  # noqa: F401
import collections  # noqa: F401
import copy  # noqa: F401
import dataclasses  # noqa: F401
import decimal  # noqa: F401
import enum  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import json  # noqa: F401
import math  # noqa: F401
import operator  # noqa: F401
import pprint  # noqa: F401
import random  # noqa: F401
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import textwrap  # noqa: F401
import time  # noqa: F401
import typing  # noqa: F401

import numpy  # noqa: F401
import numpy.linalg  # noqa: F401
import numpy.random  # noqa: F401
import torch
import torch.autograd.functional  # noqa: F401
import torch.nn  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch.nn.init  # noqa: F401
import torch.optim  # noqa: F401
import torch.utils.data  # noqa: F401

from app.examples import LESSON

WARM_UP_PROGRAMS = (
    LESSON,  # the engine's own warm-up (nn, optimizers, autograd.grad) runs before its first trace
    """\
import numpy as np
import torch
print(torch.__version__, np.__version__)
x = torch.from_numpy(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)).requires_grad_()
f"{(x ** 2).sum().item():.3f}"
""",
)


def warm_up(trace) -> None:
    """Trace each warm-up program once with `trace` (the function workers will call)."""
    torch.set_num_threads(1)
    for program in WARM_UP_PROGRAMS:
        try:
            trace(program)
        except Exception:  # noqa: BLE001 - an import must not fail (the forkserver would die with it)
            pass
