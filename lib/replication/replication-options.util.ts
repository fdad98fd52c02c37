import type { ReplicationOptions } from '../common/replication-options.interface.js';

/** What NATS takes as a stream name: no whitespace, dots, wildcards or path separators. */
const STREAM_NAME = /^[^\s.*>/\\]{1,255}$/;

/**
 * Fails start-up, before anything connects, with one message naming every option of `forRoot({
 * replication })` that cannot work; the NATS client would otherwise fail later and less clearly.
 */
export function checkReplicationOptions(options: ReplicationOptions): void {
  const problems: string[] = [];
  const servers = typeof options.servers === 'string' ? [options.servers] : options.servers;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((server) => typeof server !== 'string' || server.trim() === '')) {
    problems.push('servers must be one NATS URL or a non-empty list of them');
  }
  if (options.stream !== undefined && (typeof options.stream !== 'string' || !STREAM_NAME.test(options.stream))) {
    problems.push('stream must be a NATS stream name: 1 to 255 characters, none of them whitespace, ".", "*", ">", "/" or "\\\\"');
  }
  if (options.replicas !== undefined && (!Number.isInteger(options.replicas) || options.replicas < 1 || options.replicas > 5)) {
    problems.push('replicas must be a whole number from 1 to 5');
  }
  if (options.timeout !== undefined && (typeof options.timeout !== 'number' || !Number.isFinite(options.timeout) || options.timeout <= 0)) {
    problems.push('timeout must be a positive number of milliseconds');
  }
  if (options.adoptLocalStore !== undefined && typeof options.adoptLocalStore !== 'boolean') problems.push('adoptLocalStore must be true or false');
  if (problems.length > 0) throw new Error(`replication options: ${problems.join('; ')}`);
}
