import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { callCounts, countCall } from '../../common/call-counts';
import { distPath } from '../../common/paths';

describe('call counts', () => {
  test('count by service and operation, sorted', () => {
    countCall('sqs', 'SendMessageBatch');
    countCall('postgres', 'statement');
    countCall('sqs', 'SendMessageBatch');
    const counts = callCounts();
    expect(counts['sqs.SendMessageBatch']).toBe(2);
    expect(counts['postgres.statement']).toBe(1);
    expect(Object.keys(counts)).toEqual([...Object.keys(counts)].sort());
  });

  test('a process given BATCHGRID_CALL_COUNTS_FILE writes its counts there when it exits', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bg-counts-')), 'counts.json');
    // The compiled module (npm test builds before it tests), as the CLI loads it.
    const script = `const c = require(${JSON.stringify(distPath('common/call-counts.js'))}); c.writeCallCountsOnExit(process.env.F); c.countCall('s3', 'GetObject'); process.exit(0);`;
    execFileSync(process.execPath, ['-e', script], { env: { ...process.env, F: file } });
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, number>;
    expect(written['s3.GetObject']).toBe(1);
    // With its own memory peaks, in MiB: a resident set of a live Node process, a heap within it.
    expect(Object.keys(written).filter((k) => k.startsWith('memory.')).sort()).toEqual(['memory.arrayBuffersMiB', 'memory.externalMiB', 'memory.heapTotalMiB', 'memory.heapUsedMiB', 'memory.rssMiB']);
    expect(written['memory.rssMiB']).toBeGreaterThan(10);
    expect(written['memory.heapUsedMiB']).toBeLessThanOrEqual(written['memory.heapTotalMiB']);
    expect(written['memory.heapTotalMiB']).toBeLessThan(written['memory.rssMiB']);
  });
});
