import type { PartStatus } from '../../common/status';
import type { PartRow } from '../../store/parts';
import { InvalidOptionError } from './errors';

/** Where a page of jobs ends: the last job's creation time and id (jobs are listed newest first). */
export interface JobCursor {
  createdAt: Date;
  jobId: string;
}

/** An opaque cursor string for `list()`. */
export function encodeCursor(c: JobCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.getTime(), c.jobId])).toString('base64url');
}

/** Reads a cursor made by `encodeCursor`; anything else is an InvalidOptionError. */
export function decodeCursor(text: string): JobCursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      return { createdAt: new Date(value[0] as number), jobId: value[1] };
    }
  } catch {
    // fall through
  }
  throw new InvalidOptionError(`cursor ${JSON.stringify(text)} is not one returned by list(): pass nextCursor as it came`);
}

export interface PartsOptions {
  stageId?: string;
  status?: PartStatus[];
  /** Page size, 1–1000. Default: 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface PartPage {
  parts: PartRow[];
  /** Present when there may be more parts: pass it as `cursor`. */
  nextCursor?: string;
}

/** An opaque cursor string for `parts()`: the last part of a page. */
export function encodePartCursor(p: { stageId: string; part: number }): string {
  return Buffer.from(JSON.stringify([p.stageId, p.part])).toString('base64url');
}

/** Reads a cursor made by `encodePartCursor`; anything else is an InvalidOptionError. */
export function decodePartCursor(text: string): { stageId: string; part: number } {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isInteger(value[1])) return { stageId: value[0], part: value[1] as number };
  } catch {
    // fall through
  }
  throw new InvalidOptionError(`cursor ${JSON.stringify(text)} is not one returned by parts(): pass nextCursor as it came`);
}
