import Foundation
import Verdict
@testable import VerdictTokenizers
let n = BertNormalizer()
let p = BertPreTokenizer()
var out = ""
for cp in 0..<0x30000 {
    if cp >= 0xD800 && cp < 0xE000 { continue }
    let c = String(Unicode.Scalar(UInt32(cp))!)
    let norm = n.normalize(c)
    var s = NormalizedString("a" + c + "a")
    n.normalize(&s)
    let pt = p.split(NormalizedString("a" + c + "a")).count
    out += "\(cp)\t\(norm.unicodeScalars.map { String($0.value) }.joined(separator: " "))\t\(pt)\n"
}
try out.write(toFile: "/tmp/mine_chars.tsv", atomically: true, encoding: .utf8)
