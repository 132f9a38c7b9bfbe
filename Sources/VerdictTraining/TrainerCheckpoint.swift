import Foundation
import VerdictHub
import VerdictJSON
import VerdictModels
import VerdictTensor

/// Where a run is: the `trainer_state.json` of `transformers`, plus the position inside the epoch.
public struct TrainerState: Sendable {
    public var globalStep = 0
    public var epoch = 0.0
    /// Micro-batches of the current epoch already consumed.
    public var batchInEpoch = 0
    public var bestMetric: Double? = nil
    /// The checkpoint saved at the step of the best evaluation (as in transformers, only a step
    /// that was both evaluated and saved can be the best checkpoint).
    public var bestModelCheckpoint: String? = nil
    /// Step of the best evaluation so far.
    public var bestMetricStep: Int? = nil
    public var logHistory: [[String: Double]] = []
}

/// Checkpoint layout (`checkpoint-<step>/`), written atomically by `ModelSaving.save`:
///
///     config.json, model.safetensors, tokenizer files   a model folder `transformers` loads
///     trainer_state.json                                 transformers' format (log history, best metric, …)
///     optimizer.safetensors                              AdamW moments: `exp_avg.<name>`, `exp_avg_sq.<name>` (float32)
///     training_state.json                                {optimizer_step, dropout_rng_state (decimal string),
///                                                         batch_in_epoch, epoch, global_step}
extension Trainer {
    func saveCheckpoint() throws {
        let out = URL(fileURLWithPath: args.outputDir)
        let folder = out.appendingPathComponent("checkpoint-\(state.globalStep)")
        if state.bestMetricStep == state.globalStep { state.bestModelCheckpoint = folder.path }
        try ModelSaving.save(model, tokenizerFolder: tokenizerFolder, to: folder, dtype: .float32) { dir in
            var moments: [(String, Tensor)] = []
            for n in self.optimizer.m.names { moments.append(("exp_avg." + n, self.optimizer.m[n])); moments.append(("exp_avg_sq." + n, self.optimizer.v[n])) }
            try SafeTensorsFile.write(moments, to: dir.appendingPathComponent("optimizer.safetensors"))
            try ModelSaving.write(Data(self.trainerStateJSON().utf8), to: dir.appendingPathComponent("trainer_state.json"))
            let training = JSONValue.object([
                ("optimizer_step", .int(self.optimizer.step)), ("dropout_rng_state", .string(String(self.dropoutRNG.state))),
                ("batch_in_epoch", .int(self.state.batchInEpoch)), ("epoch", .double(self.state.epoch)), ("global_step", .int(self.state.globalStep)),
            ])
            try ModelSaving.write(Data(training.serialized(indent: 2).utf8), to: dir.appendingPathComponent("training_state.json"))
        }
        try pruneCheckpoints()
    }

    func trainerStateJSON() -> String {
        let history: [JSONValue] = state.logHistory.map { e in .object(e.sorted { $0.key < $1.key }.map { ($0.key, $0.key == "step" ? .int(Int($0.value)) : .double($0.value)) }) }
        return JSONValue.object([
            ("best_metric", state.bestMetric.map { .double($0) } ?? .null),
            ("best_model_checkpoint", state.bestModelCheckpoint.map { .string($0) } ?? .null),
            ("epoch", .double(state.epoch)), ("global_step", .int(state.globalStep)),
            ("log_history", .array(history)), ("max_steps", .int(totalSteps)),
            ("num_train_epochs", .double(args.numTrainEpochs)), ("train_batch_size", .int(args.perDeviceTrainBatchSize)),
        ]).serialized(indent: 2) + "\n"
    }

    /// Deletes the oldest checkpoints beyond `saveTotalLimit`, never the best one. A checkpoint is
    /// first renamed to a hidden folder and only then deleted, so a run killed part-way through a
    /// deletion never leaves a visible, incomplete `checkpoint-N` that a resume could pick up;
    /// hidden leftovers of an earlier killed run are deleted here too.
    func pruneCheckpoints() throws {
        guard let limit = args.saveTotalLimit else { return }
        let fm = FileManager.default
        let out = URL(fileURLWithPath: args.outputDir)
        let names = (try? fm.contentsOfDirectory(atPath: out.path)) ?? []
        for name in names where name.hasPrefix(Self.deletingPrefix) {
            try? fm.removeItem(at: out.appendingPathComponent(name))
        }
        let steps = names.compactMap { name -> Int? in
            name.hasPrefix("checkpoint-") ? Int(name.dropFirst("checkpoint-".count)) : nil
        }.sorted()
        var excess = steps.count - max(limit, 1)
        for step in steps where excess > 0 {
            let folder = out.appendingPathComponent("checkpoint-\(step)")
            if folder.path == state.bestModelCheckpoint { continue }
            let hidden = out.appendingPathComponent("\(Self.deletingPrefix)\(step)")
            if (try? fm.moveItem(at: folder, to: hidden)) != nil { try? fm.removeItem(at: hidden) }
            excess -= 1
        }
    }

