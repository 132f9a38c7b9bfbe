// Understanding BERT's inputs and outputs: the vocabulary, tokens and ids of two sentences, a
// small in-memory dataset mapped through a tokenize function (truncation, padding), the encoder's
// last_hidden_state, the [CLS] vector, mean pooling and the pooler output; then a classifier with
// a custom head (mean pooling + MLP) and AutoModelForSequenceClassification's own head.
//
//     swift run BertInputsAndOutputs      (all-MiniLM-L6-v2: run tools/fetch_weights.sh first)
import Foundation
import TutorialSupport
import Verdict

let transcript = Transcript(section: "bert_inputs_outputs")
// all-MiniLM-L6-v2 uses bert-base-uncased's vocabulary, so the ids are those the notebook prints.
let checkpoint = TutorialModels.miniLM
let tokenizer = try AutoTokenizer.from(folder: URL(fileURLWithPath: checkpoint))

transcript.step("The vocabulary")
transcript.show("vocab_size", tokenizer.vocabSize)

transcript.step("Tokens and ids")
let sentences = ["Hello, my dog is cute", "The quick brown fox jumps over the lazy dog."]
transcript.show("sentences", try sentences.map { sentence -> [String: Any] in
    let ids = try tokenizer.encode(sentence).ids
    return ["text": sentence, "tokens": tokenizer.tokenize(sentence), "ids": ids, "decoded": tokenizer.decode(ids)]
})

transcript.step("A dataset mapped through a tokenize function")
let texts = ["I loved this movie!", "Terrible acting and a boring plot, I would not watch it again even if someone paid me.", "Okay."]
let dataset = Dataset(columns: [("text", texts), ("label", ["1", "0", "1"])])
let options = TokenizationOptions(padding: .maxLength, truncation: .longestFirst, maxLength: 12)
let encoded = try dataset.map(batchSize: 2) { batch in try tokenizer.encodeBatch(try batch.column("text"), options: options) }
transcript.show("dataset", ["texts": texts, "max_length": 12, "input_ids": encoded.map(\.ids),
                            "attention_mask": encoded.map(\.attentionMask), "token_type_ids": encoded.map(\.typeIds)])

transcript.step("The encoder's outputs")
let encoder = try AutoModel.from(pretrained: checkpoint)
let batch = try tokenizer(sentences, options: TokenizationOptions(padding: .longest))
let output = try encoder(PackedBatch(sequences: batch.inputIds, attentionMasks: batch.attentionMask))
let lastHiddenState = Pooling.padded(output.lastHiddenState, offsets: output.offsets)
transcript.show("last_hidden_state_shape", lastHiddenState.shape)
let cls = rows(Pooling.first(output.lastHiddenState, offsets: output.offsets))
transcript.show("cls_first8", cls.map { Array($0.prefix(8)) })
let mean = rows(Pooling.mean(output.lastHiddenState, offsets: output.offsets))
transcript.show("mean_pooled_first8", mean.map { Array($0.prefix(8)) })
if let pooler = output.poolerOutput { transcript.show("pooler_output_first8", rows(pooler).map { Array($0.prefix(8)) }) }

transcript.step("Classification heads (new, untrained: the scores mean nothing yet)")
let custom = try AutoModelForSequenceClassification.from(pretrained: checkpoint, labels: ["NEGATIVE", "POSITIVE"],
                                                         head: ClassifierHeadConfig(pooling: .mean, hiddenWidth: 128))
let inputs = PackedBatch(sequences: batch.inputIds, attentionMasks: batch.attentionMask)
print("custom head (mean pooling → 128 → ReLU → 2): logits shape \(try custom.logits(inputs).shape)")
let standard = try AutoModelForSequenceClassification.from(pretrained: checkpoint, labels: ["NEGATIVE", "POSITIVE"])
print("\(standard.config.architectures.first ?? "?"): logits shape \(try standard.logits(inputs).shape)")
if let warning = standard.loadReport.warning { print(warning) }
try transcript.save()
