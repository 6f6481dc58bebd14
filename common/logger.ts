import pino from 'pino';
import { config } from './config';

/** The one structured logger; put ids in fields (`log.info({ jobId }, 'job started')`), not in the message. */
export function createLogger(name: string, level: string = config().LOG_LEVEL): pino.Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

export type Logger = pino.Logger;
