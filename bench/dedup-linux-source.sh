#!/usr/bin/env bash
# Benchmark of the dedup storage device on Debian's linux-source-6.1 tree, against restic and borg (Debian's
# packages, default settings; borg's default compression is lz4) doing the same steps:
#   first full backup, no-change re-run, a second identical copy of the tree under another name (store growth,
#   i.e. deduplication across trees), a 1%-of-files-changed incremental, full restore (checked with diff -r),
#   store size.
# strongbox only: GC after expiring the sets the engine lets go (a second 1% change and a new full of the tree
# are made first, so the first chain can expire and the first change's chunks become garbage), and optimized
# duplication of the newest full to a second dedup device in the same domain (bytes sent vs the set's stored
# chunk bytes).
# Prints seconds, MB/s (over the tree size) and peak RSS per step, a summary table and the ratios against the
# performance targets (PASS/MISS). Page caches are dropped before every measured step when the kernel allows it.
# Usage: bench/dedup-linux-source.sh [WORKDIR]   (default /tmp/sbx-dedup-bench; needs ~10 GB free there)
# Uses build/bin/strongbox (build it first with scripts/build; the script waits up to 30 min for it to appear)
# and copies it with its plugins into WORKDIR, so a rebuild during the run cannot swap it mid-benchmark.
# Installs linux-source-6.1, restic, borgbackup, time, xz-utils, bc and jq. Deletes WORKDIR at the end (a failed
# run leaves it for inspection).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/sbx-dedup-bench}
built="$top/build"

need=()
for p in linux-source-6.1 restic borgbackup time xz-utils bc jq; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Wait for a usable binary (someone may be relinking it), then take a private copy with the same layout
# (bin/, lib/strongbox/plugins/, share/strongbox/policies/), which is where strongbox looks for its plugins.
for i in $(seq 180); do
  "$built/bin/strongbox" gc --help >/dev/null 2>&1 && break
  [ "$i" -eq 180 ] && { echo "no working $built/bin/strongbox (build it with scripts/build)"; exit 1; }
  sleep 10
done
rm -rf "$work"; mkdir -p "$work/sbx/bin" "$work/sbx/lib/strongbox" "$work/sbx/share/strongbox"
cp "$built/bin/strongbox" "$work/sbx/bin/"
cp -r "$built/lib/strongbox/plugins" "$work/sbx/lib/strongbox/"
cp -r "$built/share/strongbox/policies" "$work/sbx/share/strongbox/"
sbx="$work/sbx/bin/strongbox"
"$sbx" plugins list | grep -q dedup || { echo "the strongbox copy has no dedup plugin"; exit 1; }

pristine="$work/pristine" tree="$work/src" tree2="$work/src2"
mkdir -p "$pristine"
tar -xf /usr/src/linux-source-6.1.tar.xz -C "$pristine"
files=$(find "$pristine" -type f | wc -l)
bytes=$(du -sb "$pristine" | cut -f1)
printf 'dataset: linux-source-6.1, %d files, %.1f MB; %d cores; %s\n' "$files" "$(echo "$bytes/1000000" | bc -l)" \
  "$(nproc)" "$(date -u +%FT%TZ)"

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
# A fresh copy of the pristine tree, so every tool starts from the same bytes.
fresh_tree() { rm -rf "$tree" "$tree2"; cp -a "$pristine" "$tree"; }
# Appends a line to every 100th file of the tree: 1% of the files change, spread over the whole tree.
change_one_percent() {
  find "$tree" -type f | sort | awk 'NR % 100 == 0' | while read -r f; do
    echo "bench change $1" >> "$f"
  done
}
mb() { echo "$1 / 1000000" | bc -l; }
size_of() { du -sb "$1" | cut -f1; }

