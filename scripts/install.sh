# Sourced by test.sh, demo.sh and bench.sh from the project root, under `npm run`: installs the
# dependencies when the lockfile has changed, then checks that `node` is now the project's own
# Node.js LTS (node_modules/.bin/node, first on npm's PATH) and not the machine's older one. The
# first `npm ci` may run on an old system Node; everything after it runs on the LTS.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci
fi
node -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    console.error(`batchgrid needs Node.js 22.12 or later (package.json engines), but "node" here is ${process.version} at ${process.execPath}.`);
    console.error("npm ci installs Node.js 24 into node_modules/.bin on Linux x64 and arm64; elsewhere, install Node.js 24 LTS.");
    process.exit(1);
  }'
