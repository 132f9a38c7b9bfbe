import XCTest
@testable import VerdictHub
@testable import VerdictModels
@testable import VerdictTensor

/// A layer's attention is one choice whose case carries what it needs: the combinations that
/// cannot work are either unwritable or a clear error, never a term silently left out.
final class LayerSetupTests: XCTestCase {
    func layer() -> TransformerLayer {
        TransformerLayer(names: .bert("layer.0."), attention: AttentionOptions(heads: 2, headDim: 4), activation: .gelu, eps: 1e-12,
                         hiddenDropout: 0, attentionDropout: 0)
    }

    func testCrossAttentionWithoutMemoryIsAnError() {
        var names = TransformerLayerNames.bert("decoder.0.")
        names.crossAttention = CrossAttentionNames(query: "q", key: "k", value: "v", output: "o", norm: "n")
        let decoder = TransformerLayer(names: names, attention: AttentionOptions(heads: 2, headDim: 4), activation: .gelu, eps: 1e-5,
                                       hiddenDropout: 0, attentionDropout: 0)
        let missing = decoder.missingInput(relative: nil, memory: nil)
        XCTAssertEqual(missing, .noMemory(layer: "decoder.0.attention.output.dense"))
        XCTAssertTrue("\(missing!)".contains("cross-attention needs the encoder's output"))
        XCTAssertNil(decoder.missingInput(relative: nil, memory: Tensor(shape: [1, 8])))
        XCTAssertNil(layer().missingInput(relative: nil, memory: nil), "a layer without cross-attention needs no memory")
    }

    func testDisentangledAttentionWithoutRelativeEmbeddingsIsAnError() {
        var deberta = layer()
        deberta.attentionKind = .disentangled(DisentangledAttention(positionKey: "k", positionQuery: nil, buckets: 0, maxDistance: 8, dropout: 0))
        XCTAssertEqual(deberta.missingInput(relative: nil, memory: nil), .noRelativeEmbeddings(layer: "layer.0.attention.output.dense"))
        XCTAssertNil(deberta.missingInput(relative: Tensor(shape: [16, 8]), memory: nil))
    }

    /// A sliding window cannot carry rotary positions or q/k norms, and disentangled terms cannot
    /// be combined with either: choosing a kind replaces the other, so what runs is what is declared.
    func testOneAttentionChoicePerLayer() {
        var l = layer()
        l.attentionKind = .standard(rotary: Rotary(theta: 10_000, headDim: 4), headNorms: .init(query: "q_norm", key: "k_norm"))
        XCTAssertNotNil(l.rotary); XCTAssertNotNil(l.headNorms); XCTAssertTrue(l.computesSelectedRows); XCTAssertFalse(l.trainsSelectedRows)
        l.attentionKind = .slidingWindow(SlidingWindowAttention(heads: 2, window: 4, prefix: "layer.0.attention.self."))
        XCTAssertNil(l.rotary); XCTAssertNil(l.headNorms); XCTAssertNotNil(l.slidingWindow)
        XCTAssertFalse(l.computesSelectedRows, "a sliding window computes every row")
        XCTAssertFalse(l.shapes(hidden: 8, intermediate: 16).contains { $0.0.hasPrefix("q_norm") }, "no q/k norm parameters on a sliding-window layer")
    }

    /// Rotary cosines and sines are computed once per pass and distinct rotary (ModernBERT's
    /// local and global thetas), and rotating with the table is undone exactly by its inverse.
    func testRotaryTablesOncePerPassAndDistinctRotary() throws {
        let model = try AutoModel.from(pretrained: FamilyFixtures.folder("tiny-modernbert").path)
        let positions: [Int32] = [0, 1, 2, 3, 4, 5]
        let tables = model.encoder.stack.rotaryTables(positions)
        XCTAssertEqual(tables.count, Set(model.encoder.stack.layers.compactMap(\.rotary)).count)
        XCTAssertEqual(tables.count, 2)
        let rotary = Rotary(theta: 10_000, headDim: 4)
        let table = rotary.table(positions: positions)
        let x = Tensor(shape: [6, 8], scalars: (0..<48).map { Float($0) / 7 })
        var y = x
        rotary.rotate(&y, positions: positions, table: table)
        XCTAssertNotEqual(y, x)
        rotary.rotate(&y, positions: positions, table: table, inverse: true)
        XCTAssertLessThan(zip(y.scalars, x.scalars).map { abs($0 - $1) }.max() ?? 1, 1e-5)
    }
}
