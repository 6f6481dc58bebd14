import fs from 'node:fs';
import path from 'node:path';

/**
 * The IAM policies of docs/deploy/ must allow every AWS call each process's code makes: a new
 * call without its permission would fail only in production. Calls are found in the imports of
 * the AWS SDK clients in each process's source folders.
 */
const root = path.join(__dirname, '../..');

interface Policy {
  Version: string;
  Statement: { Sid: string; Effect: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown }[];
}

const load = (name: string): Policy => JSON.parse(fs.readFileSync(path.join(root, 'docs/deploy', name), 'utf8'));
const actionsOf = (p: Policy) => new Set(p.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])));

const SERVICE: Record<string, string> = { 'client-sqs': 'sqs', 'client-s3': 's3', 'client-auto-scaling': 'autoscaling' };
/** Calls whose IAM action has another name. */
const ACTION: Record<string, string> = {
  's3:HeadObject': 's3:GetObject',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:DeleteObjects': 's3:DeleteObject',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

function files(rel: string): string[] {
  const full = path.join(root, rel);
  if (!fs.existsSync(full)) return [];
  if (fs.statSync(full).isFile()) return [full];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => files(path.join(rel, e.name))).filter((f) => f.endsWith('.ts'));
}

/** IAM actions of the AWS calls in these sources. */
function callsIn(sources: string[]): Set<string> {
  const actions = new Set<string>();
  for (const file of sources.flatMap(files)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-sqs|client-s3|client-auto-scaling|lib-storage)'/g)) {
      if (m[2] === 'lib-storage') {
        if (/\bUpload\b/.test(m[1])) ['s3:PutObject', 's3:AbortMultipartUpload'].forEach((a) => actions.add(a));
        continue;
      }
      for (const name of m[1].split(',').map((s) => s.trim().replace(/^type\s+/, ''))) {
        const call = /^(?:paginate)?([A-Z]\w*?)(?:Command)?$/.exec(name)?.[1];
        if (!call || !(name.endsWith('Command') || name.startsWith('paginate'))) continue;
        const action = `${SERVICE[m[2]]}:${call}`;
        actions.add(ACTION[action] ?? action);
      }
    }
  }
  return actions;
}

describe('IAM policies in docs/deploy', () => {
  test.each(['iam-fleet-worker.json', 'iam-orchestrator.json', 'iam-manager.json'])('%s is a well-formed policy', (name) => {
    const p = load(name);
    expect(p.Version).toBe('2012-10-17');
    const sids = p.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    for (const s of p.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const r of [s.Resource].flat()) expect(r).toMatch(/^(\*|arn:aws:(sqs|s3|autoscaling):)/);
      // Nothing broader than the service needs: no service-wide wildcards.
      for (const a of [s.Action].flat()) expect(a).toMatch(/^(sqs|s3|autoscaling):[A-Z][A-Za-z]+$/);
    }
  });

  test('the fleet worker may make every call of worker/ and nothing of the database or Temporal', () => {
    const needed = callsIn(['worker']);
    // The fleet ensures its queues (and re-creates a lost completion queue) with common/sqs/queues.ts; it never deletes one.
    ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'].forEach((a) => needed.add(a));
    expect([...needed].sort()).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:CreateQueue']));
    const allowed = actionsOf(load('iam-fleet-worker.json'));
    expect([...needed].filter((a) => !allowed.has(a))).toEqual([]);
    expect([...allowed].filter((a) => /DeleteQueue|SetDesiredCapacity|PurgeQueue/.test(a))).toEqual([]);
  });

  test('the orchestrator may make every call of activities/, grid/ and the fleet queues it ensures', () => {
    const needed = callsIn(['activities', 'grid', 'common/s3-io.ts', 'common/sqs/queues.ts']);
    expect(needed.has('sqs:DeleteQueue')).toBe(true);
    const allowed = actionsOf(load('iam-orchestrator.json'));
    expect([...needed].filter((a) => !allowed.has(a))).toEqual([]);
  });

  test('the manager may make every call of its client and resize a fleet by hand', () => {
    const needed = callsIn(['manager/client', 'manager/launch.ts']);
    ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:SetDesiredCapacity'].forEach((a) => needed.add(a));
    const allowed = actionsOf(load('iam-manager.json'));
    expect([...needed].filter((a) => !allowed.has(a))).toEqual([]);
    expect([...allowed].filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  test('the fleet may write only part outputs, and send only to its own queues and completion queues', () => {
    const p = load('iam-fleet-worker.json');
    const writes = p.Statement.filter((s) => [s.Action].flat().includes('s3:PutObject')).flatMap((s) => [s.Resource].flat());
    expect(writes).toEqual(['arn:aws:s3:::BUCKET/jobs/*/stages/*/parts/*']);
    const sends = p.Statement.filter((s) => [s.Action].flat().includes('sqs:SendMessage')).flatMap((s) => [s.Resource].flat());
    expect(sends.map((r) => r.split(':').pop()).sort()).toEqual(['bg-done-*', 'bg-fleet-default-dlq', 'bg-fleet-default-events']);
  });
});
