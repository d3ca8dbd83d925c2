import Foundation
import KilnPlan
import KilnStore
import KilnSupport

/// Stage 1: a small initrd made of a static busybox, the kernel modules the machine needs to
/// reach its root (closed over their dependencies), and a generated /init that mounts the
/// root by UUID (or, for a live ISO, its squashfs under a tmpfs) and hands over to the generation's init. A cpio written by Kiln: owners,
/// modes and times are exact, and no root is needed.
enum Initrd {
    /// The initrd store object and its bytes (systemd-boot copies them to the ESP).
    static func make(plan: SystemPlan, kernelModules kmods: KernelModules, busybox: StoreObject, timestamp: UInt32) throws
        -> (object: GeneratedObject, bytes: [UInt8]) {
        guard let bb = busybox.manifest.entries.first(where: { $0.path == "bin/busybox" || $0.path == "usr/bin/busybox" }) else {
            throw KilnError("package busybox-static has no bin/busybox")
        }
        let order = try kmods.closure(plan.kernel.initrdModules + plan.rootFilesystem.kernelModules,
                                     listedIn: "boot.initrd.kernelModules or boot.initrd.availableKernelModules")
        var cpio = CpioWriter(mtime: timestamp)
        for d in ["bin", "dev", "proc", "sys", "run", "mnt-root", "lib", "lib/modules"] { cpio.add(d, .directory, mode: 0o755) }
        cpio.add("dev/console", .charDevice(major: 5, minor: 1), mode: 0o600)
        cpio.add("bin/busybox", .file(try busybox.verifiedContents(bb.path)), mode: 0o755)
        cpio.add("bin/sh", .symlink("busybox"), mode: 0o777)
        for m in order {
            cpio.add("lib/modules/\(m).ko", .file(try kmods.contents(of: m)), mode: 0o644)
        }
        cpio.add("init", .file(Array(stage1Init(modules: order, rootFilesystem: plan.rootFilesystem).utf8)), mode: 0o755)
        cpio.finish()
        var obj = GeneratedObject(name: "initrd-linux-\(kmods.version)")
        obj.data("initrd", [UInt8](cpio.data))
        return (obj, [UInt8](cpio.data))
    }

    static func stage1Init(modules: [String], rootFilesystem: RootFilesystem) -> String {
        """
        #!/bin/sh
        # Kiln stage 1: load the storage drivers, mount the root by UUID, hand over to stage 2.
        export PATH=/bin
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        echo "kiln stage 1: loading \(modules.count) kernel modules"
        \(modules.map { "insmod /lib/modules/\($0).ko || echo \"kiln stage 1: insmod \($0) failed\"" }.joined(separator: "\n"))
        root=; init=; live=; copytoram=
        for arg in $(cat /proc/cmdline); do
          case "$arg" in
            root=*) root="${arg#root=}" ;;
            init=*) init="${arg#init=}" ;;
            kiln.live=*) live="${arg#kiln.live=}" ;;
            copytoram) copytoram=1 ;;
          esac
        done
        fail() { echo "kiln stage 1: $*"; echo "kiln stage 1: starting a rescue shell"; exec sh; }
        [ -n "$init" ] || fail "no init= on the kernel command line"
        # wait_for_device SPEC WHAT: the device findfs names for SPEC (in $dev), waiting up to 30 s.
        wait_for_device() {
          dev=
          i=0
          while [ $i -lt 300 ]; do
            dev=$(findfs "$1" 2>/dev/null) && return 0
            sleep 0.1; i=$((i + 1))
          done
          fail "$2 ($1) did not appear"
        }
        if [ -n "$live" ]; then
          # A live system (an ISO): the medium by its label, its squashfs read-only under a
          # tmpfs (overlayfs) as the root; with copytoram the squashfs is copied to RAM first
          # and the medium let go.
          wait_for_device "LABEL=$live" "the live medium"
          mkdir -p /medium /lower /rw
          mount -t iso9660 -o ro "$dev" /medium || fail "cannot mount the live medium $dev"
          squashfs=/medium/kiln/root.squashfs
          [ -f "$squashfs" ] || fail "$dev (LABEL=$live) holds no kiln/root.squashfs"
          mount -t tmpfs -o mode=0755,size=75% tmpfs /rw
          if [ -n "$copytoram" ]; then
            echo "kiln stage 1: copying the live system to RAM"
            mkdir -p /rw/ram
            cp "$squashfs" /rw/ram/root.squashfs || fail "cannot copy the live system to RAM"
            squashfs=/rw/ram/root.squashfs
            umount /medium
          fi
          mount -t squashfs -o ro,loop "$squashfs" /lower || fail "cannot mount $squashfs"
          mkdir -p /rw/upper /rw/work
          mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /mnt-root || fail "cannot mount the live root (overlayfs)"
          mount -t tmpfs -o mode=0755,nosuid,nodev,size=20% tmpfs /mnt-root/run
          mkdir -p /mnt-root/run/kiln/medium /mnt-root/run/kiln/lower /mnt-root/run/kiln/rw
          if [ -z "$copytoram" ]; then mount --move /medium /mnt-root/run/kiln/medium; fi
          mount --move /lower /mnt-root/run/kiln/lower
          mount --move /rw /mnt-root/run/kiln/rw
        else
          [ -n "$root" ] || fail "no root= on the kernel command line"
          wait_for_device "$root" "root device"
          mount -t \(rootFilesystem.rawValue) -o rw "$dev" /mnt-root || fail "cannot mount $dev"
          # The store is read-only on the running system (kiln-receive and kiln-gc remount it
          # writable while they change it).
          mount --bind /mnt-root/nix/store /mnt-root/nix/store && mount -o remount,bind,ro /mnt-root/nix/store \
            || echo "kiln stage 1: could not make /nix/store read-only"
          mount -t tmpfs -o mode=0755,nosuid,nodev,size=20% tmpfs /mnt-root/run
        fi
        ln -sfn "${init%/init}" /mnt-root/run/current-system
        ln -sfn "${init%/init}" /mnt-root/run/booted-system
        mount --move /dev /mnt-root/dev
        umount /proc /sys
        echo "kiln stage 1: switching to $init"
        exec switch_root /mnt-root "$init"

        """
    }
}
