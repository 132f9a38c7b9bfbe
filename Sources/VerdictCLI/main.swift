import Foundation
@testable import VerdictTokenizers
for s in ["\u{11E}\u{952}\u{612}"] {
    var n = NormalizedString(s)
    UnicodeNormalizer(form: .nfkc).normalize(&n)
    print(s, n.scalars.map { String($0.value, radix: 16) }, n.starts, n.ends)
}
