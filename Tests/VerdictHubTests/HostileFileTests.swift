import Foundation
import VerdictTestSupport
import XCTest
import VerdictTensor
@testable import VerdictHub
import VerdictModels

/// Checkpoint readers on hostile input: every case is a clear error, never a crash or an
/// out-of-bounds read.
final class HostileFileTests: XCTestCase {
    static let hostile = Repository.fixture("hostile")

    /// A safetensors file with the given header JSON and `dataSize` bytes of data.
    func safetensors(_ header: String, dataSize: Int, declaredLength: UInt64? = nil) -> Data {
        var d = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { d.append(contentsOf: $0) }
        d.append(Data(header.utf8))
        d.append(Data(count: dataSize))
        return d
    }

    func message(_ data: Data) -> String {
        do { _ = try SafeTensorsFile(data: data, path: "bad.safetensors"); return "" } catch { return "\(error)" }
    }

    func testSafeTensorsRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-\(UUID()).safetensors")
        let a = Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 1e-3, 65504])
        for dtype in [DType.float32, .float16, .bfloat16] {
            try SafeTensorsFile.write([("a", a), ("b", Tensor(shape: [1], scalars: [7]))], dtype: dtype, to: url)
            let f = try SafeTensorsFile(url: url)
            XCTAssertEqual(f.names, ["a", "b"])
            XCTAssertLessThanOrEqual(try f.tensor("a").maxAbsDifference(a), dtype == .float32 ? 0 : 300)
            XCTAssertEqual(try f.tensor("b").scalars, [7])
        }
    }

    func testTruncatedAndOversizedHeaders() {
        XCTAssertTrue(message(Data([1, 2, 3])).contains("shorter than the 8-byte header"))
        XCTAssertTrue(message(safetensors("{}", dataSize: 0, declaredLength: 1 << 40)).contains("exceeds"))
        XCTAssertTrue(message(safetensors("{\"a\": ", dataSize: 0)).contains("not valid JSON"))
        XCTAssertTrue(message(safetensors("[1]", dataSize: 0)).contains("not a JSON object"))
    }

    func testOffsetsAndShapes() {
        let outOfRange = #"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#
        XCTAssertTrue(message(safetensors(outOfRange, dataSize: 8)).contains("outside"))
        let overlap = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#
        XCTAssertTrue(message(safetensors(overlap, dataSize: 12)).contains("overlap"))
        let mismatch = #"{"a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]}}"#
        XCTAssertTrue(message(safetensors(mismatch, dataSize: 8)).contains("needs 6 bytes"))
        let huge = #"{"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}}"#
        XCTAssertTrue(message(safetensors(huge, dataSize: 8)).contains("larger than the file"))
        let negative = #"{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#
        XCTAssertTrue(message(safetensors(negative, dataSize: 8)).contains("negative"))
        let backwards = #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}"#
        XCTAssertTrue(message(safetensors(backwards, dataSize: 8)).contains("outside"))
        let dtype = #"{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}"#
        XCTAssertTrue(message(safetensors(dtype, dataSize: 1)).contains("unknown dtype"))
        let wrongType = #"{"a": {"dtype": "F32", "shape": "big", "data_offsets": [0, 4]}}"#
        XCTAssertTrue(message(safetensors(wrongType, dataSize: 4)).contains("shape"))
    }

    func testTruncatedSafeTensorsFileOfRealModel() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-\(UUID()).safetensors")
        try SafeTensorsFile.write([("a", Tensor(shape: [64], repeating: 1))], to: url)
        let full = try Data(contentsOf: url)
        for cut in [9, full.count / 2, full.count - 1] {
            XCTAssertFalse(message(full.prefix(cut)).isEmpty, "cut at \(cut)")
        }
    }

    func pickleError(_ name: String) -> String {
        do { _ = try TorchCheckpoint(url: Self.hostile.appendingPathComponent(name)).tensor("w"); return "" } catch { return "\(error)" }
    }

    func testPickleAllowList() throws {
        XCTAssertTrue(pickleError("os-system.bin").contains("posix.system"), pickleError("os-system.bin"))
        XCTAssertTrue(pickleError("builtins-eval.bin").contains("builtins.eval"), pickleError("builtins-eval.bin"))
        XCTAssertTrue(pickleError("not-a-dict.bin").contains("not a state dict"), pickleError("not-a-dict.bin"))
        XCTAssertTrue(pickleError("storage-overrun.bin").contains("reads past"), pickleError("storage-overrun.bin"))
        XCTAssertTrue(pickleError("path-key.bin").contains("not a plain name"), pickleError("path-key.bin"))
        XCTAssertEqual(try TorchCheckpoint(url: Self.hostile.appendingPathComponent("valid.bin")).tensor("w").scalars, [1, 2, 3, 4])
        let truncated = try Data(contentsOf: Self.hostile.appendingPathComponent("valid.bin")).prefix(300)
        XCTAssertThrowsError(try TorchCheckpoint(data: truncated, path: "truncated.bin"))
        XCTAssertThrowsError(try TorchCheckpoint(data: Data("not a zip".utf8), path: "text.bin"))
    }

    func testConfigWithWrongTypes() {
        func error(_ json: String) -> String {
            do { _ = try ModelConfig(data: Data(json.utf8)); return "" } catch { return "\(error)" }
        }
        let base = #""model_type": "bert", "vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8"#
        XCTAssertTrue(error("{\(base), \"hidden_size\": \"big\"}").contains("$.hidden_size"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 7}").contains("divisible"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 8, \"id2label\": {\"x\": \"a\"}}").contains("$.id2label"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 8, \"hidden_act\": \"swish9\"}").contains("$.hidden_act"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 8, \"problem_type\": 3}").contains("$.problem_type"))
        XCTAssertTrue(error("{\"vocab_size\": 3}").contains("$.model_type"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": -8}").contains("positive"))
        XCTAssertTrue(error("not json").contains("not valid JSON"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 8, \"pad_token_id\": 10000000000}").contains("$.pad_token_id"))
        XCTAssertTrue(error("{\(base), \"hidden_size\": 8, \"pad_token_id\": -1}").contains("$.pad_token_id"))
        XCTAssertEqual(error("{\(base), \"hidden_size\": 8}"), "")
    }
}
