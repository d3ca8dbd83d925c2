# import of a directory reads its default.nix; this one has none.
import ./dir