declare -A secs rss
# measure KEY LABEL CMD...: drops caches, runs CMD under /usr/bin/time (stdout kept in $work/out), prints
# seconds, MB/s over the tree size, peak RSS and minor page faults (each costs a trip into the kernel, which
# on a virtual machine is dear), and records seconds and RSS under KEY.
measure() {
  local key=$1 name=$2; shift 2
  local t0 t1
  drop_caches
  t0=$(date +%s.%N)
  /usr/bin/time -f '%M %R' -o "$work/rss" "$@" >"$work/out" 2>"$work/err" || {
    echo "$name failed: $*"; cat "$work/err"; cat "$work/rss"; exit 1; }
  t1=$(date +%s.%N)
  secs[$key]=$(echo "$t1 - $t0" | bc -l)
  local faults
  read -r rss[$key] faults < <(tail -1 "$work/rss")
  printf '%-40s %8.2f s %9.1f MB/s   peak RSS %7.1f MB   page faults %7d\n' "$name" "${secs[$key]}" \
    "$(echo "$bytes / 1000000 / ${secs[$key]}" | bc -l)" "$(echo "${rss[$key]} / 1024" | bc -l)" "$faults"
}
# growth LABEL BEFORE AFTER: how much a store grew when an identical tree was backed up under another name.
growth() {
  local grew=$(( $3 - $2 ))
  printf '%s store growth for the identical second tree: %.1f MB for %.1f MB of data (dedup ratio %s)\n' "$1" \
    "$(mb "$grew")" "$(mb "$bytes")" "$([ "$grew" -gt 0 ] && printf '%.0f:1' "$(echo "$bytes / $grew" | bc -l)" || echo 'inf')"
}
same() { diff -r "$1" "$2" >/dev/null && echo "$3 restore: identical to the source tree" || { echo "$3 restore DIFFERS from the source tree"; restore_ok[$3]=no; }; }
declare -A store restore_ok=([strongbox]=yes [restic]=yes [borg]=yes)

echo "== strongbox (dedup device, AES-256-GCM, zstd)"
fresh_tree
export STRONGBOX_SITE="$work/site"
"$sbx" init "$STRONGBOX_SITE" >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$work/key"; chmod 600 "$work/key"
"$sbx" -q devices add dd --type dedup --path "$work/dd" --key-file "$work/key"
measure sbx.first "strongbox first backup" "$sbx" -q backup "$tree" --device dd --level full
measure sbx.rerun "strongbox no-change re-run" "$sbx" -q backup "$tree" --device dd
before=$(size_of "$work/dd")
cp -a "$tree" "$tree2"
measure sbx.tree2 "strongbox identical 2nd tree, full" "$sbx" -q backup "$tree2" --device dd --level full
growth strongbox "$before" "$(size_of "$work/dd")"
change_one_percent sbx
measure sbx.change "strongbox 1% changed incremental" "$sbx" -q backup "$tree" --device dd
newest=$("$sbx" --json sets list | jq -s --arg t "$tree" '[.[] | select(.sources == [$t])] | max_by(.id) | .id')
measure sbx.restore "strongbox full restore (set $newest)" "$sbx" -q restore --set "$newest" --to "$work/sbx-restore"
same "$tree" "$work/sbx-restore$tree" strongbox
rm -rf "$work/sbx-restore"
store[sbx]=$(size_of "$work/dd")
printf 'strongbox store size: %.1f MB\n' "$(mb "${store[sbx]}")"

echo "== strongbox GC"
change_one_percent sbx-2
measure sbx.full2 "strongbox full after a 2nd 1% change" "$sbx" -q backup "$tree" --device dd --level full
cat > "$STRONGBOX_SITE/policies/default/retention.lua" <<'EOF'
-- bench/dedup-linux-source.sh: expire every set the engine lets go (it keeps the newest chain of each series).
function expire(series, ctx) local out = {} for _, s in ipairs(series) do out[s.id] = {keep = false, reasons = {'bench'}} end return out end
EOF
total_sets=$("$sbx" --json sets list | jq -s 'length')
"$sbx" --json expire > "$work/expire.json"
printf 'expired %s of %s sets\n' "$(jq '.expired' "$work/expire.json")" "$total_sets"
before=$(size_of "$work/dd")
measure sbx.gc "strongbox gc" "$sbx" --json gc
jq -c . "$work/out" > "$work/gc.json"
after=$(size_of "$work/dd")
printf 'gc: bytes freed %s (%.1f MB), packs deleted %s, rewritten %s; store %.1f MB -> %.1f MB (du)\n' \
  "$(jq '[.devices[].bytes_freed] | add' "$work/gc.json")" "$(mb "$(jq '[.devices[].bytes_freed] | add' "$work/gc.json")")" \
  "$(jq '[.devices[].packs_deleted] | add' "$work/gc.json")" "$(jq '[.devices[].packs_rewritten] | add' "$work/gc.json")" \
  "$(mb "$before")" "$(mb "$after")"

