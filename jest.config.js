/** Unit tests cover pure logic; integration tests talk to the real local stack (see scripts/test.sh). */
const swc = (syntax) => ['@swc/jest', { jsc: { parser: { syntax }, target: 'es2022' }, module: { type: 'commonjs' } }];
// TypeScript sources, plus the one ES-module-only dependency (cookie 2, loaded by fastify's
// inject()): Node 20 can require() it, but Jest's module system cannot, so Jest compiles it.
const transform = { '^.+\\.ts$': swc('typescript'), '/node_modules/cookie/.+\\.js$': swc('ecmascript') };
const transformIgnorePatterns = ['/node_modules/(?!cookie/)'];
module.exports = {
  // A global option (projects ignore it): integration tests wait on real services.
  testTimeout: 120000,
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, transformIgnorePatterns, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
    },
    // Fault injection restarts services, so it runs only on its own stack, serially, and only when
    // asked for: scripts/chaos.sh (npm run chaos) sets BATCHGRID_CHAOS=1; a plain `npx jest` never sees it.
    ...(process.env.BATCHGRID_CHAOS === '1'
      ? [{ displayName: 'chaos', testEnvironment: 'node', transform, transformIgnorePatterns, testMatch: ['<rootDir>/test/chaos/**/*.test.ts'] }]
      : []),
  ],
};
