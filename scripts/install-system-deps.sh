#!/usr/bin/env bash
# Install the Debian packages Vistter's tests and demo need. Idempotent: when every package
# is already installed this only asks dpkg and exits (well under a second).
#
# What the packages are for:
#   nginx, libnginx-mod-rtmp        RTMP ingest the tests publish to (run in the foreground
#                                   on 127.0.0.1 by chaos/realparts/nginx_rtmp.py)
#   python3-gi, gir1.2-gstreamer-1.0, gir1.2-gst-plugins-base-1.0, gir1.2-gst-rtsp-server-1.0
#                                   GStreamer RTSP server driven by the system /usr/bin/python3
#                                   (chaos/realparts/gst_rtsp_server.py: simulated IP cameras)
#   gstreamer1.0-plugins-base       videotestsrc, videoconvert
#   gstreamer1.0-plugins-good       rtph264pay, rtpbin, udp (used by the RTSP server)
#   gstreamer1.0-plugins-ugly       x264enc
#   gstreamer1.0-tools              gst-inspect-1.0 / gst-launch-1.0 for debugging
#   python3-venv                    lets Debian's own python3.11 create .venv (ensurepip)
#   chromium                        the browser the operator-console tests drive through
#                                   Playwright (executable_path=/usr/bin/chromium; Playwright
#                                   never downloads a browser of its own here)
# gstreamer1.0-plugins-bad is not listed: nothing we run uses it directly, and Debian 12's
# libgstrtspserver-1.0-0 depends on it anyway.
#
# ffmpeg itself is NOT a system package: it comes from the imageio-ffmpeg wheel (pip).
set -euo pipefail

# The one list of system packages. Keep it sorted.
PACKAGES=(
    chromium
    gir1.2-gst-plugins-base-1.0
    gir1.2-gst-rtsp-server-1.0
    gir1.2-gstreamer-1.0
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-ugly
    gstreamer1.0-tools
    libnginx-mod-rtmp
    nginx
    python3-gi
    python3-venv
)

if [[ "${1:-}" == "--list" ]]; then
    printf '%s\n' "${PACKAGES[@]}"
    exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-system-deps: all ${#PACKAGES[@]} system packages already installed"
    exit 0
fi

echo "install-system-deps: missing: ${missing[*]}"

if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "install-system-deps: ERROR: not root and no password-less sudo." >&2
        echo "Install the missing packages as root, then run this again:" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
# Install only what is missing, and never let the nginx package start a system-wide nginx
# on port 80: policy-rc.d exit 101 tells invoke-rc.d not to start services.
policy_rc=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "$policy_rc" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy_rc" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy_rc"
    created_policy=1
fi
cleanup_policy() {
    if [[ $created_policy -eq 1 ]]; then
        "${SUDO[@]}" rm -f "$policy_rc"
    fi
}
trap cleanup_policy EXIT
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-system-deps: installed ${missing[*]}"
