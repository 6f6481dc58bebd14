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

/** One packed message body, its size and the items it carries. */
export interface PackedBody<T> {
  body: string;
  bytes: number;
  items: T[];
}

/**
 * Packs items into as few message bodies `{ ...header, [field]: [items] }` as the limits allow,
 * keeping their order; each item is serialised once and sizes are added up as it goes. An item
 * too large to share a body goes alone, or, with `onTooLarge`, is handed there (with the size of
 * its body alone) and left out. Used for task messages and completions alike. Pure.
 */
export function packJsonArrays<T>(
  header: object,
  field: string,
  items: readonly T[],
  limits: { maxItems: number; maxBytes: number; onTooLarge?: (item: T, bytes: number) => void },
): PackedBody<T>[] {
  const open = JSON.stringify(header).slice(0, -1); // without the closing brace
  const head = `${open}${open === '{' ? '' : ','}${JSON.stringify(field)}:[`;
  const emptyBytes = byteLength(`${head}]}`);
  const packed: PackedBody<T>[] = [];
  let jsons: string[] = [];
  let group: T[] = [];
  let bytes = emptyBytes;
  const close = () => {
    if (group.length === 0) return;
    const body = `${head}${jsons.join(',')}]}`;
    packed.push({ body, bytes: byteLength(body), items: group });
    jsons = [];
    group = [];
    bytes = emptyBytes;
  };
  for (const item of items) {
    const json = JSON.stringify(item);
    const size = byteLength(json);
    if (limits.onTooLarge && emptyBytes + size > limits.maxBytes) {
      limits.onTooLarge(item, emptyBytes + size);
      continue;
    }
    // +1 for the comma before every item but the first.
    if (group.length > 0 && (group.length >= limits.maxItems || bytes + 1 + size > limits.maxBytes)) close();
    bytes += size + (group.length > 0 ? 1 : 0);
    jsons.push(json);
    group.push(item);
  }
  close();
  return packed;
}

const byteLength = (s: string) => Buffer.byteLength(s);
