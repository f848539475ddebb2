#!/bin/sh
# regen-golden-png.sh — deliberately regenerate the viewer's golden pictures
# of a trace at its named moments (the only way golden PNGs change).
#
#   tools/regen-golden-png.sh MAILSIM TRACE OUTDIR [MOMENT...]
#
# MAILSIM is the built command (build/cli/mailsim; its `render` runs
# build/cli/mailsim-viz, built beside it). The default moments are the five
# of the journey: first-submission mx-lookup greylisting delivery imap-fetch.
# Each picture is OUTDIR/<trace name>-<moment>.png at 1280x800, all views.
# A golden test renders the same moment with the same command and compares
# the bytes (pictures are byte-reproducible: RGB888, software renderer).
set -eu
if [ $# -lt 3 ]; then
  echo "usage: $0 MAILSIM TRACE OUTDIR [MOMENT...]" >&2
  exit 2
fi
mailsim=$1 trace=$2 out=$3
shift 3
[ $# -gt 0 ] || set -- first-submission mx-lookup greylisting delivery imap-fetch
mkdir -p "$out"
name=$(basename "$trace" .jsonl)
for moment in "$@"; do
  "$mailsim" render "$trace" --at "$moment" --size 1280x800 --view all \
    --out "$out/$name-$moment.png"
  echo "$out/$name-$moment.png"
done
