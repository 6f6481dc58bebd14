import { loadConfig } from '../../common/config';
import { goMinor } from '../../manager/devstack/versitygw';

/** Which local server each AWS client talks to: the on-disk S3 server unless told otherwise. */
describe('local S3 endpoint', () => {
  const env = { BATCHGRID_HOME: '/tmp/x' };

  test('defaults to the on-disk S3 server on BATCHGRID_S3_PORT; Auto Scaling stays on moto', () => {
    const cfg = loadConfig({ ...env, BATCHGRID_S3_PORT: '19000', BATCHGRID_MOTO_PORT: '15000' });
    expect(cfg.endpoints).toMatchObject({ s3: 'http://127.0.0.1:19000', autoScaling: 'http://127.0.0.1:15000' });
    expect(cfg.localAws).toBe(true);
  });

  test('BATCHGRID_S3_BACKEND=moto puts S3 back on moto', () => {
    expect(loadConfig({ ...env, BATCHGRID_S3_BACKEND: 'moto' }).endpoints.s3).toBe('http://127.0.0.1:5000');
  });

  test('AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, win over the local default; BATCHGRID_REAL_AWS leaves it to the SDK', () => {
    expect(loadConfig({ ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:2' }).endpoints.s3).toBe('http://127.0.0.1:2');
    expect(loadConfig({ ...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }).endpoints.s3).toBe('http://127.0.0.1:1');
    expect(loadConfig({ ...env, BATCHGRID_REAL_AWS: '1' }).endpoints.s3).toBeUndefined();
  });

  test('a bad BATCHGRID_S3_BACKEND is named', () => {
    expect(() => loadConfig({ ...env, BATCHGRID_S3_BACKEND: 'minio' })).toThrow(/BATCHGRID_S3_BACKEND/);
  });
});

describe('goMinor', () => {
  test.each([
    ['go1.26.8', 26],
    ['go1.19.8\n', 19],
    ['devel go1.27-abc', undefined],
  ])('%j → %p', (version, minor) => {
    expect(goMinor(version)).toBe(minor);
  });
});
