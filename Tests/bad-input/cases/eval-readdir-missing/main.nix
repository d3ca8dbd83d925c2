# readDir of a path that does not exist must fail, not give { }.
builtins.readDir ./nosuch
