import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { FleetValidationError } from '../../../grid/errors';
import { compileFleet } from '../../../grid/fleet-def';
import type { FleetStatus } from '../../../grid/service';
import type { BatchGridClient } from '../../client';
import { formatElapsed, formatTable } from '../render/format';
import { processIo, runAction, runWithClient } from '../render/io';

const out = (text: string) => void process.stdout.write(text);

/** Runs `fn` with a client, closed after; an error is printed as every client command prints it, and sets the exit code. */
async function withGrid(fn: (client: BatchGridClient) => Promise<void>): Promise<void> {
  process.exitCode = await runWithClient(processIo, fn);
}

const count = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number >= 0.');
  return n;
};

/** The `grid status` table: one line per fleet, then its latest decisions. */
export function renderStatus(fleets: FleetStatus[], now = Date.now()): string {
  if (fleets.length === 0) return 'no fleets yet: start one with `batchgrid grid start FLEET_FILE`\n';
  const rows = fleets.map((f) => [
    f.fleet,
    f.provider,
    f.autoscaler,
    `${f.desired}/${f.actual ?? '-'}`,
    `${f.min}..${f.max}`,
    f.visible === null ? '-' : `${f.visible}+${f.inFlight ?? 0}`,
    String(f.workersUp),
    f.observedAt ? `${formatElapsed(now - f.observedAt.getTime())} ago` : '-',
  ]);
  let text = `${formatTable(['FLEET', 'PROVIDER', 'AUTOSCALER', 'DESIRED/ACTUAL', 'MIN..MAX', 'BACKLOG (QUEUED+IN FLIGHT)', 'WORKERS UP', 'OBSERVED'], rows)}\n`;
  for (const f of fleets.filter((x) => x.decisions.length > 0)) {
    text += `\n${f.fleet}: latest decisions\n`;
    for (const d of f.decisions) {
      text += `  ${d.at.toISOString().slice(11, 19)}  ${d.previous} -> ${d.desired}  backlog ${d.visible}+${d.inFlight}, ${d.workers} up  ${d.reason}\n`;
    }
  }
  return text;
}

/** `batchgrid grid status|scale|start|stop`: the fleets and their autoscalers. */
export function register(program: Command): void {
  const grid = program.command('grid').description('fleets and their autoscalers (see examples/fleets/)');

  grid
    .command('status')
    .description('per fleet: provider, desired/actual workers, bounds, backlog, autoscaler, latest decisions')
    .option('--fleet <name>', 'only this fleet')
    .option('--decisions <n>', 'latest decisions to show per fleet (default: 5)', count)
    .option('--json', 'print as JSON')
    .action((o: { fleet?: string; decisions?: number; json?: boolean }) =>
      withGrid(async (client) => {
        const fleets = await client.gridStatus({ fleet: o.fleet, decisions: o.decisions });
        out(o.json ? `${JSON.stringify(fleets, null, 2)}\n` : renderStatus(fleets));
      }),
    );

  grid
    .command('scale')
    .description('set a fleet\'s desired workers by hand (clamped to min..max, recorded as a manual decision); the autoscaler carries on from there')
    .argument('<fleet>', 'fleet name')
    .argument('<n>', 'desired workers', count)
    .option('--json', 'print the decision as JSON')
    .action((fleet: string, n: number, o: { json?: boolean }) =>
      withGrid(async (client) => {
        const r = await client.scaleFleet(fleet, n);
        out(o.json ? `${JSON.stringify(r, null, 2)}\n` : `${fleet}: ${r.previous} -> ${r.desired} (${r.reason}; via ${r.via})\n`);
      }),
    );

  grid
    .command('start')
    .description('start the autoscaler of the fleet a definition describes (or hand a running one the new definition)')
    .argument('<file>', 'fleet definition (.yaml, .yml or .json)')
    .action((file: string) =>
      runAction(
        async () => {
          const text = await readFile(file, 'utf8');
          const ext = extname(file).toLowerCase();
          const result = compileFleet(text, ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined);
          if (!result.ok) throw new FleetValidationError(result.problems); // printed one problem per line
          const fleet = result.fleet;
          await withGrid(async (client) => {
            const r = await client.startAutoscaler(fleet);
            out(`${fleet.name}: ${r.started ? 'autoscaler started' : 'autoscaler running; definition updated'} (workflow ${r.workflowId}, ${fleet.provider.type}, ${fleet.min}..${fleet.max} workers)\n`);
          });
        },
        { file },
      ),
    );

  grid
    .command('stop')
    .description('stop a fleet\'s autoscaler; a local fleet\'s workers stop with it, an ASG keeps its size unless --scale-to-zero')
    .argument('<fleet>', 'fleet name')
    .option('--scale-to-zero', 'also bring an ASG fleet to its minimum size')
    .option('--no-wait', 'return once asked, without waiting for the autoscaler to end')
    .action((fleet: string, o: { scaleToZero?: boolean; wait: boolean }) =>
      withGrid(async (client) => {
        const r = await client.stopAutoscaler(fleet, { scaleToZero: o.scaleToZero, wait: o.wait });
        out(r.stopped ? `${fleet}: autoscaler stopped\n` : `${fleet}: no autoscaler running\n`);
      }),
    );
}
