/**
 * Loads an optional peer dependency (prom-client, @opentelemetry/api, @nestjs/terminus) only
 * when a feature that needs it is used, so the package runs without them. Resolves to
 * `undefined` when the package is not installed; any other failure to load it is thrown.
 */
export async function importOptional<T>(name: string): Promise<T | undefined> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${name}'`);
    if (missing) return undefined;
    throw error;
  }
}

/** The error of a feature switched on whose optional dependency is not installed. */
export function missingDependency(name: string, feature: string): Error {
  return new Error(`${feature} needs the package ${name}, which is not installed: npm install ${name}`);
}
