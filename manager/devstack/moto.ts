import type { Config } from '../../common/config';
import type { ManagedService } from './services';
import { pipInstall, venvBin } from './venv';
import { MOTO_REQUIREMENT } from './versions';
import { httpAnswers } from './wait';

/** The moto server: Auto Scaling (and S3 or SQS when chosen as their backend) over the AWS wire protocol, in memory. */
export function motoService(cfg: Config): ManagedService {
  const port = cfg.BATCHGRID_MOTO_PORT;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    name: 'moto',
    port,
    endpoint,
    note: 'Auto Scaling; S3, SQS in memory',
    processMarker: 'moto_server',
    startTimeoutMs: 60_000,
    hint: 'Free the port, or choose another with BATCHGRID_MOTO_PORT.',
    install: (ctx) => pipInstall(ctx, MOTO_REQUIREMENT, 'moto'),
    command: async (ctx) => ({ file: venvBin(ctx, 'moto_server'), args: ['-H', '127.0.0.1', '-p', String(port)] }),
    probe: () => httpAnswers(`${endpoint}/moto-api/`),
  };
}
