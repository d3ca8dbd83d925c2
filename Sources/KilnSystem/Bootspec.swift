/// One generation as a boot loader sees it (NixOS's bootspec): kernel, initrd and command
/// line. Every loader writes its entries from a list of these.
public struct Bootspec: Sendable {
    public var generation: Int
    public var title: String
    /// The kernel and initrd as paths in the root filesystem.
    public var kernel: String
    public var initrd: String
    /// Where their bytes are on the build host, for loaders that copy them (to the ESP).
    public var kernelSource: String
    public var initrdData: [UInt8]
    /// Their store base names ("<hash>-linux-6.1..."): unique per content, so generations that
    /// share a kernel share its copy.
    public var kernelName: String
    public var initrdName: String
    /// The whole kernel command line (with init=).
    public var commandLine: String
    /// The variant (`specialisation.<name>`) this entry boots, or nil for the system itself.
    public var specialisation: String?
    /// When the generation was made (seconds since 1970): its profile link's time.
    public var created: UInt32 = 1

    public init(generation: Int, title: String, kernel: String, initrd: String, kernelSource: String, initrdData: [UInt8],
                kernelName: String, initrdName: String, commandLine: String, specialisation: String? = nil) {
        self.generation = generation; self.title = title; self.kernel = kernel; self.initrd = initrd
        self.kernelSource = kernelSource; self.initrdData = initrdData; self.kernelName = kernelName
        self.initrdName = initrdName; self.commandLine = commandLine; self.specialisation = specialisation
    }
}
