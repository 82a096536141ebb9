"""A small safetensors reader/writer in pure Python + numpy.

Debian's python3 has no `safetensors` package and there is no PyPI here, so
the oracle scripts use this. Format: u64 little-endian header length N, N
bytes of JSON ({name: {dtype, shape, data_offsets: [begin, end)}} plus an
optional "__metadata__" string map), then the data section.

numpy has no bfloat16: BF16 tensors are read as float32 (exact: bf16 is the
top half of a float32) and written from float32 with round-to-nearest-even.
F16 is read and written as numpy float16.

    from safetensors_np import load, save
    tensors, metadata = load("model.safetensors")        # name -> np.ndarray
    save("out.safetensors", {"x": arr}, metadata={"k": "v"}, dtypes={"x": "BF16"})
"""
import json
import os
import struct

import numpy as np

_NP = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}
_SIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in _NP.items()}}


def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(x):
    """Round to nearest even, NaN kept NaN (as PyTorch does)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = ((u + np.uint32(0x7FFF) + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    return np.where(nan, ((u >> 16) | 0x40).astype(np.uint16), rounded)


def load(path):
    """Returns ({name: np.ndarray}, metadata), tensors in header order. Raises
    ValueError naming the file and tensor on anything malformed."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for the header length")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    data = memoryview(raw)[8 + n:]
    metadata = header.pop("__metadata__", {}) or {}
    out = {}
    spans = []
    for name, info in header.items():
        dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        if dt not in _SIZE:
            raise ValueError(f"{path}: tensor {name!r}: unknown dtype {dt}")
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= b <= e <= len(data)) or e - b != count * _SIZE[dt]:
            raise ValueError(f"{path}: tensor {name!r}: bad data_offsets {[b, e]} for {dt} {shape}")
        spans.append((b, e, name))
        buf = data[b:e]
        if dt == "BF16":
            arr = bf16_bits_to_f32(np.frombuffer(buf, dtype="<u2"))
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(_NP[dt]).newbyteorder("<")).astype(_NP[dt])
        out[name] = arr.reshape(shape).copy()
    pos = 0
    for b, e, name in sorted(spans):
        if b != pos:
            raise ValueError(f"{path}: tensor {name!r}: data does not follow the previous tensor")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} trailing bytes in the data section")
    return out, metadata


def _dtype_of(arr):
    for k, v in _NP.items():
        if arr.dtype == np.dtype(v):
            return k
    raise ValueError(f"no safetensors dtype for numpy {arr.dtype}")


def save(path, tensors, metadata=None, dtypes=None):
    """tensors: {name: array} written in iteration order. dtypes may map a
    name to "BF16" to store a float array as bfloat16. Written to a temporary
    and renamed, so readers never see half a file."""
    dtypes = dtypes or {}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, arr in tensors.items():
        arr = np.asarray(arr)
        dt = dtypes.get(name) or _dtype_of(arr)
        if dt == "BF16":
            blob = f32_to_bf16_bits(arr).astype("<u2").tobytes()
        else:
            blob = np.ascontiguousarray(arr, dtype=np.dtype(_NP[dt]).newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    hs = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hs += b" " * ((8 - (8 + len(hs)) % 8) % 8)  # data section 8-byte aligned
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hs)))
        f.write(hs)
        for b in blobs:
            f.write(b)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


if __name__ == "__main__":
    # Copy a file through this reader and writer (used by the C++ interop test):
    #   safetensors_np.py IN OUT
    import sys

    src, dst = sys.argv[1], sys.argv[2]
    ts, md = load(src)
    with open(src, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        hdr = json.loads(f.read(n))
    keep = {k: v["dtype"] for k, v in hdr.items() if k != "__metadata__" and v["dtype"] == "BF16"}
    save(dst, ts, metadata=md, dtypes=keep)