echo "== strongbox optimized duplication"
"$sbx" -q devices add dd2 --type dedup --path "$work/dd2" --key-file "$work/key" --set domain_from="$work/dd"
full=$("$sbx" --json sets list | jq -s --arg t "$tree" \
  '[.[] | select(.sources == [$t] and .level == "full" and .state == "complete" and .copy_of == null)] | max_by(.id) | .id')
measure sbx.dup "strongbox duplicate set $full to dd2" "$sbx" --json duplicate "$full" --to dd2
jq -c . "$work/out" > "$work/dup.json"
sent=$(jq '.bytes_sent' "$work/dup.json"); stored=$(jq '.stored_bytes' "$work/dup.json")
dup_ratio=$(echo "$sent / $stored" | bc -l)
dup_ok=$(echo "$dup_ratio >= 0.98 && $dup_ratio <= 1.02" | bc)
printf 'duplicate: optimized %s, bytes_sent %s, stored_bytes %s, ratio %.4f (%s 2%%), dd2 size %.1f MB\n' \
  "$(jq '.optimized' "$work/dup.json")" "$sent" "$stored" "$dup_ratio" \
  "$([ "$dup_ok" = 1 ] && echo within || echo NOT within)" "$(mb "$(size_of "$work/dd2")")"
unset STRONGBOX_SITE
rm -rf "$work/dd" "$work/dd2" "$work/site"

echo "== restic $(restic version | awk '{print $2}') (defaults)"
fresh_tree
export RESTIC_REPOSITORY="$work/restic" RESTIC_PASSWORD="bench-password" RESTIC_CACHE_DIR="$work/restic-cache"
restic init -q >/dev/null
measure restic.first "restic first backup" restic backup -q "$tree"
measure restic.rerun "restic no-change re-run" restic backup -q "$tree"
before=$(size_of "$work/restic")
cp -a "$tree" "$tree2"
measure restic.tree2 "restic identical 2nd tree" restic backup -q "$tree2"
growth restic "$before" "$(size_of "$work/restic")"
change_one_percent restic
measure restic.change "restic 1% changed incremental" restic backup -q "$tree"
measure restic.restore "restic full restore (latest)" restic restore -q latest --path "$tree" --target "$work/restic-restore"
same "$tree" "$work/restic-restore$tree" restic
rm -rf "$work/restic-restore"
store[restic]=$(size_of "$work/restic")
printf 'restic store size: %.1f MB (repository version %s)\n' "$(mb "${store[restic]}")" \
  "$(restic cat config 2>/dev/null | jq '.version')"
unset RESTIC_REPOSITORY RESTIC_PASSWORD RESTIC_CACHE_DIR
rm -rf "$work/restic" "$work/restic-cache"

echo "== borg $(borg --version | awk '{print $2}') (defaults: repokey encryption, lz4 compression)"
fresh_tree
export BORG_REPO="$work/borg" BORG_PASSPHRASE="bench-password" BORG_BASE_DIR="$work/borg-home"
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
borg init --encryption=repokey >/dev/null 2>&1
measure borg.first "borg first backup" borg create ::first "$tree"
measure borg.rerun "borg no-change re-run" borg create ::rerun "$tree"
before=$(size_of "$work/borg")
cp -a "$tree" "$tree2"
measure borg.tree2 "borg identical 2nd tree" borg create ::tree2 "$tree2"
growth borg "$before" "$(size_of "$work/borg")"
change_one_percent borg
measure borg.change "borg 1% changed incremental" borg create ::changed "$tree"
mkdir -p "$work/borg-restore"; cd "$work/borg-restore"
measure borg.restore "borg full restore (extract ::changed)" borg extract ::changed
cd "$top"
same "$tree" "$work/borg-restore$tree" borg
rm -rf "$work/borg-restore"
store[borg]=$(size_of "$work/borg")
printf 'borg store size: %.1f MB\n' "$(mb "${store[borg]}")"
unset BORG_REPO BORG_PASSPHRASE BORG_BASE_DIR
rm -rf "$work/borg" "$work/borg-home" "$tree" "$tree2" "$pristine"

