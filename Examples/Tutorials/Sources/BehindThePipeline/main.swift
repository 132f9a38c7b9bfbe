// Behind the pipeline — Hugging Face course, chapter 2, "Models" and "Handling multiple
// sequences": a model built from a config (random weights) next to one loaded from a
// checkpoint, tokens to ids by hand, and batching sequences of different lengths: padded without
// an attention mask (the padded row's logits change, exactly as in `transformers`) and with one
// (each row as when run alone).
//
//     swift run BehindThePipeline
import Foundation
import TutorialSupport
import Verdict

let transcript = Transcript(section: "behind_the_pipeline")
let checkpoint = try DefaultModel.path()
let tokenizer = try AutoTokenizer.from(folder: URL(fileURLWithPath: checkpoint))
let model = try AutoModelForSequenceClassification.from(pretrained: checkpoint)

transcript.step("Creating a model from a config, or from a checkpoint")
let config = try ModelConfig(folder: URL(fileURLWithPath: checkpoint))
let untrained = try AutoModelForSequenceClassification.from(config: config)
print("config: \(config.modelType), \(config.hiddenSize) hidden, labels \(config.labels)")
let probe = PackedBatch(sequences: [try tokenizer.encode("A fine film.").ids])
print("random weights:     \(rows(try untrained.logits(probe))[0].map { String(format: "%.4f", $0) })  (untrained: meaningless)")
print("checkpoint weights: \(rows(try model.logits(probe))[0].map { String(format: "%.4f", $0) })")

transcript.step("From tokens to input ids")
let sequence = "I've been waiting for a HuggingFace course my whole life."
let tokens = tokenizer.tokenize(sequence)
let ids = tokenizer.convertTokensToIds(tokens).map { $0 ?? 0 }
transcript.show("tokens", tokens)
transcript.show("ids", ids)
transcript.show("single_logits", rows(try model.logits(PackedBatch(sequences: [ids]))))
transcript.show("batched_logits", rows(try model.logits(PackedBatch(sequences: [ids, ids]))))
let withSpecialTokens = try tokenizer.encode(sequence).ids
print("with special tokens: \(withSpecialTokens)")
transcript.show("with_special_tokens", ["input_ids": withSpecialTokens, "logits": rows(try model.logits(PackedBatch(sequences: [withSpecialTokens])))])

transcript.step("Padding the inputs")
let padTokenId = tokenizer.padTokenId ?? 0
transcript.show("pad_token_id", padTokenId)
let sequence1 = [[200, 200, 200]], sequence2 = [[200, 200]]
let batched = [[200, 200, 200], [200, 200, padTokenId]]
transcript.show("sequence1_logits", rows(try model.logits(PackedBatch(sequences: sequence1))))
transcript.show("sequence2_logits", rows(try model.logits(PackedBatch(sequences: sequence2))))
// Without a mask the padding token is attended to like any other: the second row changes.
transcript.show("batched_logits_without_mask", rows(try model.logits(PackedBatch(sequences: batched))))

transcript.step("Attention masks")
let attentionMask = [[1, 1, 1], [1, 1, 0]]
transcript.show("attention_mask", attentionMask)
transcript.show("batched_logits_with_mask", rows(try model.logits(PackedBatch(sequences: batched, attentionMasks: attentionMask))))
try transcript.save()
