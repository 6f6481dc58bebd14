/** Errors of the grid: fleet definitions, providers and the autoscaler service. Pure (no Node). */

/** Thrown when a fleet definition is invalid; carries every problem with its path. */
export class FleetValidationError extends Error {
  constructor(readonly problems: { path: string; message: string; line?: number }[]) {
    super(`Invalid fleet: ${problems.map((p) => `${p.line === undefined ? '' : `${p.line}: `}${p.path || '(root)'}: ${p.message}`).join('; ')}`);
    this.name = 'FleetValidationError';
  }
}

/** Thrown when a provider cannot do what was asked (a static fleet cannot be resized; an ASG call failed). */
export class FleetProviderError extends Error {
  constructor(
    readonly fleet: string,
    readonly provider: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FleetProviderError';
  }
}

/** Thrown when a fleet is not known: no autoscaler runs for it and the store has never seen it. */
export class FleetNotFoundError extends Error {
  constructor(readonly fleet: string) {
    super(`Fleet ${fleet} is not known: start its autoscaler with \`batchgrid grid start FLEET_FILE\`.`);
    this.name = 'FleetNotFoundError';
  }
}
