# shellcheck shell=bash
# Sourced by scripts/check-schemas and scripts/check-deploy: makes a Python venv under .build-tools/venv holding the
# pinned validation tools, installing only what is missing. Needs a repository root in $root.

# Pinned so that a clean clone validates with the same rules as the last green run.
python_tool_requirements=(
    "check-jsonschema==0.39.0"
    "PyYAML==6.0.3"
)

# shellcheck disable=SC2154 # root is set by the script that sources this file.
tools_venv="${root:?set root to the repository root before sourcing}/.build-tools/venv"

# Installs Debian packages that are missing; CI runs as root, a developer may need sudo.
apt_install_missing() {
    local missing=() p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_python_tools() {
    local stamp="$tools_venv/.segmenter-requirements"
    local wanted
    wanted="$(printf '%s\n' "${python_tool_requirements[@]}")"
    if [ -x "$tools_venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || apt_install_missing python3
    if [ ! -x "$tools_venv/bin/python" ]; then
        rm -rf "$tools_venv"
        mkdir -p "$(dirname "$tools_venv")"
        # Debian's python3 has no ensurepip until python3-venv is installed.
        if ! python3 -m venv "$tools_venv" >/dev/null 2>&1; then
            rm -rf "$tools_venv"
            apt_install_missing python3-venv
            python3 -m venv "$tools_venv"
        fi
    fi
    echo "installing Python tools into ${tools_venv#"$root"/}: ${python_tool_requirements[*]}"
    "$tools_venv/bin/python" -m pip install --quiet --disable-pip-version-check "${python_tool_requirements[@]}"
    printf '%s\n' "$wanted" >"$stamp"
}
