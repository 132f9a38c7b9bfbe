import VerdictTokenizers

/// How the pipelines group inputs into forward passes: input indices sorted by length (similar
/// lengths together keep batches uniform; packing means no padding is computed anyway), each group
/// within `batchSize` inputs and, unless it is a single input, `maxBatchTokens` tokens.
func lengthSortedBatches(_ encodings: [Encoding], batchSize: Int, maxBatchTokens: Int) -> [[Int]] {
    let order = encodings.indices.sorted { encodings[$0].ids.count < encodings[$1].ids.count }
    var groups: [[Int]] = [], start = 0
    while start < order.count {
        var end = start + 1, tokens = encodings[order[start]].ids.count
        while end < order.count && end - start < batchSize && tokens + encodings[order[end]].ids.count <= maxBatchTokens {
            tokens += encodings[order[end]].ids.count
            end += 1
        }
        groups.append(Array(order[start..<end]))
        start = end
    }
    return groups
}
