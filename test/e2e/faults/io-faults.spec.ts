import 'reflect-metadata';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ADMIN, call, permitBody, startSample, stopSample, type SampleProcess } from '../../support/sample-process.util.js';
import { withSampleStore } from '../../support/sample-store.util.js';
import { describeWhen } from '../../support/requirement.util.js';
import { makeTempDir } from '../../support/temp-dir.util.js';
import { attachStrace, stopDuringSync, straceUnavailable, type Tamper } from './strace.util.js';
import { Findings } from './findings.util.js';
import { isSuccess, WriteLoad, type Attempt } from './write-load.util.js';

/**
 * lmdb's syscalls on data.mdb under write load (seen with `strace -f -c -y`): pwrite64 for
 * single pages and the 128-byte meta page record, writev for runs of pages, fdatasync to
 * sync. No msync (no writemap), no fsync. The sockets use writev too, hence `-P data.mdb`.
 */
const FAULT_MS = 1_000;
/** Liveness bound: how long a request may go unanswered, and the process may take to recover or exit. */
const LIVENESS_MS = 10_000;
const META_WINDOW_MS = 300;
const META_TRIES = 6;
/** A failed pwrite64 of fewer bytes than a page within the first two pages: the meta page. */
const META_WRITE = /pwrite64\(\d+, ".*"(?:\.\.\.)?, (\d+), (\d+)\) = -1 EIO/g;
/** What Node and the OS print when a process dies of an error (lmdb's own "fatal error" text is not one). */
const CRASH_OUTPUT = /[Uu]nhandled|FATAL ERROR|Segmentation fault|core dumped/;

const describeIfStrace = describeWhen(straceUnavailable(), 'the I/O fault suite');

interface FaultWindow {
  from: number;
  to: number;
  /** strace's lines, one per call it saw, `(INJECTED)` on those it failed. */
  trace: string;
}

type Injector = (app: SampleProcess, load: WriteLoad, dataFile: string, findings: Findings) => Promise<FaultWindow[]>;

function exited(app: SampleProcess): boolean {
  return app.child.exitCode !== null || app.child.signalCode !== null;
}

function tally(attempts: readonly Attempt[]): string {
  const counts = new Map<string, number>();
  for (const { kind, status } of attempts) counts.set(`${kind} ${status}`, (counts.get(`${kind} ${status}`) ?? 0) + 1);
  return [...counts].map(([key, count]) => `${key}: ${count}`).join(', ') || 'none';
}

/** A write the process refused because it stopped writing after the fault (fail-stop), until a restart. */
function refusedUntilRestart(attempt: Attempt, since: number): boolean {
  return attempt.kind !== 'read' && attempt.startedAt > since && attempt.status === 503 && /until the process restarts/.test(attempt.message ?? '');
}

/** Resolves once a write sent after `since` was acknowledged or refused until a restart, the process ended, or the liveness bound passed. */
async function recovery(app: SampleProcess, load: WriteLoad, since: number): Promise<void> {
  const settled = () =>
    load.attempts.some((attempt) => (attempt.kind !== 'read' && attempt.startedAt > since && isSuccess(attempt.status)) || refusedUntilRestart(attempt, since));
  while (Date.now() < since + LIVENESS_MS && !exited(app) && !settled()) await delay(50);
}

/** One window of `FAULT_MS` at a moment the load chooses. */
function oneWindow(fault: string): Injector {
  return async (app, _load, dataFile) => {
    const tamper = await attachStrace(app.child.pid!, dataFile, ['-e', `trace=${fault}`, '-e', `inject=${fault}:error=EIO`]);
    const from = Date.now();
    await delay(FAULT_MS);
    await tamper.detach();
    return [{ from, to: Date.now(), trace: tamper.output() }];
  };
}

/**
 * Short windows, each opened while a thread is inside fdatasync (the process is stopped
 * there, strace attached, the process continued), until a meta page write is among the
 * calls failed: after the sync the next pwrite64 is often the meta page.
 */
