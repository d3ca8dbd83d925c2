# The corpus's laptop (Tests/nixos-configs/laptop), unchanged: LightDM's greeter comes up on
# the screen (read back with OCR and kept as a screenshot), Alice logs in with her password
# at the keyboard, and her Xfce session starts. NetworkManager runs the network, leaving the
# test LAN's static address alone, and Alice, in the networkmanager group, adds a connection.
# Her session has PipeWire with WirePlumber and its PulseAudio server (RealtimeKit running);
# CUPS accepts its generated configuration and a queue Alice (lpadmin) adds takes a job;
# fontconfig prefers her monospace font.
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
  '';
}
