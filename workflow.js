// `require('batchgrid/workflow')`: the workflow-safe helpers for running a batchgrid job as a child
// workflow (docs/temporal.md). A file at the package root, so that deep imports keep working.
module.exports = require('./dist/workflows/child-job.js');
