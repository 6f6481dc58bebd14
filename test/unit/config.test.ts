import { ConfigError, loadConfig } from '../../common/config';

describe('loadConfig', () => {
  test('local emulators unless BATCHGRID_REAL_AWS is 1', () => {
    const local = loadConfig({});
    expect(local).toMatchObject({ BATCHGRID_REAL_AWS: false, localAws: true, endpoints: { s3: 'http://127.0.0.1:9000', sqs: 'http://127.0.0.1:9324' } });
    expect(loadConfig({ BATCHGRID_REAL_AWS: 'true' }).localAws).toBe(true);
    const real = loadConfig({ BATCHGRID_REAL_AWS: '1' });
    expect(real).toMatchObject({ BATCHGRID_REAL_AWS: true, localAws: false, endpoints: { s3: undefined, sqs: undefined, autoScaling: undefined } });
  });

  test('the fleet worker machine settings: set but empty counts as unset', () => {
    expect(loadConfig({ BATCHGRID_INSTANCE_ID: '', BATCHGRID_ASG_NAME: '', BATCHGRID_ASG_LIFECYCLE_HOOK: '', AWS_ACCESS_KEY_ID: '' })).toMatchObject({
      BATCHGRID_INSTANCE_ID: undefined, BATCHGRID_ASG_NAME: undefined, BATCHGRID_ASG_LIFECYCLE_HOOK: undefined, AWS_ACCESS_KEY_ID: undefined,
    });
    expect(loadConfig({ BATCHGRID_INSTANCE_ID: 'i-0123456789abcdef0', BATCHGRID_ASG_NAME: 'asg', BATCHGRID_ASG_LIFECYCLE_HOOK: 'drain' })).toMatchObject({
      BATCHGRID_INSTANCE_ID: 'i-0123456789abcdef0', BATCHGRID_ASG_NAME: 'asg', BATCHGRID_ASG_LIFECYCLE_HOOK: 'drain',
    });
  });

  test('names every bad variable', () => {
    expect(() => loadConfig({ TEMPORAL_UI_PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(ConfigError);
    expect(() => loadConfig({ TEMPORAL_UI_PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(/TEMPORAL_UI_PORT: .*; LOG_LEVEL: /);
  });
});
