import Foundation
import VerdictJSON
import VerdictTensor

/// From llama.cpp's conventions to `transformers`' ones, as `transformers`' GGUF loader
/// (`modeling_gguf_pytorch_utils.load_gguf_checkpoint`) converts a file, for the LLaMA family:
///
/// | `general.architecture` | `model_type` | Q/K rows |
/// | --- | --- | --- |
/// | `llama` | `llama` (`mistral` when `general.name` is exactly `mistral`, as `transformers` decides) | un-permuted |
/// | `qwen2` | `qwen2` | as stored |
/// | `qwen3` | `qwen3` | as stored |
///
/// Names: `token_embd` → `model.embed_tokens`, `blk.N.attn_norm` → `model.layers.N.input_layernorm`,
/// `attn_{q,k,v,output}` → `self_attn.{q,k,v,o}_proj`, `attn_{q,k}_norm` → `self_attn.{q,k}_norm`,
/// `ffn_norm` → `post_attention_layernorm`, `ffn_{gate,up,down}` → `mlp.{gate,up,down}_proj`,
/// `output_norm` → `model.norm`, `output` → `lm_head` (`.weight` and `.bias` alike). A tensor with no
/// `transformers` counterpart (`rope_freqs`) keeps its GGUF name, so model loading reports it.
///
/// llama.cpp's converter interleaves the two rotary halves of every head in the rows of `attn_q` and
/// `attn_k` (weights and biases) for the `llama` architecture; stored row `h*d + 2i + j` is
/// `transformers`' row `h*d + j*(d/2) + i` (`d` = rows / heads, heads = `head_count` for q and
/// `head_count_kv` for k).
extension GGUFFile {
    /// The `general.architecture` values whose tensors and config Verdict maps.
    public static let supportedArchitectures = ["llama", "qwen2", "qwen3"]

    /// `general.architecture`.
    public var architecture: String? { self["general.architecture"]?.string }

    /// The `transformers` `model_type` of the file (see the table above).
    public func modelType() throws -> String {
        guard let arch = architecture else { throw CheckpointError.malformed(file: path, reason: "GGUF metadata has no general.architecture") }
        guard Self.supportedArchitectures.contains(arch) else {
            throw CheckpointError.unsupportedModel(
                "GGUF architecture \"\(arch)\" in \(path) (Verdict maps \(Self.supportedArchitectures.joined(separator: ", ")))")
        }
        if arch == "llama", self["general.name"]?.string == "mistral" { return "mistral" }
        return arch
    }

    /// The `transformers` name of a GGUF tensor, or `nil` when it has none.
    public static func huggingFaceName(of name: String) -> String? {
        let suffix: String
        let stem: Substring
        if name.hasSuffix(".weight") { suffix = ".weight"; stem = name.dropLast(7) } else if name.hasSuffix(".bias") { suffix = ".bias"; stem = name.dropLast(5) } else { return nil }
        switch stem {
        case "token_embd": return "model.embed_tokens" + suffix
        case "output_norm": return "model.norm" + suffix
        case "output": return "lm_head" + suffix
        default: break
        }
        let parts = stem.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, String(layer) == parts[1] else { return nil }
        let layerNames: [Substring: String] = [
            "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
            "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
        ]
        guard let hf = layerNames[parts[2]] else { return nil }
        return "model.layers.\(layer).\(hf)\(suffix)"
    }

    /// An integer of the architecture's metadata (`<arch>.<key>`).
    private func archInt(_ key: String, required: Bool) throws -> Int? {
        let arch = architecture ?? ""
        guard let v = self["\(arch).\(key)"] else {
            if required { throw CheckpointError.malformed(file: path, reason: "GGUF metadata has no \(arch).\(key)") }
            return nil
        }
        guard let i = v.int, i >= 0 else { throw CheckpointError.malformed(file: path, reason: "\(arch).\(key) is not a non-negative integer (\(v))") }
        return i
    }

