#!/usr/bin/env bash
# Installs what the report browser test needs: Debian's Chromium, Node.js (>= 18) with npm, the
# DejaVu fonts, and playwright-core (pinned in tests/report/browser/package-lock.json, installed
# with `npm ci`). Idempotent: does nothing when everything is present. Root or sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
browser_dir=tests/report/browser

missing=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
[ -x /usr/bin/chromium ] || missing+=(chromium)
have_pkg fonts-dejavu-core || missing+=(fonts-dejavu-core)
# Node.js and npm may come from Debian or from another source (e.g. NodeSource, whose nodejs
# package bundles npm): only install what is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-browser-test-deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-browser-test-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "install-browser-test-deps: Node.js $(node --version) is too old (need >= 18)" >&2
  exit 1
fi

want=$(node -p "require('./$browser_dir/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./$browser_dir/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$want" != "$have" ]; then
  echo "install-browser-test-deps: npm ci (playwright-core $want) in $browser_dir"
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "install-browser-test-deps: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), node $(node --version), playwright-core $want"