    /// The name a checkpoint folder takes while it is being deleted.
    static let deletingPrefix = ".deleting-checkpoint-"

    /// Loads the `model.safetensors` of a checkpoint folder into the model. Each tensor must be one
    /// of the model's parameters with its shape (the kernels index with the model's sizes); Conv1D
    /// weights, saved in `transformers`' `[in, out]` layout (`checkpointTensors`), come back to `[out, in]`.
    func loadWeights(from folder: URL) throws {
        let url = folder.appendingPathComponent("model.safetensors")
        let weights = try SafeTensorsFile(url: url)
        let transposed = model.encoder.transposedWeights
        for name in weights.names {
            var t = try weights.tensor(name)
            if transposed.contains(name), t.rank == 2 { t = t.transposed() }
            try checkShape(t, of: name, file: url)
            model.parameters[name] = t
        }
    }

    private func checkShape(_ t: Tensor, of name: String, file: URL) throws {
        guard model.parameters.contains(name) else {
            throw CheckpointError.tensorMismatch(name: name, reason: "in \(file.path), but not a parameter of this model")
        }
        let expected = model.parameters.shape(of: name)
        guard t.shape == expected else {
            throw CheckpointError.tensorMismatch(name: name, reason: "shape \(t.shape) in \(file.path), the model's is \(expected)")
        }
    }

    /// Restores weights, optimizer moments, generator and position from a checkpoint folder.
    func restore(from folder: URL) throws {
        try loadWeights(from: folder)
        let momentsURL = folder.appendingPathComponent("optimizer.safetensors")
        let moments = try SafeTensorsFile(url: momentsURL)
        var m = ParameterStore(), v = ParameterStore()
        for n in names {
            let first = try moments.tensor("exp_avg." + n), second = try moments.tensor("exp_avg_sq." + n)
            try checkShape(first, of: n, file: momentsURL)
            try checkShape(second, of: n, file: momentsURL)
            m[n] = first
            v[n] = second
        }
        let trainingURL = folder.appendingPathComponent("training_state.json")
        let stateURL = folder.appendingPathComponent("trainer_state.json")
        do {
            let training = try JSONNode.parse(data: try Data(contentsOf: trainingURL), file: trainingURL.path)
            optimizer.m = m
            optimizer.v = v
            optimizer.step = try training.required("optimizer_step").int()
            guard let rngState = UInt64(try training.required("dropout_rng_state").string()) else {
                throw JSONError.invalidValue(file: trainingURL.path, path: "$.dropout_rng_state", expected: "a decimal UInt64")
            }
            dropoutRNG = SplitMix64(seed: 0)
            dropoutRNG.state = rngState
            // Both index this run's batches: out of range is a broken file, not a trap.
            let batchInEpoch = try training.required("batch_in_epoch")
            state.batchInEpoch = try batchInEpoch.int()
            guard state.batchInEpoch >= 0 else { throw batchInEpoch.fail("a batch count (0 or more)") }
            let epoch = try training.required("epoch")
            state.epoch = try epoch.double()
            guard state.epoch >= 0, state.epoch < 1e15 else { throw epoch.fail("an epoch (0 or more)") }
            state.globalStep = try training.required("global_step").int()
            let saved = try JSONNode.parse(data: try Data(contentsOf: stateURL), file: stateURL.path)
            state.bestMetric = try saved["best_metric"]?.double()
            state.bestModelCheckpoint = try saved["best_model_checkpoint"]?.string()
            state.logHistory = try saved.required("log_history").array().map { entry in
                // A repeated key keeps its last value, as Python's json does (uniqueKeysWithValues would trap).
                Dictionary(try entry.object().map { ($0.0, try $0.1.double()) }, uniquingKeysWith: { _, last in last })
            }
        } catch let e as JSONError {
            throw CheckpointError.malformed(file: folder.path, reason: e.description)
        }
    }
}
