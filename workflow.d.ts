export * from './dist/workflows/child-job';
