"""Teaching: the chain rule step by step, plain-language hints for autograd errors and warnings.

- `rules`: local derivative rules as data (symbols + torch code), one per op.
- `explain`: the explanation of each backward step, checked against torch's real gradients.
- `messages`: every message key with its English and Brazilian Portuguese text.
- `hints`: torch's error and warning messages -> message keys.
- `sentences`: the gradient check read as a sentence; `table`: the hand backprop table.
- `annotate`: what the engine calls at the end of a trace.

This package imports nothing at load time, so the engine can import `hints` without a cycle.
"""