    private func archDouble(_ key: String) throws -> Double? {
        let arch = architecture ?? ""
        guard let v = self["\(arch).\(key)"] else { return nil }
        guard let d = v.double else { throw CheckpointError.malformed(file: path, reason: "\(arch).\(key) is not a number (\(v))") }
        return d
    }

    /// Query heads and key/value heads (`head_count_kv` defaults to `head_count`, as in llama.cpp).
    func headCounts() throws -> (heads: Int, keyValueHeads: Int) {
        let heads = try archInt("attention.head_count", required: true)!
        let kv = try archInt("attention.head_count_kv", required: false) ?? heads
        guard (1...65536).contains(heads), (1...65536).contains(kv) else {
            throw CheckpointError.malformed(file: path, reason: "\(heads) attention heads, \(kv) key/value heads")
        }
        return (heads, kv)
    }

    /// Every tensor dequantized to `Float` under its `transformers` name and layout, in file order,
    /// with its stored type.
    public func huggingFaceTensors() throws -> [(name: String, tensor: Tensor, stored: GGMLType)] {
        _ = try modelType()
        var out: [(name: String, tensor: Tensor, stored: GGMLType)] = []
        var seen: [String: String] = [:]
        for info in tensors {
            let (name, tensor) = try huggingFaceTensor(info)
            if let other = seen[name] { throw CheckpointError.malformed(file: path, reason: "\(other) and \(info.name) both map to \(name)") }
            seen[name] = info.name
            out.append((name, tensor, info.type))
        }
        return out
    }

    /// One tensor dequantized to `Float` under its `transformers` name and layout.
    public func huggingFaceTensor(_ info: TensorInfo) throws -> (name: String, tensor: Tensor) {
        _ = try modelType()
        let name = Self.huggingFaceName(of: info.name) ?? info.name
        if architecture == "llama", info.name.hasPrefix("blk.") {
            for (part, query) in [(".attn_q.", true), (".attn_k.", false)] where info.name.hasSuffix(part + "weight") || info.name.hasSuffix(part + "bias") {
                let heads = try headCounts()
                return (name, try unpermutedRows(info, heads: query ? heads.heads : heads.keyValueHeads))
            }
        }
        return (name, try tensor(info))
    }

    /// A llama `attn_q`/`attn_k` tensor with its rows back in `transformers`' order.
    private func unpermutedRows(_ info: TensorInfo, heads n: Int) throws -> Tensor {
        let rows = info.dims.count >= 2 ? info.dims[1] : info.dims.first ?? 0
        guard info.dims.count <= 2, rows % (2 * n) == 0 else {
            throw CheckpointError.malformed(file: path, reason: "\(info.name): dims \(info.dims) do not split into \(n) heads of rotary pairs")
        }
        let d = rows / n, half = d / 2
        let order: (Int) -> Int = { g in
            let h = g / d, r = g % d
            return h * d + (r % 2) * half + r / 2
        }
        if info.dims.count == 2 { return try tensor(info, rowOrder: order) }
        let stored = try tensor(info)
        return Tensor(shape: stored.shape) { out in
            stored.scalars.withUnsafeBufferPointer { s in for g in 0..<rows { out[order(g)] = s[g] } }
        }
    }

