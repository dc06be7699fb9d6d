"""Argument handling shared by embedkit.nn's functional and module forms (not public)."""

import numpy as np

_TABLE_DTYPES = ("float32", "float16", "bfloat16")


def dtype_name(dtype):
    """'float32', 'float16', 'bfloat16', ... for a string, a NumPy or a PyTorch dtype; or None."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        name = dtype
    elif type(dtype).__module__ == "torch":  # torch.float32 and friends: no torch import
        name = str(dtype)
    else:
        try:
            return np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"dtype: {dtype!r} is not a dtype") from None
    return name[len("torch."):] if name.startswith("torch.") else name


def table_flags(weight, dtype):
    """Whether `weight` is to be read as bfloat16 bits, checking `dtype` against the table.

    dtype None takes the table's own dtype; 'bfloat16' reads an int16 table as bfloat16 bits (a
    PyTorch bfloat16 tensor says so by itself); any other value must be the table's dtype.
    """
    requested = dtype_name(dtype)
    if requested is None:
        return False
    if requested not in _TABLE_DTYPES:
        raise TypeError(f"dtype must be float32, float16 or bfloat16, got {requested}")
    if requested == "bfloat16":
        return True
    if weight is not None:
        actual = dtype_name(getattr(weight, "dtype", None))
        if actual is not None and actual != requested:
            raise TypeError(f"dtype is {requested} but the table is {actual}")
    return False


def check_device(device):
    """embedkit's tables live in the CPU's memory: device may only be None or 'cpu'."""
    if device is not None and str(device) != "cpu":
        raise ValueError(f"device must be None or 'cpu' (embedkit.nn is a CPU library), got "
                         f"{device!r}")
