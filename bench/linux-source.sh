#!/usr/bin/env bash
# Benchmark on Debian's linux-source-6.1 tree: first backup, no-change re-run, 1%-of-files-changed incremental
# and full restore, for strongbox (disk device) and for restic (Debian's package) on the same tree.
# Prints seconds, MB/s, store size and peak RSS per step. Usage: bench/linux-source.sh [WORKDIR]
# Needs ~6 GB free in WORKDIR (default /tmp/sbx-bench). Installs linux-source-6.1, restic, time and bc.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/sbx-bench}
sbx="$top/build/bin/strongbox"

need=()
for p in linux-source-6.1 restic time xz-utils bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -x "$sbx" ] || "$top/scripts/build" "$top/build"

rm -rf "$work"; mkdir -p "$work"
tree="$work/src"
mkdir -p "$tree"
tar -xf /usr/src/linux-source-6.1.tar.xz -C "$tree"
files=$(find "$tree" -type f | wc -l)
bytes=$(du -sb "$tree" | cut -f1)
printf 'dataset: linux-source-6.1, %d files, %.1f MB\n' "$files" "$(echo "$bytes/1000000" | bc -l)"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true

# measure NAME CMD...: runs CMD under /usr/bin/time, prints seconds, MB/s over the tree size and peak RSS.
measure() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err" || { echo "$name failed:"; cat "$work/err"; exit 1; }
  t1=$(date +%s.%N)
  local secs rss
  secs=$(echo "$t1 - $t0" | bc -l)
  rss=$(tail -1 "$work/rss")
  printf '%-34s %8.2f s %9.1f MB/s   peak RSS %7.1f MB\n' "$name" "$secs" \
    "$(echo "$bytes / 1000000 / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

# Appends a line to every 100th file of the tree: 1% of the files change, spread over the whole tree.
change_one_percent() {
  find "$tree" -type f | sort | awk 'NR % 100 == 0' | while read -r f; do
    echo "bench change $1" >> "$f"
  done
}

echo "== strongbox"
"$sbx" init "$work/site" >/dev/null
export STRONGBOX_SITE="$work/site"
measure "strongbox first backup" "$sbx" -q backup "$tree" --level full
measure "strongbox no-change re-run" "$sbx" -q backup "$tree"
change_one_percent sbx
measure "strongbox 1% changed incremental" "$sbx" -q backup "$tree"
measure "strongbox full restore" "$sbx" -q restore --to "$work/sbx-restore"
printf 'strongbox store size: %.1f MB\n' "$(echo "$(du -sb "$work/site/devices" | cut -f1) / 1000000" | bc -l)"
diff -r "$tree" "$work/sbx-restore$tree" >/dev/null && echo "strongbox restore: identical to the source tree"
rm -rf "$work/sbx-restore"

echo "== restic $(restic version | awk '{print $2}')"
export RESTIC_REPOSITORY="$work/restic" RESTIC_PASSWORD_FILE="$work/restic.pw"
echo "bench-password" > "$RESTIC_PASSWORD_FILE"
restic init -q >/dev/null
# A fresh copy of the pristine tree, so restic's first backup sees what strongbox's saw.
rm -rf "$tree"; mkdir -p "$tree"; tar -xf /usr/src/linux-source-6.1.tar.xz -C "$tree"
measure "restic first backup" restic backup -q "$tree"
measure "restic no-change re-run" restic backup -q "$tree"
change_one_percent restic
measure "restic 1% changed incremental" restic backup -q "$tree"
measure "restic full restore" restic restore -q latest --target "$work/restic-restore"
printf 'restic store size: %.1f MB\n' "$(echo "$(du -sb "$work/restic" | cut -f1) / 1000000" | bc -l)"
rm -rf "$work/restic-restore"
