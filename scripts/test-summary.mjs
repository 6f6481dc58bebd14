// Adds up the jest result files in a folder (written with --json --outputFile) and prints one
// closing line, "tests: N passed, M failed[, K skipped]", the plain form CI reads.
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
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
