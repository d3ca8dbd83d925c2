#!/usr/bin/env bash
# Installs kiln and its shell completions under PREFIX (default /usr/local):
#   PREFIX/bin/kiln                                   one self-contained file: the Nix modules and
#                                                     the machine descriptions are inside it
#   PREFIX/share/bash-completion/completions/kiln
#   PREFIX/share/zsh/site-functions/_kiln
#   PREFIX/share/fish/vendor_completions.d/kiln.fish
# Builds kiln first (the same flags as scripts/test.sh, so the two share one build).
# Usage: scripts/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix=${1:-/usr/local}
scripts/install-deps.sh
swift build -c release --product kiln -Xswiftc -enable-testing
kiln=.build/release/kiln
install -d "$prefix/bin" "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d"
install -m 0755 "$kiln" "$prefix/bin/kiln.new"
mv -f "$prefix/bin/kiln.new" "$prefix/bin/kiln"
"$prefix/bin/kiln" --generate-completion-script bash >"$prefix/share/bash-completion/completions/kiln"
"$prefix/bin/kiln" --generate-completion-script zsh >"$prefix/share/zsh/site-functions/_kiln"
"$prefix/bin/kiln" --generate-completion-script fish >"$prefix/share/fish/vendor_completions.d/kiln.fish"
echo "installed $prefix/bin/kiln and its completions (bash, zsh, fish)"
