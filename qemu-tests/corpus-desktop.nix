# The corpus's laptop (Tests/nixos-configs/laptop), unchanged: LightDM's greeter comes up on
# the screen (read back with OCR and kept as a screenshot), Alice logs in with her password
# at the keyboard, and her Xfce session starts.
{ lib, ... }:
{
  name = "corpus-desktop";
  nodes.laptop = { imports = [ ../Tests/nixos-configs/laptop/configuration.nix ]; };

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
  '';
}
