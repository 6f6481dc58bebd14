/**
 * Stops and starts one service of the local stack, for fault injection: the dev stack's own
 * service control (manager/devstack/control.ts), which `batchgrid dev restart` uses too.
 */
export { restartDevService, startDevService, stopDevService, type DevServiceName, type DevServiceOptions } from '../../../manager/devstack';
