"""Recognise the common autograd errors and warnings by torch's own words, and name their message key.

torch's messages are stable phrases (they are what people search for), so a substring is enough;
a message that matches nothing simply gets no hint. The keys' texts are in `messages.py`.
"""

from __future__ import annotations

_ERROR_HINTS = (
    ("Trying to backward through the graph a second time", "backward_twice"),
    ("grad can be implicitly created only for", "non_scalar_backward"),
    ("modified by an inplace operation", "inplace_saved_modified"),
    ("does not require grad and does not have a grad_fn", "no_grad_backward"),
    ("a leaf Variable that requires grad is being used in an in-place operation", "leaf_inplace"),
    ("Can't call numpy() on Tensor that requires grad", "numpy_requires_grad"),
    ("Mismatch in shape: grad_output", "gradient_shape_mismatch"),
)

_WARNING_KEYS = (
    ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed", "nonleaf_grad_none"),
)


def error_hint(message: str) -> str | None:
    """The message key explaining a torch error, or None."""
    for phrase, key in _ERROR_HINTS:
        if phrase in message:
            return key
    return None


def warning_key(message: str) -> str | None:
    """The message key explaining a warning torch emitted, or None."""
    for phrase, key in _WARNING_KEYS:
        if phrase in message:
            return key
    return None
