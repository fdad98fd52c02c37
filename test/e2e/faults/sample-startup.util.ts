import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertSampleBuilt, SAMPLE_MAIN } from '../../support/sample-process.util.js';

/**
 * The compiled sample starting on `dataPath` (on a port of the system's choosing), not waited
 * for: it is to be killed on the way up. Its stdout is piped for whoever wants to watch it.
 */
export function spawnSample(dataPath: string, platform: 'express' | 'fastify'): ChildProcess {
  assertSampleBuilt();
  return spawn(process.execPath, [SAMPLE_MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_PATH: dataPath, PLATFORM: platform, NODE_ENV: 'test' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** The line the sample logs once it listens. */
export const SAMPLE_READY = 'Permits sample on';

/** Resolves once `condition` holds (checked every 5 ms); rejects if the process ends first. */
export async function until(child: ChildProcess, condition: () => boolean): Promise<void> {
  while (!condition()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process ended (${child.signalCode ?? child.exitCode}) before it got there`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Whether process `pid` has the store's data file mapped, i.e. got as far as opening LMDB. */
export function hasStoreOpen(pid: number, dataPath: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'utf8').includes(join(dataPath, 'data.mdb'));
  } catch {
    return false;
  }
}
