#!/usr/bin/env bash
# Install everything the platform needs on a fresh Debian machine, idempotently:
# Debian packages (espeak-ng, flite, festival, dataset-fashion-mnist), a virtual environment in .venv, and the
# pinned Python packages of requirements.lock, then this project in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

# espeak-ng, flite, festival + festvox voices: the spoken digits of mnist_spoken (several engines and voices)
APT_PACKAGES=(espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts dataset-fashion-mnist make postgresql
              fluidsynth fluid-soundfont-gm)  # postgresql: the tests run a real server; fluidsynth + FluidR3_GM: instruments_offline
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || { echo "setup: creating .venv with $python"; "$python" -m venv .venv; }

stamp=".venv/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing pinned Python packages (a few minutes the first time)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*; touch "$stamp"
fi
