#!/usr/bin/env bash
# Start-up, phase by phase, of two java commands that run microgpt_optimized, alternated (docs/jvm.md, "The engines' start-up").
#   docs/startup-phases.sh N 'java ... mgpt.microgpt_optimized' 'java ... mgpt.microgpt_optimized'
# Each command runs `--steps 0 --samples 0` N times, A B A B ..., with -Xlog:class+load uptimes. Printed in milliseconds
# from the JVM's start, median (min-max): the main class loaded; picocli's model built (the first class loaded after it,
# a lambda of mgpt.Cli); the first training step (mgpt.Workers, made just before it). The java command that ./jbang
# runs is what `MICROGPT_LAUNCHER_TRACE=1 bash -x ./jbang microgpt_optimized.java --version` shows after `+ exec`.
set -u
n=$1 a=$2 b=$3 log=$(mktemp)
trap 'rm -f "$log"' EXIT
at() { grep -m1 "$1" "$log" | sed 's/^\[\([0-9.]*\)s.*/\1/'; }
rows=$(for ((i = 0; i < n; i++)); do
  for v in a b; do
    cmd=${!v}
    ${cmd/java /java -Xlog:class+load:file=$log:uptime } --steps 0 --samples 0 >/dev/null 2>&1
    m=$(at 'mgpt.microgpt_optimized ') p=$(at 'mgpt.Cli\$\$Lambda') w=$(at 'mgpt.Workers ')
    echo "$v $m $p $w" | awk '{ printf "%s %.1f %.1f %.1f %.1f\n", $1, $2 * 1000, ($3 - $2) * 1000, ($4 - $3) * 1000, $4 * 1000 }'
  done
done)
med() { sort -n | awk '{ x[NR] = $1 } END { printf "%.0f (%.0f-%.0f)", NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2, x[1], x[NR] }'; }
for v in a b; do
  col() { printf '%s\n' "$rows" | awk -v v=$v -v c=$1 '$1 == v { print $c }' | med; }
  echo "$v: JVM to main $(col 2) | main to options parsed $(col 3) | to the first step $(col 4) | total $(col 5)"
done
