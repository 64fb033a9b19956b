#!/usr/bin/env bash
# Regenerates docs/editor.png: the real editor window, from the standalone build with nice-plug's
# dummy audio backend and the demo input, rendered by Mesa's software OpenGL under Xvfb and
# captured with ImageMagick. Run from anywhere; needs root (or the packages below) on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."

width=1100   # the editor's default size (src/editor/theme.rs)
height=760
display=:99
out=docs/editor.png
target="${CARGO_TARGET_DIR:-target}"

need=()
for pkg in xvfb imagemagick libgl1-mesa-dri libasound2-dev libjack-jackd2-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

# The dev profile optimises dependencies (Cargo.toml) and builds far faster than release.
cargo build --features standalone --bin auralis-standalone

Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
standalone=
cleanup() {
  [ -n "$standalone" ] && kill -TERM "$standalone" 2>/dev/null || true
  kill -TERM "$xvfb" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
sleep 2

DISPLAY=$display AURALIS_DEMO_INPUT=1 LIBGL_ALWAYS_SOFTWARE=1 \
  "$target/debug/auralis-standalone" --backend dummy --sample-rate 48000 --period-size 512 \
  >"$target/standalone.log" 2>&1 &
standalone=$!
# Long enough for the analysis to settle on the demo input (it needs 3 s of music to act).
sleep "${SCREENSHOT_WAIT:-12}"
kill -0 "$standalone" 2>/dev/null || { cat "$target/standalone.log"; exit 1; }

DISPLAY=$display import -window root "$target/screen.png"
convert "$target/screen.png" -crop "${width}x${height}+0+0" +repage "$out"
echo "wrote $out"
