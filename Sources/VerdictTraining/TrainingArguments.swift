import Foundation
import VerdictHub

/// When to evaluate or save (`eval_strategy`, `save_strategy`).
public enum IntervalStrategy: String, Sendable, Codable, CaseIterable { case no, steps, epoch }

/// The number format of the weights a run saves as its final model (`save_dtype`); the
/// checkpoints it saves along the way keep `Float` so that training can resume exactly.
public enum SaveDType: String, Sendable, Codable, CaseIterable {
    case float32, float16, bfloat16

    /// The safetensors element type of this format.
    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .float16: return .float16
        case .bfloat16: return .bfloat16
        }
    }
}

/// The knobs of a fine-tuning run, named after `transformers.TrainingArguments`.
public struct TrainingArguments: Sendable, Codable {
    public var outputDir: String
    public var learningRate: Float = 5e-5
    public var perDeviceTrainBatchSize = 8
    public var perDeviceEvalBatchSize = 8
    public var numTrainEpochs: Double = 3
    /// When positive, overrides `numTrainEpochs`.
    public var maxSteps = -1
    public var weightDecay: Float = 0
    public var warmupRatio: Float = 0
    /// When positive, overrides `warmupRatio`.
    public var warmupSteps = 0
    public var lrSchedulerType: LearningRateSchedule = .linear
    public var evalStrategy: IntervalStrategy = .no
    public var saveStrategy: IntervalStrategy = .steps
    public var evalSteps = 500
    public var saveSteps = 500
    public var loggingSteps = 50
    public var metricForBestModel = "accuracy"
    public var greaterIsBetter = true
    public var loadBestModelAtEnd = false
    /// Keep at most this many checkpoints (never deleting the best); nil keeps all.
    public var saveTotalLimit: Int? = nil
    public var seed: UInt64 = 42
    /// Seed of the data order; defaults to `seed`.
    public var dataSeed: UInt64? = nil
    public var gradientAccumulationSteps = 1
    public var maxGradNorm: Float = 1
    /// Accepted for compatibility: Verdict's runs are always deterministic (seeded dropout and data
    /// order, fixed reduction order in the kernels), so this changes nothing.
    public var fullDeterminism = false
    /// Stop after this many evaluations without improvement (nil: never).
    public var earlyStoppingPatience: Int? = nil
    /// Batch examples of similar length together (less attention work; order stays seeded).
    public var groupByLength = false
    /// Longest tokenized input; longer texts are truncated.
    public var maxLength = 512
    /// Number format of the final model's weights.
    public var saveDType = SaveDType.float32

    public init(outputDir: String) { self.outputDir = outputDir }

    /// The keys a JSON recipe may use for these settings (transformers' snake_case names).
    public static var jsonKeys: [String] { CodingKeys.allCases.map(\.rawValue) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case outputDir = "output_dir", learningRate = "learning_rate", perDeviceTrainBatchSize = "per_device_train_batch_size"
        case perDeviceEvalBatchSize = "per_device_eval_batch_size", numTrainEpochs = "num_train_epochs", maxSteps = "max_steps"
        case weightDecay = "weight_decay", warmupRatio = "warmup_ratio", warmupSteps = "warmup_steps", lrSchedulerType = "lr_scheduler_type"
        case evalStrategy = "eval_strategy", saveStrategy = "save_strategy", evalSteps = "eval_steps", saveSteps = "save_steps"
        case loggingSteps = "logging_steps", metricForBestModel = "metric_for_best_model", greaterIsBetter = "greater_is_better"
        case loadBestModelAtEnd = "load_best_model_at_end", saveTotalLimit = "save_total_limit", seed, dataSeed = "data_seed"
        case gradientAccumulationSteps = "gradient_accumulation_steps", maxGradNorm = "max_grad_norm"
        case earlyStoppingPatience = "early_stopping_patience", groupByLength = "group_by_length", maxLength = "max_length"
        case saveDType = "save_dtype", fullDeterminism = "full_determinism"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        outputDir = try c.decodeIfPresent(String.self, forKey: .outputDir) ?? ""   // a command line may give it
        func take<T: Decodable>(_ key: CodingKeys, _ into: inout T) throws { if let v = try c.decodeIfPresent(T.self, forKey: key) { into = v } }
        try take(.learningRate, &learningRate); try take(.perDeviceTrainBatchSize, &perDeviceTrainBatchSize)
        try take(.perDeviceEvalBatchSize, &perDeviceEvalBatchSize); try take(.numTrainEpochs, &numTrainEpochs)
        try take(.maxSteps, &maxSteps); try take(.weightDecay, &weightDecay); try take(.warmupRatio, &warmupRatio)
        try take(.warmupSteps, &warmupSteps); try take(.lrSchedulerType, &lrSchedulerType); try take(.evalStrategy, &evalStrategy)
        try take(.saveStrategy, &saveStrategy); try take(.evalSteps, &evalSteps); try take(.saveSteps, &saveSteps)
        try take(.loggingSteps, &loggingSteps); try take(.metricForBestModel, &metricForBestModel)
        try take(.greaterIsBetter, &greaterIsBetter); try take(.loadBestModelAtEnd, &loadBestModelAtEnd)
        saveTotalLimit = try c.decodeIfPresent(Int.self, forKey: .saveTotalLimit)
        try take(.seed, &seed); dataSeed = try c.decodeIfPresent(UInt64.self, forKey: .dataSeed)
        try take(.gradientAccumulationSteps, &gradientAccumulationSteps); try take(.maxGradNorm, &maxGradNorm)
        earlyStoppingPatience = try c.decodeIfPresent(Int.self, forKey: .earlyStoppingPatience)
        try take(.groupByLength, &groupByLength); try take(.maxLength, &maxLength); try take(.saveDType, &saveDType)
        try take(.fullDeterminism, &fullDeterminism)
    }
}

