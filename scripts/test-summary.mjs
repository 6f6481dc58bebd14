// Adds up the jest result files in a folder (written with --json --outputFile) and prints one
// closing line, "N passed, M failed[, K skipped]", the plain form CI reads. It goes to both
// streams (jest writes its own summary on stderr, npm and the fault suite's table on stdout), so
// it is the last line whichever of them a reader takes.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
  const r = JSON.parse(readFileSync(join(dir, name), "utf8"));
  passed += r.numPassedTests;
  // A suite that failed to run (a syntax error, a failed beforeAll) counts as one failure.
  failed += r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
const line = `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`;
process.stderr.write(`${line}\n`);
process.stdout.write(`${line}\n`);
