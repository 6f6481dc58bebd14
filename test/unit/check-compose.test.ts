import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { checkCompose, configVariables, interpolate } from '../../scripts/check-compose';

const root = path.join(__dirname, '../..');
const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');

/** The real compose file, resolved (anchors merged), changed by `edit`, checked. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a free-form YAML document, edited in place
type ComposeDoc = { services: Record<string, Record<string, any>> };

function checkEdited(edit: (doc: ComposeDoc) => void) {
  const doc = YAML.parseDocument(text, { merge: true }).toJS();
  edit(doc);
  return checkCompose(YAML.stringify(doc), { baseDir: root }).map((p) => `${p.path}: ${p.message}`);
}

describe('docker-compose.yml', () => {
  test('is valid', () => {
    expect(checkCompose(text, { baseDir: root })).toEqual([]);
  });

  test('brings up the whole stack, each batchgrid role from the same image', () => {
    const doc = YAML.parseDocument(text, { merge: true }).toJS();
    const s = doc.services;
    expect(Object.keys(s).sort()).toEqual(['api', 'bucket', 'elasticmq', 'fleet', 'migrate', 'moto', 'orchestrator', 'postgres', 'search-attributes', 'temporal', 'temporal-ui'].sort());
    expect(s.temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(s['search-attributes'].image).toMatch(/^temporalio\/admin-tools:/);
    expect(s.moto.image).toMatch(/^motoserver\/moto:/);
    expect(s.elasticmq.image).toMatch(/^softwaremill\/elasticmq-native:/);
    expect([s.migrate.command, s.orchestrator.command[0], s.api.command, s.fleet.command.slice(0, 3)]).toEqual([['db', 'migrate'], 'orchestrator', ['serve'], ['fleet-worker', '--fleet', 'default']]);
    expect(s.fleet.deploy.replicas).toBe(2);
    // Fleet workers only reach S3 and SQS (design principle 4).
    expect(Object.keys(s.fleet.environment).filter((k) => /DATABASE|TEMPORAL/.test(k))).toEqual([]);
    // The orchestrator reads the workflow bundle the Dockerfile writes.
    const bundle = s.orchestrator.command[s.orchestrator.command.indexOf('--bundle') + 1];
    expect(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')).toContain(`--write-bundle ${bundle}`);
  });

  test('a reference to a missing service, or a wait on a service without healthcheck, is refused', () => {
    expect(
      checkEdited((d) => {
        d.services.orchestrator.depends_on.nope = { condition: 'service_healthy' };
        delete d.services.temporal.healthcheck;
        d.services.fleet.depends_on.bucket.condition = 'service_done';
      }),
    ).toEqual(
      expect.arrayContaining([
        'services.orchestrator.depends_on.nope: no service named nope',
        'services.orchestrator.depends_on.temporal: waits for temporal to be healthy, but temporal has no healthcheck',
        'services.fleet.depends_on.bucket: condition must be one of service_started, service_healthy, service_completed_successfully',
      ]),
    );
  });

  test('a one-shot that restarts, a cycle, an unpinned image and a clash of host ports are refused', () => {
    const problems = checkEdited((d) => {
      d.services.migrate.restart = 'on-failure';
      d.services.postgres.depends_on = { orchestrator: { condition: 'service_started' } };
      d.services.moto.image = 'motoserver/moto';
      d.services['temporal-ui'].ports = ['8080:8080'];
      d.services.fleet.container_name = 'fleet';
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^services\.orchestrator\.depends_on\.migrate: waits for migrate to complete, but migrate restarts/),
        expect.stringMatching(/dependency cycle: .*postgres -> orchestrator -> .*postgres/),
        'services.moto.image: pin a version tag (got motoserver/moto)',
        expect.stringMatching(/host port 8080 is also published by/),
        'services.fleet.container_name: cannot be set on a service with several replicas',
      ]),
    );
  });

  test('batchgrid services get only variables batchgrid reads, with values it accepts', () => {
    expect(configVariables()).toEqual(expect.arrayContaining(['TEMPORAL_ADDRESS', 'DATABASE_URL', 'BATCHGRID_BUCKET', 'AWS_ENDPOINT_URL_SQS']));
    const problems = checkEdited((d) => {
      d.services.orchestrator.environment.TEMPORAL_HOST = 'temporal';
      d.services.fleet.environment.LOG_LEVEL = 'loud';
      d.services.api.environment.BATCHGRID_API_TOKEN = 'short';
    });
    expect(problems).toEqual([
      'services.orchestrator.environment.TEMPORAL_HOST: batchgrid does not read this variable (see common/config.ts)',
      expect.stringMatching(/^services\.api\.environment: Bad configuration: BATCHGRID_API_TOKEN: /),
      expect.stringMatching(/^services\.fleet\.environment: Bad configuration: LOG_LEVEL: /),
    ]);
  });

  test('every search attribute of common/search-attributes.ts must be registered', () => {
    const problems = checkCompose(text.replace('BatchgridStages=KeywordList', 'BatchgridStages=Keyword'), { baseDir: root });
    expect(problems).toEqual([{ path: 'services', message: 'no service registers the search attribute BatchgridStages (type KeywordList) of common/search-attributes.ts' }]);
  });

  test('bind mounts must exist and named volumes be declared', () => {
    expect(
      checkEdited((d) => {
        d.services.elasticmq.volumes = ['./docs/deploy/missing.conf:/opt/elasticmq.conf:ro'];
        d.services.postgres.volumes = ['pg-undeclared:/var/lib/postgresql/data'];
      }),
    ).toEqual([
      'services.postgres.volumes: named volume pg-undeclared is not declared under the top-level volumes',
      'services.elasticmq.volumes: bind mount source ./docs/deploy/missing.conf does not exist',
    ]);
  });

  test('YAML errors and a file without services are reported, not thrown', () => {
    expect(checkCompose('services: [')[0].message).toMatch(/^YAML: /);
    expect(checkCompose('x: 1')).toEqual([{ path: 'services', message: 'must be a map of at least one service' }]);
  });

  test('interpolation follows Compose', () => {
    expect(interpolate('${A:-x}-${B-y}-${C}-$D-$$E', { B: '', D: 'd' })).toBe('x--' + '-d-$E');
  });
});
