/** Whether this run is CI (`CI` set to anything but empty, `0` or `false`). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** What becomes of a suite: it runs, or (requirement missing) it is skipped on a developer's machine and fails in CI. */
export function requirementOutcome(missing: string | undefined, ci: boolean): 'run' | 'skip' | 'fail' {
  if (missing === undefined) return 'run';
  return ci ? 'fail' : 'skip';
}

/**
 * `describe` when the suite's requirement is met. Otherwise, on a developer's machine, the
 * suite is skipped with its reason printed; in CI, where `.ci/run` installs or starts every
 * requirement, a missing one fails a test named for it instead, so a suite can never pass
 * CI by not running.
 */
export function describeWhen(missing: string | undefined, suite: string): jest.Describe {
  const outcome = requirementOutcome(missing, inCi());
  if (outcome === 'run') return describe;
  if (outcome === 'fail') {
    describe(suite, () => {
      it('has what it needs to run in CI', () => {
        throw new Error(`${suite} cannot run: ${missing}. .ci/run must provide it.`);
      });
    });
  } else {
    console.warn(`${suite} skipped: ${missing}`);
  }
  return describe.skip;
}
