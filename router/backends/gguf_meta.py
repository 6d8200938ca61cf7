"""Read a GGUF file's metadata without loading its weights.

The header of a GGUF file holds key/value metadata (architecture, context length, experts,
tokenizer, chat template ...) and a table of tensors (name, shape, type). Both are read
here with the standard library only, in milliseconds, so ``explain`` and
``hybrid-router backends`` can describe an in-process model without loading it, and
without llama.cpp installed.

>>> info = read_gguf_info("model.gguf")  # doctest: +SKIP
>>> info.summary()["architecture"]  # doctest: +SKIP
'llama'

Format reference: the GGUF specification in the ggml repository (``docs/gguf.md``).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.errors import ConfigError

_MAGIC = b"GGUF"
# value type -> struct code (scalars); 8 is a string, 9 an array.
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_MAX_KEEP = 64  # arrays longer than this are summarised by their length (token lists ...)

# general.file_type -> the name llama.cpp prints (LLAMA_FTYPE_*), for the common ones.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    32: "BF16",
}


@dataclass(frozen=True)
class ArraySummary:
    """A long metadata array, kept as its element type and length only."""

    type: int
    length: int


@dataclass(frozen=True)
class GGUFInfo:
    """What a GGUF header says about a model."""

    path: str
    version: int
    metadata: dict[str, Any]
    tensor_count: int
    parameter_count: int
    file_size: int
    tensor_types: dict[int, int] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def arch_value(self, key: str) -> Any:
        """``{architecture}.{key}``, e.g. ``arch_value("context_length")``."""
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def context_length(self) -> int | None:
        v = self.arch_value("context_length")
        return int(v) if v is not None else None

    @property
    def expert_count(self) -> int:
        return int(self.arch_value("expert_count") or 0)

    @property
    def expert_used_count(self) -> int:
        return int(self.arch_value("expert_used_count") or 0)

    @property
    def chat_template(self) -> str | None:
        v = self.metadata.get("tokenizer.chat_template")
        return v if isinstance(v, str) else None

    def summary(self) -> dict[str, Any]:
        """The facts ``explain`` and ``backends`` show, as JSON-ready values."""
        md = self.metadata
        tokens = md.get("tokenizer.ggml.tokens")
        vocab = tokens.length if isinstance(tokens, ArraySummary) else None
        ftype = md.get("general.file_type")
        return {
            "format": f"GGUF v{self.version}",
            "file_size_bytes": self.file_size,
            "name": md.get("general.name"),
            "architecture": self.architecture,
            "mixture_of_experts": self.expert_count > 0,
            "expert_count": self.expert_count,
            "expert_used_count": self.expert_used_count,
            "context_length": self.context_length,
            "parameter_count": self.parameter_count,
            "embedding_length": self.arch_value("embedding_length"),
            "block_count": self.arch_value("block_count"),
            "quantization": FILE_TYPES.get(ftype, str(ftype)) if ftype is not None else None,
            "tokenizer": md.get("tokenizer.ggml.model"),
            "vocab_size": vocab,
            "chat_template": self.chat_template,
        }


class _Reader:
    """Walks the header in a memory map: no read or seek system call per value."""

    def __init__(self, buf: Any, endian: str) -> None:
        self.buf = buf
        self.pos = 8
        self.e = endian

    def unpack(self, code: str) -> Any:
        fmt = self.e + code
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self) -> str:
        n = self.unpack("Q")
        end = self.pos + n
        if end > len(self.buf):
            raise EOFError("truncated GGUF header")
        s = bytes(self.buf[self.pos : end]).decode("utf-8", errors="replace")
        self.pos = end
        return s

    def skip_string(self) -> None:
        n = self.unpack("Q")  # advances past the length first
        self.pos += n

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, n = self.unpack("I"), self.unpack("Q")
            if n <= _MAX_KEEP:
                return [self.value(etype) for _ in range(n)]
            if etype in _SCALARS:
                self.pos += struct.calcsize(_SCALARS[etype]) * n
            elif etype == _STRING:
                fmt, buf, pos = self.e + "Q", self.buf, self.pos
                unpack = struct.unpack_from
                for _ in range(n):
                    pos += 8 + unpack(fmt, buf, pos)[0]
                self.pos = pos
            else:
                for _ in range(n):
                    self.value(etype)
            if self.pos > len(self.buf):
                raise EOFError("truncated GGUF header")
            return ArraySummary(etype, n)
        raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Parse the header of the GGUF file at ``path``. Raises :class:`ConfigError`."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with p.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return _parse(m, str(p), size)
    except FileNotFoundError:
        raise ConfigError("GGUF model file not found", file=str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read GGUF file ({exc.strerror})", file=str(p)) from None
    except (EOFError, ValueError, struct.error, UnicodeError) as exc:
        raise ConfigError(f"not a valid GGUF file ({exc})", file=str(p)) from None


def _parse(buf: Any, path: str, size: int) -> GGUFInfo:
    if size < 24 or buf[:4] != _MAGIC:
        raise ValueError("bad magic number")
    raw = buf[4:8]
    endian = "<"
    version = struct.unpack("<I", raw)[0]
    if version > 0xFFFF:  # a big-endian file reads as a huge little-endian number
        endian, version = ">", struct.unpack(">I", raw)[0]
    if version < 2:
        raise ValueError(f"GGUF version {version} is not supported")
    r = _Reader(buf, endian)
    n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string()
        metadata[key] = r.value(r.unpack("I"))
    params = 0
    types: dict[int, int] = {}
    last = (-1, 0, 0)  # the tensor whose data starts last: (offset, type, elements)
    for _ in range(n_tensors):
        r.skip_string()
        dims = [r.unpack("Q") for _ in range(r.unpack("I"))]
        ttype = r.unpack("I")
        offset = r.unpack("Q")
        count = 1
        for d in dims:
            count *= d
        params += count
        types[ttype] = types.get(ttype, 0) + 1
        if offset > last[0]:
            last = (offset, ttype, count)
    if n_tensors:
        _check_complete(r.pos, metadata, last, size)
    return GGUFInfo(path, version, metadata, n_tensors, params, size, types)


# Bytes per block and elements per block of the common ggml tensor types (F32, F16, the
# Q4_0 ... Q8_0 and k-quant families, BF16): enough to tell where the last tensor ends.
_TYPE_SIZES = {
    0: (4, 1), 1: (2, 1), 2: (18, 32), 3: (20, 32), 6: (22, 32), 7: (24, 32), 8: (34, 32),
    10: (84, 256), 11: (110, 256), 12: (144, 256), 13: (176, 256), 14: (210, 256),
    15: (292, 256), 30: (2, 1),
}  # fmt: skip


def _check_complete(header_end: int, metadata: dict[str, Any], last: tuple, size: int) -> None:
    """Raise ``EOFError`` when the file ends before its last tensor's data does: a download
    that was cut short parses (its header is whole) and fails only when llama.cpp loads
    it, at the first request."""
    align = metadata.get("general.alignment", 32)
    if not isinstance(align, int) or align <= 0:
        align = 32
    data_start = -(-header_end // align) * align
    offset, ttype, count = last
    block = _TYPE_SIZES.get(ttype)
    needed = data_start + offset + (count // block[1] * block[0] if block else 1)
    if needed > size:
        raise EOFError(
            f"truncated: its tensors need at least {needed:,} bytes and the file has "
            f"{size:,} (an interrupted download?)"
        )
