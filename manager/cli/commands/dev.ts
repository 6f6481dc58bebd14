import { Argument, Command, Option } from 'commander';
import { config } from '../../../common/config';
import { DEV_SERVICES, DevServiceName, ensureStack, formatTable, restartDevService, stackStatus, stopStack, SqsBackend } from '../../devstack';
import { seconds } from '../../devstack/wait';

const progress = (line: string) => process.stderr.write(`… ${line}\n`);

/** `batchgrid dev up|down|status|restart`: the local stack for development, tests and the demo. */
export function register(program: Command): void {
  const dev = program
    .command('dev')
    .description('Run the local stack on 127.0.0.1: Temporal dev server, ElasticMQ (SQS), versitygw (S3), moto (Auto Scaling), Postgres; data kept across restarts');

  dev
    .command('up')
    .description('Install what is missing and start the local stack; reuses whatever already runs')
    .addOption(new Option('--sqs <backend>', 'which local server answers SQS (default: BATCHGRID_SQS_BACKEND, elasticmq)').choices(['elasticmq', 'moto']))
    .action(async (opts: { sqs?: SqsBackend }) => {
      const result = await ensureStack({ sqsBackend: opts.sqs, progress });
      process.stdout.write(`${formatTable(result.services)}\n`);
      process.stdout.write(`SQS for batchgrid: ${result.sqsEndpoint}\n`);
      process.stdout.write(`stack ready in ${seconds(result.elapsedMs)}\n`);
      if (opts.sqs && opts.sqs !== config().BATCHGRID_SQS_BACKEND) {
        process.stdout.write(`note: export BATCHGRID_SQS_BACKEND=${opts.sqs} so batchgrid processes use this SQS\n`);
      }
    });

  dev
    .command('down')
    .description('Stop the servers batchgrid started (Postgres only if dev up started it)')
    .action(async () => {
      process.stdout.write(`${formatTable(await stopStack({ progress }))}\n`);
    });

  dev
    .command('status')
    .description('Show whether each service of the local stack answers')
    .option('--json', 'print JSON: { services: [{ service, state, endpoint, managed, pid?, note?, logFile? }] }')
    .action(async (opts: { json?: boolean }) => {
      const services = await stackStatus();
      process.stdout.write(opts.json ? `${JSON.stringify({ services }, null, 2)}\n` : `${formatTable(services)}\n`);
    });

  dev
    .command('restart')
    .description('Stop one service of the local stack and start it again, keeping its data')
    .addArgument(new Argument('<service>', 'which service').choices([...DEV_SERVICES]))
    .action(async (service: DevServiceName) => {
      process.stdout.write(`${formatTable([await restartDevService(service, { progress })])}\n`);
    });
}
