/**
 * This test file's wall clock (`new Date()` and `Date.now()`, which the package and `ulid` read
 * through the same global): an offset, as an NTP step gives, and optionally a tick of 1 ms on
 * every read, as when a millisecond ends between two reads of the clock in one write.
 */
const RealDate = Date;
let offset = 0;
let ticking = false;
let last = 0;

function read(): number {
  if (!ticking) return RealDate.now() + offset;
  last = Math.max(last + 1, RealDate.now() + offset);
  return last;
}

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(read());
    else super(...(args as [number]));
  }

  static override now(): number {
    return read();
  }
}

export function installShiftedClock(): void {
  (globalThis as { Date: DateConstructor }).Date = ShiftedDate as unknown as DateConstructor;
}

export function setClockOffset(ms: number): void {
  offset = ms;
}

export function setTicking(on: boolean): void {
  ticking = on;
}

export function restoreClock(): void {
  offset = 0;
  ticking = false;
  (globalThis as { Date: DateConstructor }).Date = RealDate;
}