extension LearningRateSchedule: Codable {}

extension TrainingArguments {
    /// The first setting that cannot train, as "key: what was expected (got value)"; `nil` when all can.
    public var problem: String? {
        if perDeviceTrainBatchSize < 1 { return "per_device_train_batch_size (--batch-size): at least 1 (got \(perDeviceTrainBatchSize))" }
        if perDeviceEvalBatchSize < 1 { return "per_device_eval_batch_size (--eval-batch-size): at least 1 (got \(perDeviceEvalBatchSize))" }
        if gradientAccumulationSteps < 1 { return "gradient_accumulation_steps: at least 1 (got \(gradientAccumulationSteps))" }
        if maxLength < 2 { return "max_length (--max-length): at least 2 tokens (got \(maxLength))" }
        if !learningRate.isFinite || learningRate < 0 { return "learning_rate (--learning-rate): a finite number ≥ 0 (got \(learningRate))" }
        if maxSteps <= 0 && !(numTrainEpochs > 0 && numTrainEpochs.isFinite) { return "num_train_epochs (--epochs): more than 0 (got \(numTrainEpochs))" }
        // The step counts below are converted to Int and used as divisors: out of range would trap.
        if maxSteps <= 0 && numTrainEpochs > 1e6 { return "num_train_epochs (--epochs): at most 1000000 (got \(numTrainEpochs))" }
        if !(0...1).contains(warmupRatio) { return "warmup_ratio (--warmup-ratio): between 0 and 1 (got \(warmupRatio))" }
        if evalStrategy == .steps && evalSteps < 1 { return "eval_steps: at least 1 with eval_strategy steps (got \(evalSteps))" }
        if !weightDecay.isFinite || weightDecay < 0 { return "weight_decay (--weight-decay): a finite number ≥ 0 (got \(weightDecay))" }
        if !maxGradNorm.isFinite || maxGradNorm < 0 { return "max_grad_norm: a finite number ≥ 0, 0 for no clipping (got \(maxGradNorm))" }
        if loggingSteps < 0 { return "logging_steps (--logging-steps): 0 (never) or more (got \(loggingSteps))" }
        if warmupSteps < 0 { return "warmup_steps: 0 or more (got \(warmupSteps))" }
        if let limit = saveTotalLimit, limit < 1 { return "save_total_limit (--save-total-limit): at least 1 (got \(limit))" }
        if let patience = earlyStoppingPatience, patience < 1 { return "early_stopping_patience: at least 1 (got \(patience))" }
        if saveStrategy == .steps && saveSteps < 1 { return "save_steps (--save-steps): at least 1 with save_strategy steps (got \(saveSteps))" }
        return nil
    }
}
