/// What a machine's firmware boots: a PC BIOS (SeaBIOS) or UEFI (OVMF, AAVMF).
public enum Firmware: String, Codable, Sendable, CaseIterable {
    case bios, uefi
}
