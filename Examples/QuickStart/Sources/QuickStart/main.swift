import Verdict

let classifier = try pipeline(.textClassification)                      // the bundled default model
print(try classifier(["I really love this book", "Dull."], topK: .all))  // [[POSITIVE 0.9970, NEGATIVE 0.0030], [NEGATIVE 0.9936, POSITIVE 0.0064]]
