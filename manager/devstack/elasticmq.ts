import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../common/config';
import { DevStackError } from './errors';
import { logFileOf } from './layout';
import { aptInstall, canAptInstall, runLogged, which } from './run-command';
import type { ManagedService, StackContext } from './services';
import { ELASTICMQ_VERSION } from './versions';

// No xmlns: Maven reads a plain <project>, and the file stays free of any host name.
const POM = `<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.batchgrid</groupId>
  <artifactId>batchgrid-elasticmq</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>${ELASTICMQ_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

// node-address is what queue URLs carry; 127.0.0.1, not localhost, so clients never try ::1 where nothing listens.
// messages-storage keeps every queue (with its attributes) and every message (with its next
// delivery time, so an in-flight one reappears when its visibility timeout ends) in an H2 file
// database, restored at start. It supersedes queues-storage (ElasticMQ uses one or the other),
// so that stays off. The H2 driver comes with elasticmq-persistence-sql, a dependency of the server.
const serverConf = (port: number, dbFile: string) => `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
queues-storage { enabled = false }
messages-storage { enabled = true, uri = ${JSON.stringify(`jdbc:h2:${dbFile}`)} }
`;

/** Fetches ElasticMQ's jars with Maven into `$BATCHGRID_HOME/elasticmq/lib`; installs Maven (and a JRE) with apt-get if missing. */
async function installElasticmq(ctx: StackContext): Promise<void> {
  const dir = ctx.layout.elasticmq;
  const done = path.join(dir, 'lib', `.complete-${ELASTICMQ_VERSION}`);
  if (fs.existsSync(done)) return;
  const logFile = logFileOf(ctx.layout, 'elasticmq-install');
  if (!which('mvn') || !which('java')) {
    if (!canAptInstall()) throw new DevStackError('elasticmq', 'Maven and a Java runtime are needed to install ElasticMQ', 'Install maven and a JRE 17+ and retry.', logFile);
    ctx.progress('installing maven and a Java runtime with apt-get');
    await aptInstall(['maven', 'default-jre-headless'], logFile);
  }
  ctx.progress(`installing ElasticMQ ${ELASTICMQ_VERSION} into ${path.join(dir, 'lib')} with mvn`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), POM);
  fs.rmSync(path.join(dir, 'lib'), { recursive: true, force: true });
  await runLogged('mvn', ['-q', '-B', '-f', 'pom.xml', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'], { cwd: dir, logFile });
  fs.writeFileSync(done, '');
}

/** True when an SQS ListQueues call answers at endpoint. */
export async function sqsAnswers(endpoint: string, region: string): Promise<boolean> {
  const sqs = new SQSClient({ endpoint, region, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    await sqs.send(new ListQueuesCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  } finally {
    sqs.destroy();
  }
}

/** ElasticMQ: an SQS much faster than moto's, for the queues of jobs and the fleet; keeps queues and messages on disk. */
export function elasticmqService(cfg: Config): ManagedService {
  const port = cfg.BATCHGRID_ELASTICMQ_PORT;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    name: 'elasticmq',
    port,
    endpoint,
    note: 'SQS (on disk)',
    processMarker: 'org.elasticmq.server.Main',
    startTimeoutMs: 60_000,
    hint: 'Free the port, or choose another with BATCHGRID_ELASTICMQ_PORT (or use --sqs moto).',
    install: (ctx) => ctx.once('elasticmq-install', () => installElasticmq(ctx)),
    async command(ctx) {
      const dir = ctx.layout.elasticmq;
      const conf = path.join(dir, 'elasticmq.conf');
      fs.writeFileSync(conf, serverConf(port, ctx.layout.elasticmqDb));
      return {
        file: which('java') ?? 'java',
        args: ['-Xmx512m', `-Dconfig.file=${conf}`, '-cp', path.join(dir, 'lib', '*'), 'org.elasticmq.server.Main'],
        cwd: dir,
      };
    },
    probe: () => sqsAnswers(endpoint, cfg.AWS_REGION),
  };
}
