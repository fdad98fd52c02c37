import type { ReplicationHealth } from '../common/health-options.interface.js';
import { withinTime } from '../common/within-time.util.js';
import type { JetStreamLog } from './jetstream-log.client.js';

/** How long health reads down after an append the stream did not confirm, at least (or 5 write timeouts). */
const UNCONFIRMED_FOR = 10_000;

/** The last group of writes the stream did not take: when, and what the append failed with. */
export interface UnconfirmedAppend {
  at: number;
  message: string;
}

/**
 * `details` with the stream's last seq when the stream answers within `timeout` ms, else the
 * problem that keeps writes from being confirmed.
 */
export async function streamHealth(
  details: ReplicationHealth,
  log: JetStreamLog,
  unconfirmed: UnconfirmedAppend | undefined,
  timeout: number,
): Promise<{ details: ReplicationHealth; problem?: string }> {
  // A stream leader cut off from its quorum may still answer its info for a while; a write it
  // could not confirm tells sooner. Until one is confirmed again, or for a while with no writes.
  if (unconfirmed && Date.now() - unconfirmed.at < Math.max(UNCONFIRMED_FOR, 5 * timeout)) {
    return { details, problem: `NATS stream ${log.stream} did not confirm the last write (has it lost its quorum?): ${unconfirmed.message}` };
  }
  try {
    details.streamLastSeq = (await withinTime(log.bounds(), timeout, () => new Error(`no answer within ${timeout} ms`))).last;
    if (details.streamLastSeq < details.appliedSeq) return { details, problem: shorterStream(log.stream, details.streamLastSeq, details.appliedSeq) };
    return { details };
  } catch (error) {
    return { details, problem: `NATS stream ${log.stream} does not answer (has it lost its quorum?): ${(error as Error).message}` };
  }
}

/** Why an instance whose stream ends before its last applied message cannot go on with it. */
export function shorterStream(stream: string, last: number, applied: number): string {
  return `stream ${stream} ends at message ${last}, before message ${applied} which this store applied: was it deleted and made again? Start this instance from a backup of an instance of the stream as it is now`;
}
