#!/usr/bin/env bash
# Installs what LeNet Lab needs, idempotently.
#   bash scripts/setup.sh            -> Python venv with requirements.txt, linked at ./.venv
#   bash scripts/setup.sh --browser  -> the same, plus Debian's Chromium and HAProxy: everything the tests need
#   bash scripts/setup.sh --class    -> the venv plus HAProxy, for scripts/serve_class.py (no browser)
# The venv lives outside the work tree, keyed by a hash of requirements.txt, and is reused
# once a marker file says its install finished. Set LENET_VENV_ROOT to choose where.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
want_haproxy=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1; want_haproxy=1 ;;  # the scale-out test runs replicas behind HAProxy
    --class) want_haproxy=1 ;;
  esac
done

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

if [[ $want_haproxy == 1 ]] && ! command -v haproxy >/dev/null 2>&1 && [[ ! -x /usr/sbin/haproxy ]]; then
  echo "[setup] installing HAProxy from Debian's packages (replicas behind one address: scripts/serve_class.py)"
  sudo_cmd=""
  [[ $(id -u) != 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq haproxy >/dev/null
fi
echo "[setup] ready"
