#!/usr/bin/env bash
# What installing next-cacheback adds to a fresh Next.js app's node_modules.
#
#   npm run build && npm pack --pack-destination /tmp     (makes next-cacheback-<version>.tgz)
#   scripts/install-size.sh /tmp/next-cacheback-0.1.0.tgz
#
# Makes two fresh apps in a temporary directory (npm init -y):
#   without: npm install @upstash/redis @upstash/qstash next react react-dom
#   with:    npm install <tarball> and the same five packages, pinned to the versions "without" resolved
# then prints du -sh of both node_modules, du -sh of with/node_modules/ioredis, and the packages present
# only in "with" (by install path and version, from each package-lock.json), with their sizes.
#
# Environment: PEERS (default "@upstash/redis @upstash/qstash next react react-dom"); KEEP=1 keeps the
# directory; NPM_FLAGS (default "--prefer-offline --no-audit --no-fund --loglevel=error").
set -euo pipefail

if [[ $# -ne 1 || ! -f "$1" ]]; then
  echo "usage: scripts/install-size.sh <next-cacheback tarball from npm pack>" >&2
  exit 2
fi
tarball="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
peers=(${PEERS:-@upstash/redis @upstash/qstash next react react-dom})
flags=(${NPM_FLAGS:---prefer-offline --no-audit --no-fund --loglevel=error})

work="$(mktemp -d "${TMPDIR:-/tmp}/next-cacheback-install-size.XXXXXX")"
if [[ "${KEEP:-}" == "1" ]]; then
  echo "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

mkdir "$work/without" "$work/with"
echo "== without next-cacheback: npm install ${flags[*]} ${peers[*]}"
(cd "$work/without" && npm init -y >/dev/null && npm install "${flags[@]}" "${peers[@]}" >/dev/null)

# The same versions in both apps, so the difference is next-cacheback's alone.
pinned=()
for p in "${peers[@]}"; do
  v="$(cd "$work/without" && node -p "require('./node_modules/$p/package.json').version")"
  pinned+=("$p@$v")
done
echo "== with next-cacheback:    npm install ${flags[*]} $(basename "$tarball") ${pinned[*]}"
(cd "$work/with" && npm init -y >/dev/null && npm install "${flags[@]}" "$tarball" "${pinned[@]}" >/dev/null)

echo
echo "versions: ${pinned[*]}; next-cacheback $(node -p "require('$work/with/node_modules/next-cacheback/package.json').version")"
echo
echo "du -sh (disk usage) and du -sb (apparent bytes):"
for d in without/node_modules with/node_modules with/node_modules/ioredis with/node_modules/next-cacheback; do
  if [[ -e "$work/$d" ]]; then
    printf "  %-32s %8s  %12s bytes\n" "$d" "$(du -sh "$work/$d" | cut -f1)" "$(du -sb "$work/$d" | cut -f1)"
  else
    printf "  %-32s (absent)\n" "$d"
  fi
done

echo
WORK="$work" node --input-type=module <<'EOF'
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const work = process.env.WORK;
const packagesOf = (app) => {
  const lock = JSON.parse(readFileSync(join(work, app, "package-lock.json"), "utf8"));
  const out = new Map();
  for (const [path, info] of Object.entries(lock.packages)) {
    if (!path) continue;
    const name = info.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    out.set(path, { name, version: info.version ?? "(link)", dev: Boolean(info.dev), optional: Boolean(info.optional) });
  }
  return out;
};
const without = packagesOf("without");
const withIt = packagesOf("with");
const only = [...withIt].filter(([path, p]) => without.get(path)?.version !== p.version);
const gone = [...without].filter(([path, p]) => withIt.get(path)?.version !== p.version);
const size = (path) => {
  const [bytes] = execFileSync("du", ["-sb", join(work, "with", path)], { encoding: "utf8" }).split("\t");
  const [disk] = execFileSync("du", ["-sk", join(work, "with", path)], { encoding: "utf8" }).split("\t");
  return { bytes: Number(bytes), diskKiB: Number(disk) };
};
// Sizes of nested packages are counted in their parent's directory too: sum top-level paths only.
const rows = only.map(([path, p]) => ({ path, ...p, ...size(path) }));
const isNested = (path) => rows.some((r) => r.path !== path && path.startsWith(`${r.path}/`));
const total = rows.filter((r) => !isNested(r.path)).reduce((n, r) => ({ bytes: n.bytes + r.bytes, diskKiB: n.diskKiB + r.diskKiB }), { bytes: 0, diskKiB: 0 });
console.log(`packages present only because of next-cacheback: ${rows.length} (${withIt.size} in "with", ${without.size} in "without"); bytes = du -sb, disk = du -sk`);
// A package's own size leaves out the packages nested in its node_modules (listed on their own rows).
for (const r of rows) {
  const nested = rows.filter((x) => x.path.startsWith(`${r.path}/node_modules/`) && !x.path.slice(r.path.length + 14).includes("/node_modules/"));
  r.ownBytes = r.bytes - nested.reduce((n, x) => n + x.bytes, 0);
  r.ownDiskKiB = r.diskKiB - nested.reduce((n, x) => n + x.diskKiB, 0);
}
for (const r of rows.sort((a, b) => b.ownBytes - a.ownBytes)) {
  console.log(
    `  ${String(r.ownBytes).padStart(10)} bytes  ${String(r.ownDiskKiB).padStart(6)} KiB on disk  ${r.name}@${r.version}` +
      `${r.path !== `node_modules/${r.name}` ? `  (${r.path})` : ""}${r.ownBytes !== r.bytes ? "  (without its nested node_modules)" : ""}${r.optional ? "  [optional]" : ""}`,
  );
}
console.log(`  ${String(total.bytes).padStart(10)} bytes  ${String(total.diskKiB).padStart(6)} KiB on disk  in all`);
if (gone.length > 0) {
  console.log(`packages of "without" not in "with" at the same path and version: ${gone.map(([path, p]) => `${p.name}@${p.version} (${path})`).join(", ")}`);
}
EOF
