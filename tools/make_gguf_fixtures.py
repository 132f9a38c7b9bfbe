#!/usr/bin/env python3
"""Goldens for Verdict's GGUF reader (Sources/VerdictHub/GGUF*.swift), from gguf-py and transformers.

Usage:
  python tools/make_gguf_fixtures.py blocks --out Fixtures/gguf/blocks.json
  python tools/make_gguf_fixtures.py tensors --gguf G --hf DIR --out Fixtures/gguf/<model>.tensors.json

Needs numpy, safetensors and `gguf` (gguf-py, the package transformers' GGUF loader uses).

blocks   For every ggml type Verdict dequantizes, 3 blocks of random bytes whose float16 scales are replaced by
         finite random float16 values (a fixed seed), and what `gguf.dequantize` makes of them:
           {"<type>": {"id": ggml type id, "block_size": n, "type_size": bytes, "hex": raw bytes,
                       "bits": [float32 bit patterns of the dequantized values]}}
         F16 and BF16 take 96 random finite values (BF16: any pattern whose float32 is finite).
tensors  The transformers conversion of a real GGUF file (tools/make_real_decoder_fixtures.py --hf-out DIR: every
         tensor dequantized by gguf.dequantize, renamed, llama Q/K rows un-permuted; checked bit-exact against
         transformers there), summarised per tensor so CI can check a full load bit for bit without the 0.5-2.5 GB
         float32 folder:
           {"source_gguf", "source_sha256", "source_bytes", "architecture",
            "config": the config.json fields the conversion wrote that Verdict reads,
            "tensors": [{"gguf", "hf", "ggml_type", "shape", "checksum", "sum", "sum_squares", "first", "last"}]}
         checksum = sum over i of bits[i] * w[i] mod 2**64 (decimal string), bits = the float32 bit patterns in
         row-major order, w[i] = (i * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) | 1 mod 2**64: order-independent
         to compute, exact, and any change of one value (or swap of two) changes it. sum and sum_squares are
         float64 sums (compare with a relative tolerance); first / last are the first and last 16 values
         (float32, written in their shortest round-trip form).
"""
import argparse, hashlib, json, os

import numpy as np

MUL = np.uint64(0x9E3779B97F4A7C15)
ADD = np.uint64(0x632BE59BD9B4E019)
CHUNK = 1 << 24

SUPPORTED = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# Byte offsets of the float16 scales inside one block (ggml's block_* structs).
HALF_OFFSETS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0], "Q2_K": [80, 82],
                "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def checksum(x):
    bits = np.ascontiguousarray(x, dtype=np.float32).reshape(-1).view(np.uint32)
    total = np.uint64(0)
    with np.errstate(over="ignore"):
        for lo in range(0, bits.size, CHUNK):
            i = np.arange(lo, min(lo + CHUNK, bits.size), dtype=np.uint64)
            w = (i * MUL + ADD) | np.uint64(1)
            total = total + np.sum(bits[lo:lo + CHUNK].astype(np.uint64) * w, dtype=np.uint64)
    return str(int(total))


def short(v):
    """The shortest decimal that round-trips to this float32, as a JSON number."""
    v = np.float32(v)
    if not np.isfinite(v):
        raise SystemExit(f"non-finite value {v}")
    return float(str(v))


def blocks(out):
    import gguf
    rng = np.random.default_rng(20261129)
    result = {}
    for name in SUPPORTED:
        qtype = gguf.GGMLQuantizationType[name]
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        if name in ("F32", "F16", "BF16"):
            n = 96
            if name == "F32":
                raw = rng.standard_normal(n).astype(np.float32).view(np.uint8)
            elif name == "F16":
                h = rng.integers(0, 1 << 16, n, dtype=np.uint16)
                h = np.where((h & 0x7C00) == 0x7C00, h & 0xBFFF, h).astype(np.uint16)  # no inf/nan
                raw = h.view(np.uint8)
            else:
                b = rng.integers(0, 1 << 16, n, dtype=np.uint16)
                b = np.where((b & 0x7F80) == 0x7F80, b & 0xBFFF, b).astype(np.uint16)
                raw = b.view(np.uint8)
        else:
            raw = rng.integers(0, 256, 3 * type_size, dtype=np.uint8)
            for blk in range(3):
                for off in HALF_OFFSETS[name]:
                    # A finite float16 (normal or subnormal, either sign), small like real scales.
                    v = np.float16(rng.standard_normal() * 10.0 ** rng.integers(-6, 1))
                    raw[blk * type_size + off: blk * type_size + off + 2] = np.frombuffer(v.tobytes(), dtype=np.uint8)
        values = gguf.dequantize(raw.copy(), qtype).astype(np.float32).reshape(-1)
        assert values.size == raw.size // type_size * block_size, name
        result[name] = {"id": int(qtype), "block_size": block_size, "type_size": type_size, "hex": raw.tobytes().hex(),
                        "bits": [int(b) for b in values.view(np.uint32)]}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(result, f, separators=(",", ":"))
        f.write("\n")
    print(f"{out}: {', '.join(SUPPORTED)}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# config.json fields Verdict's ModelConfig and LlamaModel read.
CONFIG_FIELDS = ["model_type", "architectures", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                 "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size",
                 "tie_word_embeddings", "hidden_act", "bos_token_id", "eos_token_id", "pad_token_id", "attention_bias",
                 "mlp_bias", "sliding_window", "use_sliding_window"]


def tensors(gguf_path, hf, out):
    from safetensors import safe_open
    with open(os.path.join(hf, "gguf_tensor_map.json"), encoding="utf-8") as f:
        tmap = json.load(f)
    with open(os.path.join(hf, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    digest = sha256(gguf_path)
    if tmap.get("source_sha256") not in (None, digest):
        raise SystemExit(f"{hf} was converted from another file ({tmap['source_sha256']}), not {gguf_path} ({digest})")
    config = {k: cfg[k] for k in CONFIG_FIELDS if k in cfg}
    theta = (cfg.get("rope_parameters") or {}).get("rope_theta", cfg.get("rope_theta"))
    if theta is not None:
        config["rope_theta"] = theta
    entries = []
    with safe_open(os.path.join(hf, "model.safetensors"), "np") as st:
        for t in tmap["tensors"]:
            x = st.get_tensor(t["hf"])
            if x.dtype != np.float32:
                raise SystemExit(f"{t['hf']} is {x.dtype}, expected float32")
            flat = x.reshape(-1)
            d = flat.astype(np.float64)
            entries.append({"gguf": t["gguf"], "hf": t["hf"], "ggml_type": t["ggml_type"], "shape": list(x.shape),
                            "checksum": checksum(x), "sum": float(d.sum()), "sum_squares": float((d * d).sum()),
                            "first": [short(v) for v in flat[:16]], "last": [short(v) for v in flat[-16:]]})
    doc = {"source_gguf": os.path.basename(gguf_path), "source_sha256": digest, "source_bytes": os.path.getsize(gguf_path),
           "architecture": tmap.get("architecture"), "config": config, "tensors": entries}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{out}: {len(entries)} tensors, {os.path.getsize(out)} bytes")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("blocks")
    b.add_argument("--out", required=True)
    t = sub.add_parser("tensors")
    t.add_argument("--gguf", required=True)
    t.add_argument("--hf", required=True)
    t.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "blocks":
        blocks(a.out)
    else:
        tensors(a.gguf, a.hf, a.out)


if __name__ == "__main__":
    main()
