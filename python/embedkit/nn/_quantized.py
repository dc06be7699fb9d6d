"""Argument handling shared by embedkit.nn's quantized functions and module (not public)."""

from embedkit import _embedkit
from embedkit.nn._arrays import dtype_name

# PyTorch's names of the packed dtypes (torch.quint8, torch.quint4x2, torch.quint2x4) and the
# op-name parts of torch.ops.quantized.embedding_bag_{byte,4bit,2bit}_*.
_BITS_OF_NAME = {"quint8": 8, "quint4x2": 4, "quint2x4": 2}
DTYPE_OF_BITS = {8: "quint8", 4: "quint4x2", 2: "quint2x4"}
OP_OF_BITS = {8: "byte", 4: "4bit", 2: "2bit"}


def bits_of(bits):
    """8, 4 or 2 for an int, 'quint8' / 'quint4x2' / 'quint2x4' or the PyTorch dtype."""
    if isinstance(bits, bool):
        raise TypeError(f"bits must be 8, 4 or 2 (or a quantized dtype), got {bits!r}")
    if isinstance(bits, int):
        if bits not in DTYPE_OF_BITS:
            raise ValueError(f"bits must be 8, 4 or 2, got {bits}")
        return bits
    try:
        name = dtype_name(bits)
    except TypeError:
        name = None
    if name in _BITS_OF_NAME:
        return _BITS_OF_NAME[name]
    raise ValueError(f"bits must be 8, 4 or 2, or one of quint8, quint4x2, quint2x4; got "
                     f"{bits!r}")


def as_table(weight, bits, embedding_dim, api):
    """A QuantizedTable: `weight` itself, the table of a QuantizedEmbeddingBag, or packed uint8
    rows (shared, not copied) of `bits`-bit codes (None: 8). Given a table, `bits` and
    `embedding_dim` may be None, else must be the table's. `api` is the public function the
    caller called, which a ValueError for rows that do not match the format starts with."""
    if isinstance(weight, _embedkit.QuantizedTable):
        table = weight
    else:
        table = getattr(weight, "_quantized_table", None)
        if table is None:
            return _embedkit.QuantizedTable.from_packed(
                weight, 8 if bits is None else bits_of(bits), embedding_dim, api=api)
    if bits is not None and bits_of(bits) != table.bits:
        raise ValueError(f"bits is {bits_of(bits)} but the table's is {table.bits}")
    if embedding_dim is not None and embedding_dim != table.embedding_dim:
        raise ValueError(f"embedding_dim is {embedding_dim} but the table's is "
                         f"{table.embedding_dim}")
    return table
