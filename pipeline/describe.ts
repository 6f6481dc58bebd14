import { finalStages, topologicalOrder } from './dag';
import type { PipelineDef, SplitSpec, StageDef, Tolerance } from './types';
import { formatDuration, formatSize } from './units';

/** `lines 5000 per part`, `bytes 64MiB per part`, `one part per object`, `manifest "manifest.jsonl"`. */
export function describeSplit(split: SplitSpec): string {
  switch (split.by) {
    case 'object':
      return 'one part per object';
    case 'lines':
      return `${split.size} lines per part`;
    case 'bytes':
      return `${formatSize(split.size)} per part`;
    case 'manifest':
      return `one part per line of ${split.key}`;
  }
}

function describeTolerance(tolerate: Tolerance): string {
  if (tolerate.failedPercent !== undefined) return `${tolerate.failedPercent}% failed parts`;
  return `${tolerate.failedParts ?? 0} failed part${tolerate.failedParts === 1 ? '' : 's'}`;
}

function describeInput(stage: StageDef, pipeline: PipelineDef): string {
  if (stage.needs.length === 0) return `reads the job input, ${describeSplit(stage.split ?? pipeline.input.split)}`;
  const upstream = stage.needs.join(', ');
  if (stage.gather) return `gathers all outputs of ${upstream} into one part`;
  if (stage.chain === 'stream') return `streams from ${upstream} (a part per upstream part, as each succeeds)`;
  if (stage.needs.length > 1) return `after ${upstream}, joining their outputs by part number`;
  return `after ${upstream} (a part per upstream part)`;
}

function edgeMode(stage: StageDef): string {
  return stage.gather ? 'gather' : stage.chain;
}

/** A human summary: the pipeline's settings, its stages in topological order with task, input, mode, timeout, retry, tolerance, and its edges. */
export function describePipeline(def: PipelineDef): string {
  const ordered = topologicalOrder(def);
  const lines = [
    `pipeline ${def.name} (${def.apiVersion}): ${def.stages.length} stage${def.stages.length === 1 ? '' : 's'}, fleet ${def.fleet}, concurrency ${def.concurrency}`,
  ];
  if (def.description !== undefined && def.description.trim() !== '') lines.push(`  ${def.description.trim()}`);
  lines.push(`input: ${describeSplit(def.input.split)}`, 'stages, in topological order:');
  const width = Math.max(...ordered.map((stage) => stage.id.length));
  ordered.forEach((stage, i) => {
    const number = `${i + 1}.`.padEnd(String(ordered.length).length + 2);
    const indent = ' '.repeat(2 + number.length + width + 2);
    lines.push(`  ${number}${stage.id.padEnd(width)}  task ${stage.task}: ${describeInput(stage, def)}`);
    lines.push(
      `${indent}timeout ${formatDuration(stage.timeoutMs)}, ${stage.retry.attempts} attempt${stage.retry.attempts === 1 ? '' : 's'} ` +
        `(backoff ${formatDuration(stage.retry.backoffMs)} doubling to ${formatDuration(stage.retry.maxBackoffMs)}), ` +
        `tolerates ${describeTolerance(stage.tolerate)}`,
    );
  });
  const edges = ordered.flatMap((stage) => stage.needs.map((need) => `  ${need} -> ${stage.id} [${edgeMode(stage)}]`));
  lines.push(edges.length === 0 ? 'edges: none' : 'edges:', ...edges);
  lines.push(`final: ${finalStages(def).map((stage) => stage.id).join(', ')}`);
  return lines.join('\n');
}