    /// The `config.json` `transformers`' GGUF loader makes of the metadata (the fields of
    /// `GGUF_CONFIG_MAPPING`, `tie_word_embeddings` from whether `output.weight` is present,
    /// `vocab_size` from the token list when `<arch>.vocab_size` is absent), plus `hidden_act`
    /// and `architectures` as a saved causal-LM folder has them. Where `transformers` would lose
    /// something the weights need, the value it would end up with is written instead: `head_dim`
    /// for qwen3 comes from `attention.key_length` (default 128, Qwen3Config's), `attention_bias` /
    /// `mlp_bias` are set when the bias tensors are there, and `rope.scaling.*` becomes `rope_scaling`.
    public func huggingFaceConfig() throws -> JSONValue {
        let type = try modelType()
        let arch = architecture!
        let (heads, kvHeads) = try headCounts()
        var m: [(String, JSONValue)] = []
        let className = ["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"][type]!
        m.append(("architectures", .array([.string(className)])))
        m.append(("model_type", .string(type)))
        if let name = self["general.name"]?.string { m.append(("_model_name_or_path", .string(name))) }
        m.append(("hidden_size", .int(try archInt("embedding_length", required: true)!)))
        m.append(("intermediate_size", .int(try archInt("feed_forward_length", required: true)!)))
        m.append(("num_hidden_layers", .int(try archInt("block_count", required: true)!)))
        m.append(("num_attention_heads", .int(heads)))
        m.append(("num_key_value_heads", .int(kvHeads)))
        switch arch {
        case "llama":
            if let d = try archInt("rope.dimension_count", required: false) { m.append(("head_dim", .int(d))) }
        case "qwen3":
            m.append(("head_dim", .int(try archInt("attention.key_length", required: false) ?? 128)))
        default: break
        }
        let defaultContext = ["llama": 2048, "mistral": 131_072, "qwen2": 32768, "qwen3": 32768][type]!
        m.append(("max_position_embeddings", .int(try archInt("context_length", required: false) ?? defaultContext)))
        if let eps = try archDouble("attention.layer_norm_rms_epsilon") { m.append(("rms_norm_eps", .double(eps))) }
        if let theta = try archDouble("rope.freq_base") { m.append(("rope_theta", .double(theta))) }
        if let scaling = self["\(arch).rope.scaling.type"]?.string, scaling != "none" {
            var r: [(String, JSONValue)] = [("rope_type", .string(scaling))]
            if let f = try archDouble("rope.scaling.factor") { r.append(("factor", .double(f))) }
            if let n = try archInt("rope.scaling.original_context_length", required: false) { r.append(("original_max_position_embeddings", .int(n))) }
            m.append(("rope_scaling", .object(r)))
        }
        var vocab = try archInt("vocab_size", required: false)
        if vocab == nil { vocab = self["tokenizer.ggml.tokens"]?.array?.count }
        if vocab == nil { vocab = info("token_embd.weight").flatMap { $0.dims.count == 2 ? $0.dims[1] : nil } }
        guard let vocab else { throw CheckpointError.malformed(file: path, reason: "no vocabulary size (\(arch).vocab_size, tokenizer.ggml.tokens or token_embd.weight)") }
        m.append(("vocab_size", .int(vocab)))
        m.append(("tie_word_embeddings", .bool(info("output.weight") == nil)))
        if type != "qwen2" {
            if info("blk.0.attn_q.bias") != nil { m.append(("attention_bias", .bool(true))) }
            if type == "llama", info("blk.0.ffn_up.bias") != nil { m.append(("mlp_bias", .bool(true))) }
        }
        m.append(("hidden_act", .string("silu")))
        for (key, hf) in [("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"), ("unknown_token_id", "unk_token_id"),
                          ("padding_token_id", "pad_token_id")] {
            guard let v = self["tokenizer.ggml." + key] else { continue }
            guard let id = v.int else { throw CheckpointError.malformed(file: path, reason: "tokenizer.ggml.\(key) is not an integer (\(v))") }
            m.append((hf, .int(id)))
        }
        return .object(m)
    }

    /// The one `.gguf` file of a folder: `nil` when there is none, an error when there are several.
    public static func single(in folder: URL) throws -> URL? {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.lowercased().hasSuffix(".gguf") && !$0.hasPrefix(".") }.sorted()
        guard names.count <= 1 else {
            throw CheckpointError.unsupportedModel(
                "\(folder.path) holds several .gguf files (\(names.joined(separator: ", "))); Verdict reads one unsplit GGUF file per folder")
        }
        return names.first.map { folder.appendingPathComponent($0) }
    }
}
