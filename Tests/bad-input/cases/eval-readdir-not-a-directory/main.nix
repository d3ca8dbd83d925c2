# readDir of a regular file must fail, not give { }.
builtins.readDir ./main.nix
