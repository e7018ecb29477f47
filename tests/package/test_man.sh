#!/usr/bin/env bash
# The man pages keep up with the programs: every setting and flag that
# `sidecastd --help` lists is documented in sidecastd(8), every command and
# option of `sidecastctl --help` in sidecastctl(1), and both pages render
# without a groff warning.
#
# Usage: test_man.sh SIDECASTD SIDECASTCTL
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
D8="$SRC/packaging/man/sidecastd.8"
C1="$SRC/packaging/man/sidecastctl.1"
DAEMON=$1 CTL=$2
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# mdoc escapes dashes in flags (\-); compare without the escapes.
D8_PLAIN=$(sed 's/\\-/-/g' "$D8")
C1_PLAIN=$(sed 's/\\-/-/g' "$C1")

# Settings: "  --max-frame-bytes   ..." -> max_frame_bytes, documented as ".It Cm max_frame_bytes".
settings=$("$DAEMON" --help | sed -n 's/^  --\([a-z0-9-]*\) .*/\1/p' | tr - _ | tr '\n' ' ')
[ -n "$settings" ] || bad "no settings parsed from sidecastd --help"
for k in $settings; do
  if grep -Eq "^\.It Cm ([a-z0-9_]+ , )*$k( ,| No|$)" <<<"$D8_PLAIN"; then ok; else
    bad "sidecastd(8) does not document the setting $k"
  fi
done
# Options: "  -c, --config FILE", "      --check-config" -> documented as "Fl -check-config".
for f in $("$DAEMON" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}--\([a-z-]*\).*/\2/p' | sort -u); do
  case " $settings " in *" ${f//-/_} "*) continue ;; esac
  if grep -q "Fl -$f" <<<"$D8_PLAIN"; then ok; else bad "sidecastd(8) does not document --$f"; fi
done

# sidecastctl commands: the first word of each indented line under "Commands:".
cmds=$("$CTL" --help | sed -n '/^Commands:/,/^Options:/p' | sed -n 's/^  \([a-z]\+\)\( .*\)\{0,1\}$/\1/p')
[ -n "$cmds" ] || bad "no commands parsed from sidecastctl --help"
for c in $cmds; do
  if grep -q "^\.It Ic $c\b" "$C1"; then ok; else bad "sidecastctl(1) does not document the command $c"; fi
done
for f in $("$CTL" --help | sed -n '/^Options:/,$p' | grep -o -- '--[a-z]\+' | sort -u); do
  if grep -q "Fl -${f#--}" <<<"$C1_PLAIN"; then ok; else bad "sidecastctl(1) does not document $f"; fi
done
for f in $("$CTL" --help | sed -n '/^Commands:/,/^Options:/p' | grep -o -- '--[a-z-]\+' | sort -u); do
  if grep -q "Fl -${f#--}" <<<"$C1_PLAIN"; then ok; else bad "sidecastctl(1) does not document $f"; fi
done

# Rendering: groff warnings (bad macros, unknown escapes) go to stderr.
if command -v groff >/dev/null; then
  for p in "$D8" "$C1"; do
    out=$(LC_ALL=C.UTF-8 groff -mandoc -ww -z "$p" 2>&1)
    if [ -z "$out" ]; then ok; else bad "$(basename "$p") has groff warnings: $out"; fi
  done
else
  echo "groff is not installed: rendering not checked"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
