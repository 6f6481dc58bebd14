import type { Command } from 'commander';
import * as cache from './cache';
import * as db from './db';
import * as dev from './dev';
import * as fleetWorker from './fleet-worker';
import * as grid from './grid';
import * as jobControl from './job-control';
import * as jobs from './jobs';
import * as orchestrator from './orchestrator';
import * as part from './part';
import * as report from './report';
import * as results from './results';
import * as retry from './retry';
import * as schedule from './schedule';
import * as serve from './serve';
import * as status from './status';
import * as submit from './submit';
import * as tune from './tune';
import * as validate from './validate';
import * as watch from './watch';
import * as workers from './workers';

/** Each command module exports `register(program)`; add one line here per module. */
export function registerCommands(program: Command): void {
  cache.register(program);
  db.register(program);
  dev.register(program);
  fleetWorker.register(program);
  grid.register(program);
  jobControl.register(program);
  jobs.register(program);
  orchestrator.register(program);
  part.register(program);
  report.register(program);
  results.register(program);
  retry.register(program);
  schedule.register(program);
  serve.register(program);
  status.register(program);
  submit.register(program);
  tune.register(program);
  validate.register(program);
  watch.register(program);
  workers.register(program);
}
