# The corpus's laptop (Tests/nixos-configs/laptop), unchanged: LightDM's greeter comes up on
# the screen (read back with OCR and kept as a screenshot), Alice logs in with her password
# at the keyboard, and her Xfce session starts. NetworkManager runs the network, leaving the
# test LAN's static address alone, and Alice, in the networkmanager group, adds a connection.
# Her session has PipeWire with WirePlumber and its PulseAudio server (RealtimeKit running);
# CUPS accepts its generated configuration and a queue Alice (lpadmin) adds takes a job;
# fontconfig prefers her monospace font; Firefox shows the configuration's policies and
# preferences on its about:policies page (rendered headless, read back with OCR); Flatpak's
# system installation is there and the portal answers in Alice's session with the GTK file
# chooser; logind reads the lid settings; fstrim runs, locate finds files, UPower, udisks
# and GVfs answer; the LUKS container nixos-generate-config wrote for the root is skipped
# and the encrypted backup drive opens with the key on its own partition and mounts; xrdp
# answers RDP with TLS and starts a remote Xfce session for Alice.
{ lib, ... }:
{
  name = "corpus-desktop";
  nodes.laptop = {
    imports = [ ../Tests/nixos-configs/laptop/configuration.nix ];
    # The test's own interface for Alice to configure.
    boot.kernelModules = [ "dummy" ];
  };

  testScript = ''
    start_all()

    with subtest("laptop: LightDM shows its greeter on the X server"):
        laptop.wait_for_unit("display-manager.service")
        laptop.wait_for_x(timeout=240)
        laptop.wait_until_succeeds("pgrep -x lightdm-gtk-gre", timeout=240)
        laptop.succeed("grep -q 'XkbOptions\" \"caps:escape' /etc/X11/xorg.conf.d/00-keyboard.conf")
        laptop.wait_for_text("Alice Liddell|laptop", timeout=240)
        laptop.screenshot("login-screen")

    with subtest("laptop: Alice logs in at the greeter and Xfce starts"):
        laptop.send_chars("changeme\n")
        laptop.wait_until_succeeds("pgrep -u alice xfce4-session", timeout=240)
        laptop.wait_until_succeeds("pgrep -u alice xfwm4", timeout=240)
        laptop.wait_until_succeeds("pgrep -u alice xfce4-panel && pgrep -u alice xfdesktop", timeout=240)
        assert "alice" in laptop.succeed("loginctl list-sessions --no-legend")
        # The desktop's own icons and the panel, drawn: the session is up, not only started.
        laptop.wait_for_text("Home|Trash|File System|Applications", timeout=240)
        laptop.screenshot("xfce-session")

    with subtest("laptop: NetworkManager runs the network, and Alice changes it"):
        laptop.wait_for_unit("NetworkManager.service")
        # eth0 has the test LAN's static address (networking.interfaces): not NetworkManager's
        assert "eth0:unmanaged" in laptop.succeed("nmcli -t -f DEVICE,STATE device"), laptop.succeed("nmcli device")
        nm = "runuser -u alice -- nmcli"
        laptop.succeed(f"{nm} connection add type dummy ifname dummy0 con-name lab ipv4.method manual ipv4.addresses 10.9.9.1/24 ipv6.method disabled")
        laptop.succeed(f"{nm} connection up lab")
        laptop.wait_until_succeeds("ip -4 addr show dummy0 | grep -q 10.9.9.1/24", timeout=60)
        assert "lab" in laptop.succeed("ls /etc/NetworkManager/system-connections/")
        # Without the group, polkit asks for a password there is no one to type.
        status, out = laptop.execute("runuser -u nobody -- nmcli connection add type dummy ifname dummy1 con-name nope 2>&1")
        assert status != 0 and "privileges" in out.lower(), (status, out)

    with subtest("laptop: sound through PipeWire in Alice's session"):
        laptop.wait_for_unit("rtkit-daemon.service")
        user = "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1000"
        laptop.wait_until_succeeds("test -S /run/user/1000/pipewire-0 && test -S /run/user/1000/pulse/native", timeout=120)
        # The first client starts PipeWire through its socket, and WirePlumber with it.
        assert "PipeWire" in laptop.wait_until_succeeds(f"{user} pw-cli info 0", timeout=120)
        laptop.wait_until_succeeds(f"{user} systemctl --user is-active pipewire.service wireplumber.service", timeout=60)

    with subtest("laptop: CUPS prints to a queue Alice adds"):
        laptop.succeed("cupsd -t")
        laptop.wait_for_unit("cups.socket")
        assert "scheduler is running" in laptop.succeed("lpstat -r")
        # A network printer that is switched off: the job waits in the queue.
        status, out = laptop.execute("runuser -u alice -- lpadmin -p office -E -v socket://127.0.0.1:9100 -m raw 2>&1")
        assert status == 0, out
        job = laptop.succeed("echo hello | runuser -u alice -- lp -d office")
        assert "request id is office-" in job, job
        assert "office-" in laptop.succeed("lpstat -o office")
        laptop.succeed("runuser -u alice -- cancel -a office")

    with subtest("laptop: fontconfig prefers Alice's monospace font"):
        assert "Fira Code" in laptop.succeed("fc-match monospace"), laptop.succeed("fc-match monospace")
        assert "Noto" in laptop.succeed("fc-list : family | grep -m1 Noto")

    with subtest("laptop: Firefox starts with the configuration's policies and language packs"):
        import subprocess
        for lang in ["de", "en-GB"]:
            laptop.succeed(f"test -f /usr/lib/firefox-esr/browser/extensions/langpack-{lang}@firefox-esr.mozilla.org.xpi")
        laptop.succeed("runuser -u alice -- env HOME=/home/alice firefox-esr --headless --window-size 1000,1400 "
                       + "--screenshot /tmp/policies.png about:policies", timeout=300)
        shot = laptop.copy_from_vm("/tmp/policies.png")
        text = subprocess.run(["tesseract", shot, "-"], capture_output=True, text=True).stdout
        # (OCR may drop the dots of the preference and its value.)
        for word in ["DisableTelemetry", "DisableFirefoxStudies", "DisableAppUpdate", "homepage", "wiki", "locked"]:
            assert word in text, text

    with subtest("laptop: Flatpak's system installation, and the portal in Alice's session"):
        assert "/var/lib/flatpak" in laptop.succeed("flatpak --installations")
        laptop.succeed("flatpak remotes --system")
        # The front end is started by the session bus and finds the GTK back end through portals.conf.
        bus = f"{user} DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus"
        out = laptop.wait_until_succeeds(f"{bus} gdbus introspect --session --dest org.freedesktop.portal.Desktop --object-path /org/freedesktop/portal/desktop", timeout=120)
        assert "org.freedesktop.portal.FileChooser" in out, out
        assert "/var/lib/flatpak/exports/share" in laptop.succeed("runuser -l alice -c 'echo $XDG_DATA_DIRS'")

    with subtest("laptop: logind ignores the lid on external power; fstrim runs, locate finds files, UPower, udisks and GVfs answer"):
        lid = "busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager"
        assert laptop.succeed(f"{lid} HandleLidSwitchExternalPower").strip() == 's "ignore"'
        assert laptop.succeed(f"{lid} HandleLidSwitch").strip() == 's "suspend"'
        laptop.succeed("systemctl list-timers fstrim.timer --no-legend | grep -q fstrim.timer")
        laptop.succeed("systemctl start fstrim.service")
        laptop.succeed("systemctl list-timers plocate-updatedb.timer --no-legend | grep -q plocate-updatedb.timer")
        laptop.succeed("systemctl start plocate-updatedb.service")
        assert "/etc/firefox/policies/policies.json" in laptop.succeed("locate policies.json")
        # Alice reads the database through the setgid wrapper.
        assert "/etc/firefox/policies/policies.json" in laptop.succeed("runuser -l alice -c 'locate policies.json'")
        assert "DisplayDevice" in laptop.succeed("upower -e")
        assert "vda" in laptop.succeed("udisksctl status")
        # GVfs's daemon answers on Alice's session bus, for Thunar.
        laptop.succeed(f"{bus} gdbus introspect --session --dest org.gtk.vfs.Daemon --object-path /org/gtk/vfs/Daemon")

    with subtest("laptop: LUKS: the generated root container is skipped, and the backup drive opens with its key partition"):
        # hardware-configuration.nix's container is on the disk the configuration came from,
        # not here: skipped (nofail), neither failed nor holding the boot.
        laptop.succeed("grep -q '^luks-8c1f4b2e-5d3a-4e7b-9a60-2f7c1d9e4b35 /dev/disk/by-uuid/8c1f4b2e-5d3a-4e7b-9a60-2f7c1d9e4b35 - nofail$' /etc/crypttab")
        assert "cryptsetup" not in laptop.succeed("systemctl --failed --no-legend")
        # Without nofail the missing device would fail cryptsetup.target after 90 s.
        assert laptop.succeed("systemctl is-active cryptsetup.target").strip() == "active"
        # The backup drive, made under other partition names, then renamed and plugged in
        # (a loop device) as the drive the configuration names.
        laptop.succeed(
            "set -e; truncate -s 64M /root/usb.img"
            " && printf 'label: gpt\\nsize=1MiB, name=staging-key\\nname=staging\\n' | sfdisk -q /root/usb.img"
            " && dev=$(losetup -fP --show /root/usb.img) && udevadm settle"
            " && head -c 4096 /dev/urandom > /root/backup.key && dd if=/root/backup.key of=$dev'p1' status=none"
            " && cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file /root/backup.key $dev'p2'"
            " && cryptsetup open --key-file /root/backup.key $dev'p2' staging && mkfs.ext4 -q /dev/mapper/staging"
            " && mount /dev/mapper/staging /mnt && echo kept > /mnt/file && umount /mnt && cryptsetup close staging"
            " && losetup -d $dev && sfdisk -q --part-label /root/usb.img 1 backup-key && sfdisk -q --part-label /root/usb.img 2 backup"
            " && losetup -fP /root/usb.img && udevadm settle")
        laptop.succeed("systemctl start systemd-cryptsetup@backup.service")
        assert "allow_discards" in laptop.succeed("dmsetup table backup")
        laptop.succeed("systemctl start mnt-backup.mount")
        assert laptop.succeed("findmnt -no SOURCE /mnt/backup").strip() == "/dev/mapper/backup"
        assert laptop.succeed("cat /mnt/backup/file").strip() == "kept"
        laptop.succeed("grep -qx 'blacklist firewire_ohci' /etc/modprobe.d/kiln-luks.conf")

    with subtest("laptop: the power button runs acpid's handler and logind leaves the laptop on"):
        laptop.wait_for_unit("acpid.service")
        assert laptop.succeed(f"{lid} HandlePowerKey").strip() == 's "ignore"'
        laptop.succeed("test -e /sys/module/button")
        laptop.send_monitor_command("system_powerdown")
        laptop.wait_until_succeeds("journalctl -t power-button | grep -q 'power button (button/power.*): locking the sessions'", timeout=60)
        laptop.fail("systemctl list-jobs --no-legend | grep -q poweroff")
        assert laptop.succeed("systemctl is-active multi-user.target").strip() == "active"

    with subtest("laptop: xrdp answers RDP with TLS, and a remote login starts Alice's Xfce on an X server of its own"):
        laptop.wait_for_unit("xrdp.service")
        laptop.wait_for_open_port(3389)
        # An RDP client's first packet, an X.224 Connection Request offering TLS and CredSSP;
        # xrdp's Connection Confirm carries a negotiation response that selects TLS.
        reply = laptop.succeed(
            "exec 3<>/dev/tcp/localhost/3389"
            " && printf '\\x03\\x00\\x00\\x13\\x0e\\xe0\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x08\\x00\\x03\\x00\\x00\\x00' >&3"
            " && head -c 19 <&3 | od -An -tx1").split()
        assert reply[:6] == ["03", "00", "00", "13", "0e", "d0"] and reply[11] == "02" and reply[15] == "01", reply
        laptop.succeed("openssl x509 -in /etc/xrdp/cert.pem -noout -subject | grep -q xrdp")
        # What xrdp asks of sesman once a user has logged in: Alice's password, her session.
        assert "display=:10" in laptop.succeed("echo changeme | xrdp-sesrun -F 0 alice")
        laptop.wait_until_succeeds("pgrep -u alice -f 'Xorg :10 .*-config xrdp/xorg.conf'", timeout=120)
        laptop.wait_until_succeeds(
            "for p in $(pgrep -u alice -x xfce4-session); do grep -qa DISPLAY=:10 /proc/$p/environ && exit 0; done; exit 1", timeout=120)
  '';
}
