import CLZ4
import CXXHash
import SeqboxFormat
import XCTest

final class ScratchPrintTests: XCTestCase {
    func testPrint() {
        print(LZ4_versionNumber(), XXH_versionNumber())
    }
}
