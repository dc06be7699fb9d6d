from typing import Any

DTYPE_OF_BITS: dict[int, str]
OP_OF_BITS: dict[int, str]

def bits_of(bits: Any) -> int: ...
def as_table(weight: Any, bits: Any, embedding_dim: int | None, api: str) -> Any: ...
