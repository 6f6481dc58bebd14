/** The hand-rolled fan-out's activity: one no-op per part, as the engine's `noop` task. */
export async function benchPart(part: number): Promise<{ part: number }> {
  return { part };
}
