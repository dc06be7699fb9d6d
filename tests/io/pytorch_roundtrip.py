#!/usr/bin/env python3
"""embedkit <-> PyTorch round trip through safetensors files, with no safetensors package.

1. embedkit writes a checkpoint (pytorch_roundtrip_tool write).
2. This script reads it with a tiny independent reader, checks every value, loads the table
   into torch.nn.Embedding and its momentum into torch.optim.SGD, trains one step, and writes
   the result with a tiny independent writer (keys sorted, compact JSON, as the reference
   writer does).
3. embedkit loads PyTorch's file strictly and checks every value against the step it
   computes itself (pytorch_roundtrip_tool check).

Usage: pytorch_roundtrip.py TOOL. Exits 77 (CTest: skipped) when torch cannot be imported.
"""
import ctypes
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    import torch
except ImportError:
    print("torch is not importable by this Python: skipped")
    sys.exit(77)

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I32": torch.int32, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}
ROWS, DIM = 10, 4


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        if end > begin:
            flat = torch.frombuffer(bytearray(buffer[begin:end]), dtype=dtype)
        else:
            flat = torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata} if metadata else {}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def check(condition, what):
    if not condition:
        print("check failed:", what)
        sys.exit(1)


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="embedkit-pytorch-") as tmp:
        first, second = Path(tmp) / "embedkit.safetensors", Path(tmp) / "pytorch.safetensors"
        subprocess.run([tool, "write", str(first)], check=True)

        tensors, metadata = read_safetensors(first)
        check(metadata == {"epoch": "3", "format": "pt", "embedkit.checkpoint": "1"},
              f"metadata {metadata}")
        check(sorted(tensors) == sorted([
            "embedding.weight", "table.half", "table.bf16", "ids",
            "optimizer.embedding.weight.momentum_buffer", "optimizer.embedding.weight.step"]),
            f"names {sorted(tensors)}")
        r = torch.arange(ROWS, dtype=torch.float32).reshape(ROWS, 1)
        c = torch.arange(DIM, dtype=torch.float32).reshape(1, DIM)
        check(torch.equal(tensors["embedding.weight"], (r * DIM + c) / 8 - 2), "weight")
        check(torch.equal(tensors["optimizer.embedding.weight.momentum_buffer"], (r - c) / 4),
              "momentum")
        check(torch.equal(tensors["table.half"],
                          torch.tensor([0.5, -1.5, 1024.0], dtype=torch.float16)), "half")
        check(torch.equal(tensors["table.bf16"],
                          torch.tensor([[1.0, -2.0], [0.25, 3.0]], dtype=torch.bfloat16)), "bf16")
        check(torch.equal(tensors["ids"], torch.tensor([-1, 0, 7], dtype=torch.int32)), "ids")
        step = tensors["optimizer.embedding.weight.step"]
        check(step.dim() == 0 and step.item() == 3, "step")

        # One training step in PyTorch, resumed from embedkit's state.
        embedding = torch.nn.Embedding(ROWS, DIM)
        embedding.load_state_dict({"weight": tensors["embedding.weight"]})
        optimizer = torch.optim.SGD(embedding.parameters(), lr=0.5, momentum=0.5)
        optimizer.state[embedding.weight]["momentum_buffer"] = \
            tensors["optimizer.embedding.weight.momentum_buffer"].clone()
        optimizer.zero_grad()
        embedding(torch.tensor([1, 2, 2, 9])).sum().backward()
        optimizer.step()

        out = {
            "embedding.weight": embedding.weight,
            "optimizer.embedding.weight.momentum_buffer":
                optimizer.state[embedding.weight]["momentum_buffer"],
            "optimizer.embedding.weight.step": torch.tensor(step.item() + 1, dtype=torch.int64),
            "table.half": tensors["table.half"],
            "table.bf16": tensors["table.bf16"],
            "ids": tensors["ids"],
        }
        write_safetensors(second, out, {"format": "pt", "embedkit.checkpoint": "1", "epoch": "4"})
        return subprocess.run([tool, "check", str(second)]).returncode


if __name__ == "__main__":
    sys.exit(main())
