/** SendMessageBatch limits: 10 entries whose bodies add up to at most 256 KiB. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;

/** Splits message sizes (bytes) into SendMessageBatch calls: lists of indexes, in order. */
export function packBatches(sizes: readonly number[], limits: { maxEntries?: number; maxBytes?: number } = {}): number[][] {
  const maxEntries = limits.maxEntries ?? MAX_BATCH_ENTRIES;
  const maxBytes = limits.maxBytes ?? MAX_BATCH_BYTES;
  const batches: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  sizes.forEach((size, i) => {
    if (batch.length > 0 && (batch.length >= maxEntries || bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(i);
    bytes += size;
  });
  if (batch.length > 0) batches.push(batch);
  return batches;
}