# Peak RSS of each tool over its comparable steps (backups and restore).
declare -A peak
for t in sbx restic borg; do
  peak[$t]=0
  for s in first rerun tree2 change restore; do
    if [ "${rss[$t.$s]}" -gt "${peak[$t]}" ]; then peak[$t]=${rss[$t.$s]}; fi
  done
done

echo
echo "== summary (seconds; MB; peak RSS in MB)"
printf '%-28s %12s %12s %12s\n' step strongbox restic borg
for s in first:"first backup" rerun:"no-change re-run" tree2:"identical 2nd tree" change:"1% changed incr." restore:"full restore"; do
  printf '%-28s %12.2f %12.2f %12.2f\n' "${s#*:}" "${secs[sbx.${s%%:*}]}" "${secs[restic.${s%%:*}]}" "${secs[borg.${s%%:*}]}"
done
printf '%-28s %12.1f %12.1f %12.1f\n' "store size (MB)" "$(mb "${store[sbx]}")" "$(mb "${store[restic]}")" "$(mb "${store[borg]}")"
printf '%-28s %12.1f %12.1f %12.1f\n' "peak RSS (MB)" "$(echo "${peak[sbx]}/1024" | bc -l)" \
  "$(echo "${peak[restic]}/1024" | bc -l)" "$(echo "${peak[borg]}/1024" | bc -l)"
printf '%-28s %12s %12s %12s\n' "restore identical" "${restore_ok[strongbox]}" "${restore_ok[restic]}" "${restore_ok[borg]}"

echo
echo "== comparison (targets are against restic; the borg verdict is for information)"
printf '%-26s %10s %10s  %-22s %-7s %-7s\n' ratio "vs restic" "vs borg" "target (vs restic)" restic borg
verdict() { [ "$(echo "$1" | bc -l)" = 1 ] && echo PASS || echo MISS; }
row() { # LABEL RATIO_RESTIC RATIO_BORG TARGET_TEXT OP LIMIT
  printf '%-26s %9.2fx %9.2fx  %-22s %-7s %-7s\n' "$1" "$2" "$3" "$4" \
    "$(verdict "$2 $5 $6")" "$(verdict "$3 $5 $6")"
}
row "first backup (their/our s)" "$(echo "${secs[restic.first]}/${secs[sbx.first]}" | bc -l)" \
  "$(echo "${secs[borg.first]}/${secs[sbx.first]}" | bc -l)" ">= 3x faster" ">=" 3
row "no-change (their/our s)" "$(echo "${secs[restic.rerun]}/${secs[sbx.rerun]}" | bc -l)" \
  "$(echo "${secs[borg.rerun]}/${secs[sbx.rerun]}" | bc -l)" ">= 10x faster" ">=" 10
row "restore (their/our s)" "$(echo "${secs[restic.restore]}/${secs[sbx.restore]}" | bc -l)" \
  "$(echo "${secs[borg.restore]}/${secs[sbx.restore]}" | bc -l)" ">= 2x faster" ">=" 2
row "store size (our/their)" "$(echo "${store[sbx]}/${store[restic]}" | bc -l)" \
  "$(echo "${store[sbx]}/${store[borg]}" | bc -l)" "<= 1x (restic's)" "<=" 1
row "peak RSS (our/their)" "$(echo "${peak[sbx]}/${peak[restic]}" | bc -l)" \
  "$(echo "${peak[sbx]}/${peak[borg]}" | bc -l)" "<= 1x (restic's)" "<=" 1
printf '%-26s %10.4f %10s  %-22s %-7s\n' "duplication sent/stored" "$dup_ratio" "-" "within 2% of 1" \
  "$([ "$dup_ok" = 1 ] && echo PASS || echo MISS)"
rm -rf "$work"
