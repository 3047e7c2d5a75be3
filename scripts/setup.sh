#!/usr/bin/env bash
# Installs what LeNet Lab needs, idempotently.
#   bash scripts/setup.sh            -> Python venv with requirements.txt, linked at ./.venv
#   bash scripts/setup.sh --browser  -> the same, plus Debian's Chromium for the browser tests
# The venv lives outside the work tree, keyed by a hash of requirements.txt, and is reused
# once a marker file says its install finished. Set LENET_VENV_ROOT to choose where.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[[ "${1:-}" == "--browser" ]] && want_browser=1

hash=$(sha256sum requirements.txt | cut -c1-16)
root="${LENET_VENV_ROOT:-$HOME/.cache/lenet-lab}"
venv="$root/venv-$hash"
marker="$venv/.install-complete"

if [[ ! -f "$marker" ]]; then
  echo "[setup] creating venv $venv (torch is large: a few minutes the first time)"
  rm -rf "$venv"
  mkdir -p "$root"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r requirements.txt
  touch "$marker"
else
  echo "[setup] reusing venv $venv"
fi
ln -sfn "$venv" .venv

if [[ $want_browser == 1 ]] && { [[ ! -x /usr/bin/chromium ]] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; }; then
  echo "[setup] installing Chromium and a Chinese font from Debian's packages"
  sudo_cmd=""
  [[ $(id -u) != 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium fonts-wqy-microhei fontconfig >/dev/null
fi
echo "[setup] ready"
