/** The Postgres analytics store: pool, migrations and typed queries. */
export * from './db';
export * from './migrate';
export * from './jobs';
export * from './stage-runs';
export * from './workers';
export * from './scaling';
export * from './progress';
export * from './task-runs';
export * from './parts';
export * from './aggregates';
export * from './compaction';
