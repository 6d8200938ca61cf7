"""Tiny random-weight GGUF models that real llama.cpp loads and runs, written for tests.

Two ``llama``-architecture models: a dense one and a mixture-of-experts one (4 experts, 2
used per token). Both have a byte-level SentencePiece-style vocabulary (``<unk>``, ``<s>``,
``</s>`` and the 256 byte tokens), so any text tokenizes, and a chat template, so chat
completion works. They answer printable gibberish, quickly (about 2,000 tokens per second
on 2 cores), and never stop before ``max_tokens``.

>>> path = write_model(tmp_path / "moe.gguf", moe=True)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# A chat template in the Jinja dialect of Hugging Face / llama.cpp. Its markers are plain
# text, which the byte-level vocabulary tokenizes one byte per token.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


@dataclass(frozen=True)
class TinyShape:
    """Dimensions of a tiny model."""

    n_embd: int = 64
    n_head: int = 4
    n_head_kv: int = 2
    n_layer: int = 2
    n_ff: int = 128
    context_length: int = 512
    n_expert: int = 0
    n_expert_used: int = 0

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


DENSE = TinyShape()
MOE = TinyShape(n_ff=64, n_expert=4, n_expert_used=2)


def _vocab() -> tuple[list[bytes], list[float], list[int]]:
    tokens = [b"<unk>", b"<s>", b"</s>"] + [f"<0x{i:02X}>".encode() for i in range(256)]
    scores = [0.0] * len(tokens)
    # llama.cpp token types: 2 unknown, 3 control, 6 byte.
    types = [2, 3, 3] + [6] * 256
    return tokens, scores, types


def write_model(path: str | Path, *, moe: bool = False, seed: int = 0) -> Path:
    """Write a tiny dense (or mixture-of-experts) GGUF model to ``path`` and return it."""
    import gguf  # a test-only dependency (the ``dev`` extra)

    shape = MOE if moe else DENSE
    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab()
    n_vocab = len(tokens)

    def w(*numpy_shape: int) -> np.ndarray:
        # numpy shapes are ggml's ``ne`` reversed.
        return (rng.standard_normal(numpy_shape) * 0.05).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-moe" if moe else "tiny-dense")
    writer.add_file_type(0)  # all F32
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(shape.head_dim)
    if moe:
        writer.add_expert_count(shape.n_expert)
        writer.add_expert_used_count(shape.n_expert_used)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_chat_template(CHAT_TEMPLATE)

    e, kv = shape.n_embd, shape.n_head_kv * shape.head_dim
    writer.add_tensor("token_embd.weight", w(n_vocab, e))
    writer.add_tensor("output_norm.weight", ones(e))
    # Output rows of every token but printable ASCII are zero: with random weights the
    # model then writes valid text (never a broken UTF-8 sequence) and never stops early.
    out = w(n_vocab, e)
    printable = np.zeros(n_vocab, dtype=bool)
    printable[3 + 0x20 : 3 + 0x7F] = True
    out[~printable] = 0.0
    writer.add_tensor("output.weight", out)
    for i in range(shape.n_layer):
        b = f"blk.{i}"
        writer.add_tensor(f"{b}.attn_norm.weight", ones(e))
        writer.add_tensor(f"{b}.attn_q.weight", w(e, e))
        writer.add_tensor(f"{b}.attn_k.weight", w(kv, e))
        writer.add_tensor(f"{b}.attn_v.weight", w(kv, e))
        writer.add_tensor(f"{b}.attn_output.weight", w(e, e))
        writer.add_tensor(f"{b}.ffn_norm.weight", ones(e))
        if moe:
            x, f = shape.n_expert, shape.n_ff
            writer.add_tensor(f"{b}.ffn_gate_inp.weight", w(x, e))
            writer.add_tensor(f"{b}.ffn_gate_exps.weight", w(x, f, e))
            writer.add_tensor(f"{b}.ffn_up_exps.weight", w(x, f, e))
            writer.add_tensor(f"{b}.ffn_down_exps.weight", w(x, e, f))
        else:
            writer.add_tensor(f"{b}.ffn_gate.weight", w(shape.n_ff, e))
            writer.add_tensor(f"{b}.ffn_up.weight", w(shape.n_ff, e))
            writer.add_tensor(f"{b}.ffn_down.weight", w(e, shape.n_ff))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def parameter_count(moe: bool) -> int:
    """How many weights :func:`write_model` writes (to check metadata readers)."""
    s = MOE if moe else DENSE
    n_vocab, e, kv = 259, s.n_embd, s.n_head_kv * s.head_dim
    per_block = 2 * e + 2 * e * e + 2 * kv * e
    if moe:
        per_block += s.n_expert * e + 3 * s.n_expert * s.n_ff * e
    else:
        per_block += 3 * s.n_ff * e
    return 2 * n_vocab * e + e + s.n_layer * per_block
