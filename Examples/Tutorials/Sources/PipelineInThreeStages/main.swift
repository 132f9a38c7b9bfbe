// The pipeline in three stages — Hugging Face course, chapter 2, "Behind the pipeline":
// tokenizer → model → softmax and id2label by hand, then pipeline(.textClassification) giving the
// same numbers; then the tokenizer and model saved to a folder and loaded back.
//
//     swift run PipelineInThreeStages
import Foundation
import TutorialSupport
import Verdict

let transcript = Transcript(section: "pipeline_three_stages")
// The course uses distilbert-base-uncased-finetuned-sst-2-english; Verdict's bundled model is a
// sentiment classifier of the same kind.
let checkpoint = try DefaultModel.path()

transcript.step("Preprocessing with a tokenizer")
let tokenizer = try AutoTokenizer.from(folder: URL(fileURLWithPath: checkpoint))
let rawInputs = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"]
let inputs = try tokenizer(rawInputs, options: TokenizationOptions(padding: .longest, truncation: .longestFirst))
transcript.show("input_ids", inputs.inputIds)
transcript.show("attention_mask", inputs.attentionMask)
transcript.show("tokens", inputs.encodings.map(\.tokens))

transcript.step("Going through the model")
let model = try AutoModelForSequenceClassification.from(pretrained: checkpoint)
let logits = try model.logits(PackedBatch(sequences: inputs.inputIds, attentionMasks: inputs.attentionMask))
print("logits shape: \(logits.shape)")
transcript.show("logits", rows(logits))

transcript.step("Postprocessing the output")
let width = logits.shape[1]
let probabilities = (0..<logits.shape[0]).map { Logits.softmax(logits.scalars[($0 * width)..<(($0 + 1) * width)]) }
transcript.show("probabilities", probabilities)
let id2label = Dictionary(uniqueKeysWithValues: model.config.labels.enumerated().map { (String($0.offset), $0.element) })
transcript.show("id2label", id2label)
let predictions: [[String: Any]] = probabilities.map { row in
    let best = row.indices.max { row[$0] < row[$1] } ?? 0
    return ["label": model.config.labels[best], "score": row[best]]
}
transcript.show("predictions", predictions)

transcript.step("All three stages in one call")
let classifier = try pipeline(.textClassification, model: checkpoint)
let results = try classifier(rawInputs, topK: .all)
for (text, scores) in zip(rawInputs, results) { print("\(text) → \(scores)") }
transcript.show("pipeline", results.map { $0.map { ["label": $0.label, "score": Double($0.score)] as [String: Any] } })

transcript.step("Saving and loading back")
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-tutorial-\(getpid())")
try ModelSaving.save(model, tokenizerFolder: URL(fileURLWithPath: checkpoint), to: folder)
print("saved: \(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted())")
let reloadedTokenizer = try AutoTokenizer.from(folder: folder)
let reloaded = try AutoModelForSequenceClassification.from(pretrained: folder.path)
let again = try reloadedTokenizer(rawInputs, options: TokenizationOptions(padding: .longest, truncation: .longestFirst))
let reloadedLogits = try reloaded.logits(PackedBatch(sequences: again.inputIds, attentionMasks: again.attentionMask))
print("same ids after reload: \(again.inputIds == inputs.inputIds); largest logit difference: \(reloadedLogits.maxAbsDifference(logits))")
try? FileManager.default.removeItem(at: folder)
try transcript.save()
