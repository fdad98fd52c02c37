import { inCi, requirementOutcome } from '../../support/requirement.util.js';

describe('suites with a requirement (Redis, strace, tmpfs, script, Chromium)', () => {
  it('run when the requirement is there, in CI or not', () => {
    expect(requirementOutcome(undefined, true)).toBe('run');
    expect(requirementOutcome(undefined, false)).toBe('run');
  });

  it('fail rather than skip in CI when the requirement is missing', () => {
    expect(requirementOutcome('no Redis at redis://127.0.0.1:6379', true)).toBe('fail');
  });

  it('are skipped with their reason on a developer machine without the requirement', () => {
    expect(requirementOutcome('no Redis at redis://127.0.0.1:6379', false)).toBe('skip');
  });

  it('take CI to mean any value of CI but empty, 0 or false', () => {
    expect(inCi({ CI: 'true' })).toBe(true);
    expect(inCi({ CI: '1' })).toBe(true);
    expect(inCi({})).toBe(false);
    expect(inCi({ CI: '' })).toBe(false);
    expect(inCi({ CI: '0' })).toBe(false);
    expect(inCi({ CI: 'false' })).toBe(false);
  });
});