const metaPageWindows: Injector = async (app, load, dataFile, findings) => {
  const pid = app.child.pid!;
  const windows: FaultWindow[] = [];
  for (let tries = 0; tries < META_TRIES && !exited(app); tries++) {
    if (!(await stopDuringSync(pid))) break;
    let tamper: Tamper;
    try {
      tamper = await attachStrace(pid, dataFile, ['-e', 'trace=pwrite64', '-e', 'inject=pwrite64:error=EIO']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const from = Date.now();
    await delay(META_WINDOW_MS);
    await tamper.detach();
    windows.push({ from, to: Date.now(), trace: tamper.output() });
    if ([...tamper.output().matchAll(META_WRITE)].some(([, bytes, offset]) => Number(bytes) < 4096 && Number(offset) < 8192)) return windows;
    await recovery(app, load, windows.at(-1)!.to);
  }
  // A data page failed first and the process stopped writing, so no meta page write followed:
  // the window then tested the fail-stop, and the panic path waits for a luckier run.
  if (load.attempts.some((attempt) => refusedUntilRestart(attempt, windows.at(-1)?.to ?? 0))) {
    console.warn(`meta page: a data page failed first in ${windows.length} window(s); the process stopped writing before any meta page write`);
  } else {
    findings.add('no meta page write was failed', `${windows.length} windows opened during a sync`);
  }
  return windows;
};

/**
 * README, Durability and limits: a failed commit answers 503 (507 for a full disk), nothing
 * of the write is stored, reads keep working, the process never crashes; a 2xx is on disk.
 * The sample runs as a child process under 6 clients' load while strace fails a syscall of
 * lmdb's on data.mdb with EIO; afterwards the process must serve writes again or have
 * exited (and then start again on the same directory), and the store must hold exactly
 * what was acknowledged.
 */
async function underFault(name: string, platform: 'express' | 'fastify', inject: Injector): Promise<void> {
  const dir = makeTempDir('nde-io-');
  const dataPath = join(dir.path, 'data');
  let app: SampleProcess | undefined;
  const findings = new Findings();
  try {
    app = await startSample(`io-${name}`, dataPath, platform);
    const load = new WriteLoad(app, { clients: 6, prefix: 'IO', answerMs: LIVENESS_MS });
    load.start();
    await delay(500);
    const windows = await inject(app, load, join(dataPath, 'data.mdb'), findings);
    const lastTo = windows.at(-1)?.to ?? Date.now();
    await recovery(app, load, lastTo);
    await delay(300);
    await load.stop();
    const failedFast = exited(app);
    const servedAgain = load.attempts.some((attempt) => attempt.kind !== 'read' && attempt.startedAt > lastTo && isSuccess(attempt.status));
    const stoppedWriting = !failedFast && load.attempts.some((attempt) => refusedUntilRestart(attempt, lastTo));

    const injected = windows.reduce((sum, window) => sum + (window.trace.match(/\(INJECTED\)/g)?.length ?? 0), 0);
    const inWindow = load.attempts.filter(
      (attempt) => attempt.kind !== 'read' && windows.some((window) => attempt.endedAt >= window.from && attempt.startedAt <= window.to),
    );
    if (injected === 0) findings.add('strace failed nothing', name);
    if (!inWindow.some((attempt) => typeof attempt.status === 'number' && attempt.status >= 500)) {
      findings.add('no write in a fault window was answered 5xx', tally(inWindow));
    }
    for (const attempt of load.attempts) {
      const { status } = attempt;
      if (status === 'no answer') {
        const sent = attempt.startedAt - (windows[0]?.from ?? 0);
        findings.add(`a request got no answer within ${LIVENESS_MS} ms`, `${attempt.kind} sent at ${sent >= 0 ? '+' : ''}${sent} ms from the first fault`);
      } else if (status === 'connection lost' && !failedFast) {
        findings.add('a connection was lost, yet the process runs', attempt.kind);
      } else if (typeof status === 'number' && !isSuccess(status) && status !== 503) {
        findings.add('an answer other than 2xx or 503 (README: 503 for an I/O error)', `${attempt.kind} ${status} ${attempt.message ?? ''}`);
      }
    }
    // A store whose environment panicked cannot be read until a restart: a 503 says so; a wrong state never may.
    const refusedReads = load.wrongReads.filter((read) => read.includes(': 503 the store cannot be read right now'));
    for (const read of load.wrongReads) if (!refusedReads.includes(read)) findings.add('a read did not return the acknowledged state', read);
    if (refusedReads.length > 0 && !stoppedWriting && !failedFast) findings.add('reads refused while writes go on', refusedReads[0]!);
    if (!failedFast && !servedAgain && !stoppedWriting) {
      findings.add('the process neither served a write again, refused writes until a restart, nor exited', `within ${LIVENESS_MS} ms after the fault`);
    }
    const crash = CRASH_OUTPUT.exec(app.output());
    if (crash) findings.add('crash output', crash[0]);
    console.warn(
      `EIO from ${name} on ${platform}: ${injected} calls failed in ${windows.length} window(s); during them: ${tally(inWindow)}; ` +
        `afterwards: ${failedFast ? `exited (${app.child.signalCode ?? app.child.exitCode})` : `${stoppedWriting ? 'writes refused until a restart; ' : ''}${tally(load.attempts.filter((attempt) => attempt.startedAt > lastTo))}`}; ` +
        `${load.acknowledgedWrites} writes acknowledged, ${load.unsureWrites} answered 5xx or not at all, ${refusedReads.length} reads refused with 503`,
    );

    if (failedFast || stoppedWriting) {
      await stopSample(app);
      app = await startSample(`io-${name}-restarted`, dataPath, platform);
      const created = await call(app, 'POST', '/permits', { body: permitBody(`IO-RESTART-${platform}`), user: ADMIN });
      if (created.status !== 201) findings.add('a create after a restart on the same directory failed', String(created.status));
    }
    await stopSample(app);
    app = undefined;
    await withSampleStore(dataPath, (storage) => load.checkStore(storage, findings));
    expect(findings.list()).toEqual([]);
  } finally {
    await stopSample(app);
    dir.remove();
  }
}

const TITLE = 'answers 5xx, never 2xx for a write it did not store, then serves again or stops writing until a restart, and loses nothing';

describeIfStrace('I/O errors under the sample', () => {
  describe.each([
    ['writev', 'fastify'],
    ['fdatasync', 'express'],
    ['fdatasync', 'fastify'],
  ] as const)('an EIO from every %s for a second, on %s', (fault, platform) => {
    it(TITLE, () => underFault(fault, platform, oneWindow(fault)), 60_000);
  });

  describe.each(['express'] as const)('an EIO writing the meta page (pwrite64 right after a sync), on %s', (platform) => {
    it(TITLE, () => underFault('pwrite64 (meta page)', platform, metaPageWindows), 90_000);
  });
});
