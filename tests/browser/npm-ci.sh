#!/usr/bin/env bash
# Installs playwright-core into tests/browser/node_modules from package-lock.json (npm ci),
# unless the locked version is already there. Never a browser: the tests drive Debian's
# /usr/bin/chromium, so playwright's browser download is switched off.
set -euo pipefail
cd "$(dirname "$0")"
want=$(node -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")
if [[ "$have" == "$want" ]]; then
  echo "npm-ci.sh: playwright-core $have already installed"
  exit 0
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
echo "npm-ci.sh: playwright-core $want installed"
