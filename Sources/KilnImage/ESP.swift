import Foundation

/// A file to put on the ESP. Paths are relative to the ESP's root ("EFI/BOOT/BOOTX64.EFI").
public struct ESPFile: Sendable {
    public enum Content: Sendable {
        case file(String)
        case data([UInt8])
    }
    public var path: String
    public var content: Content

    public init(_ path: String, _ content: Content) {
        self.path = path; self.content = content
    }

    var size: UInt64 {
        switch content {
        case .data(let d): return UInt64(d.count)
        case .file(let p):
            var st = stat()
            return stat(p, &st) == 0 ? UInt64(st.st_size) : 0
        }
    }
}

/// A BIOS boot loader's code: the MBR's first 440 bytes and the image that goes into the
/// BIOS boot partition (which starts at `DiskAssembler.biosBootPartitionLBA`).
public struct BIOSBootCode: Sendable {
    public var mbrCode: [UInt8]
    public var core: [UInt8]

    public init(mbrCode: [UInt8], core: [UInt8]) {
        self.mbrCode = mbrCode; self.core = core
    }
}
