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

    /// Deletes the oldest checkpoints beyond `saveTotalLimit`, never the best one.
    func pruneCheckpoints() throws {
        guard let limit = args.saveTotalLimit else { return }
        let fm = FileManager.default
        let out = URL(fileURLWithPath: args.outputDir)
        let steps = ((try? fm.contentsOfDirectory(atPath: out.path)) ?? []).compactMap { name -> Int? in
            name.hasPrefix("checkpoint-") ? Int(name.dropFirst("checkpoint-".count)) : nil
        }.sorted()
        var excess = steps.count - max(limit, 1)
        for step in steps where excess > 0 {
            let path = out.appendingPathComponent("checkpoint-\(step)").path
            if path == state.bestModelCheckpoint { continue }
            try? fm.removeItem(atPath: path)
            excess -= 1
        }
    }

    /// Restores weights, optimizer moments, generator and position from a checkpoint folder.
    func restore(from folder: URL) throws {
        let weights = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        for name in weights.names { model.parameters[name] = try weights.tensor(name) }
        let moments = try SafeTensorsFile(url: folder.appendingPathComponent("optimizer.safetensors"))
        var m = ParameterStore(), v = ParameterStore()
        for n in names {
            m[n] = try moments.tensor("exp_avg." + n)
            v[n] = try moments.tensor("exp_avg_sq." + n)
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
            state.batchInEpoch = try training.required("batch_in_epoch").int()
            state.epoch = try training.required("epoch").double()
            state.globalStep = try training.required("global_step").int()
            let saved = try JSONNode.parse(data: try Data(contentsOf: stateURL), file: stateURL.path)
            state.bestMetric = try saved["best_metric"]?.double()
            state.bestModelCheckpoint = try saved["best_model_checkpoint"]?.string()
            state.logHistory = try saved.required("log_history").array().map { entry in
                Dictionary(uniqueKeysWithValues: try entry.object().map { ($0.0, try $0.1.double()) })
            }
        } catch let e as JSONError {
            throw CheckpointError.malformed(file: folder.path, reason: e.description)
        }
    }
}
