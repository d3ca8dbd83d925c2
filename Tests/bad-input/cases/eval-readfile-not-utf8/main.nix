# "caf\xe9!" in Latin-1: Nix gives 5; Kiln cannot hold the byte 0xe9 in a string.
builtins.stringLength (builtins.readFile ./latin1.txt)
