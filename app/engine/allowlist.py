"""Everything a program may reach, by exact name, with why each group is safe.

Nothing here is looked up by pattern: a program's `torch.xxx`, `F.xxx` and `tensor.xxx` are resolved
against these tables only, so a new torch release that adds a dangerous name changes nothing until
someone adds it here on purpose. `tests/security` sweeps every public name of `torch`,
`torch.Tensor` and `torch.nn.functional` against these tables.

Groups and why they are safe:
- CREATION: make a new tensor from numbers or shapes. No file, device or storage arguments are
  accepted (see FORBIDDEN_KEYWORDS) and the budget guard refuses sizes before allocation.
  `torch.empty*` is left out on purpose: it returns uninitialised heap bytes.
- MATH, REDUCTIONS, SHAPES, LOSSES: pure functions of their tensor arguments; sizes and matmul
  FLOPs are checked by the budget guard before each kernel runs.
- IN_PLACE: change a tensor the program owns; autograd's own checks still apply.
- AUTOGRAD: the autograd entry points a lesson uses; hooks, `grad_fn` objects and graph internals
  are never handed to a program.
Left out everywhere: anything touching files (`load`, `save`, `from_file`), processes, the network,
storages and raw memory (`storage`, `data_ptr`, `set_`, `as_strided`, `share_memory_`), hooks,
devices, `jit`/`compile`/`fx`/`ops`/`library`/`hub`/`utils`, global defaults (`set_default_*`),
Python callbacks (`apply_`, `map_`), and NumPy arrays.
"""

from __future__ import annotations

CREATION = {
    "tensor", "as_tensor", "arange", "ones", "zeros", "rand", "randn", "randint", "randperm", "linspace",
    "logspace", "eye", "full", "ones_like", "zeros_like", "rand_like", "randn_like", "randint_like",
    "full_like", "tril", "triu",
}

MATH = {
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
    "remainder", "fmod", "pow", "neg", "negative", "abs", "sign", "exp", "exp2", "expm1", "log", "log2",
    "log10", "log1p", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "sigmoid", "relu", "softmax", "log_softmax", "logsumexp", "clamp", "clip",
    "maximum", "minimum", "where", "floor", "ceil", "round", "trunc", "frac", "reciprocal", "lerp",
    "erf", "hypot", "xlogy", "addcmul", "addcdiv", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_not", "isnan", "isinf", "isfinite", "nan_to_num", "heaviside",
}

REDUCTIONS = {
    "sum", "mean", "max", "min", "amax", "amin", "norm", "prod", "std", "var", "argmax", "argmin",
    "cumsum", "cumprod", "all", "any", "median", "sort", "argsort", "topk", "dist", "count_nonzero",
}

LINEAR_ALGEBRA = {"matmul", "mm", "bmm", "mv", "dot", "outer", "einsum", "trace", "diag", "inner", "kron", "addmm", "cdist"}

SHAPES = {
    "reshape", "transpose", "t", "permute", "unsqueeze", "squeeze", "cat", "concat", "concatenate", "stack",
    "hstack", "vstack", "chunk", "split", "flatten", "flip", "roll", "gather", "index_select",
    "masked_select", "narrow", "select", "movedim", "swapaxes", "broadcast_to", "tile", "repeat_interleave",
    "unbind", "take", "diagonal", "clone", "detach", "numel", "is_tensor", "is_floating_point",
    "allclose", "equal", "isclose", "scatter", "scatter_add", "one_hot",
}

DTYPES = {
    "float32", "float64", "float16", "bfloat16", "float", "double", "half", "int64", "int32", "int16",
    "int8", "uint8", "long", "int", "short", "bool",
}

# torch.<name> functions (called through the function tables) and values.
TORCH_FUNCTIONS = (CREATION | MATH | REDUCTIONS | LINEAR_ALGEBRA | SHAPES) - {"one_hot"}
TORCH_SPECIAL = {"manual_seed", "no_grad", "enable_grad", "autograd.Variable"}

FUNCTIONAL = {
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign",
    "sigmoid", "tanh", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink",
    "softmax", "log_softmax", "softmin", "normalize", "linear", "bilinear", "dropout", "one_hot", "pad",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "cosine_similarity",
    "pairwise_distance", "soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss", "layer_norm", "embedding",
}

IN_PLACE = {
    "add_", "sub_", "mul_", "div_", "pow_", "zero_", "fill_", "clamp_", "neg_", "abs_", "exp_", "log_",
    "sqrt_", "relu_", "sigmoid_", "tanh_", "copy_", "masked_fill_", "uniform_", "normal_", "requires_grad_",
    "retain_grad", "detach_", "addcmul_", "addcdiv_", "lerp_", "floor_", "round_", "clip_", "index_fill_",
    "scatter_", "scatter_add_", "t_", "transpose_", "unsqueeze_", "squeeze_", "sign_", "cos_", "sin_",
}

CONVERSIONS = {"float", "double", "half", "long", "int", "bool", "short", "type_as", "to", "contiguous"}

TENSOR_ONLY = {
    "view", "view_as", "reshape_as", "expand", "expand_as", "repeat", "size", "dim", "item", "tolist",
    "numpy", "backward", "masked_fill", "softmax", "log_softmax", "clamp_min", "clamp_max", "nelement",
    "element_size", "is_contiguous", "new_ones", "new_zeros", "new_full", "new_tensor", "unfold",
    "sum_to_size", "norm", "dim_order",
}

TENSOR_METHODS = (
    (MATH | REDUCTIONS | LINEAR_ALGEBRA | SHAPES | IN_PLACE | CONVERSIONS | TENSOR_ONLY)
    - {"hstack", "vstack", "cat", "concat", "concatenate", "stack", "einsum", "is_tensor", "allclose",
       "equal", "isclose", "one_hot", "cdist", "dist", "tril", "triu"}
) | {"tril", "triu", "allclose", "equal", "isclose", "dist"}

# Attributes a program may read (`w.grad`, `x.shape`); `grad_fn` gives a printable name only.
TENSOR_ATTRIBUTES = {"grad", "data", "shape", "T", "mT", "requires_grad", "is_leaf", "dtype", "ndim", "grad_fn"}
# Attributes a program may assign (`w.grad = None`, `w.requires_grad = True`).
TENSOR_SETTABLE = {"grad", "requires_grad"}

# Keyword arguments never passed to torch: they reach devices, memory layout or output buffers.
FORBIDDEN_KEYWORDS = {"out", "device", "pin_memory", "layout", "memory_format", "generator", "names", "non_blocking"}

BUILTINS = {"print", "len", "float", "int", "bool", "abs", "round", "min", "max", "sum", "list", "tuple", "range"}

IMPORTABLE_MODULES = {"torch": "torch", "torch.nn.functional": "torch.nn.functional", "torch.nn": "torch.nn"}
IMPORTABLE_NAMES = {("torch.autograd", "Variable"), ("torch.nn", "functional"), ("torch", "nn")}
