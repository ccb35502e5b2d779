#!/usr/bin/env bash
# One command from a fresh Debian machine to a working `leadrules`: installs what it needs
# (Debian packages, then the project and its development tools in .venv), then runs the main job
# on the example rules: check them, score the X Education leads, render the French agreement.
#
#   ./setup.sh                 install, then run the example job (results in out/)
#   ./setup.sh --install-only  install only (used by .ci/run)
set -euo pipefail

cd "$(dirname "$0")"

# Debian packages: venv for Python, Pango for the PDF (WeasyPrint), poppler-utils to look at
# PDF pages (pdftoppm), fonts for the documents, Chromium for the HTML rendering tests.
DEBIAN_PACKAGES=(
    python3-venv
    libpango-1.0-0
    libpangoft2-1.0-0
    poppler-utils
    fonts-dejavu-core
    fonts-liberation
    chromium
)
PYTHON=${PYTHON:-python3}
DATA=../shared/data/xeducation-leads.csv

install_only=false
case "${1:-}" in
    --install-only) install_only=true ;;
    "") ;;
    *) echo "usage: ./setup.sh [--install-only]" >&2; exit 2 ;;
esac

say() { printf '\n==> %s\n' "$*"; }

install_debian_packages() {
    local missing=()
    for package in "${DEBIAN_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "Debian packages: all present"
        return
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
            sudo=(sudo)
        elif [ "$install_only" = true ]; then
            # CI without root: go on; what truly needs a package fails later, saying which.
            echo "warning: cannot install these Debian packages without root: ${missing[*]}" >&2
            return
        else
            echo "These Debian packages are missing: ${missing[*]}" >&2
            echo "Install them as root (apt-get install ${missing[*]}), then run ./setup.sh again." >&2
            exit 1
        fi
    fi
    say "Installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

install_python_project() {
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "leadrules needs Python 3.11 or newer; '$PYTHON' is older or missing." >&2
        echo "Set PYTHON=/path/to/python3.11 and run ./setup.sh again." >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        say "Creating the virtual environment .venv"
        "$PYTHON" -m venv .venv
    fi
    say "Installing leadrules and its development tools into .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[dev]'
}

run_examples() {
    mkdir -p out
    say "leadrules check rules/"
    .venv/bin/leadrules check rules/
    if [ -f "$DATA" ]; then
        say "leadrules score rules/xeducation.leadrules $DATA -o out/scores.csv"
        .venv/bin/leadrules score rules/xeducation.leadrules "$DATA" -o out/scores.csv
    else
        say "Skipping the scoring example: $DATA is not beside the project"
    fi
    say "leadrules render rules/acme.leadrules --format pdf -o out/accord.pdf"
    .venv/bin/leadrules render rules/acme.leadrules --format pdf -o out/accord.pdf
    say "Done. Results are in out/; run the tests with: .venv/bin/pytest"
}

install_debian_packages
install_python_project
if [ "$install_only" = false ]; then
    run_examples
fi
