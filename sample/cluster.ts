import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { Logger } from '@nestjs/common';

/**
 * Runs the sample as a cluster: one worker per core, all serving the same port and the
 * same LMDB data directory. LMDB lets every process read and write the one store, and the
 * package keys cached reads by a change counter kept in that store, so no worker ever
 * serves a read older than a write another worker acknowledged.
 */
if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? availableParallelism());
  Logger.log(`starting ${workers} workers on one data directory`, 'Cluster');
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    Logger.warn(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`, 'Cluster');
    if (!shuttingDown) cluster.fork();
  });
  let shuttingDown = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      shuttingDown = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(signal);
    });
  }
} else {
  await import('./main.js');
}
