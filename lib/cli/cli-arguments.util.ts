import { InvalidArgumentError } from 'commander';

/** Parses a whole number ≥ `min` for commander; anything else is a usage error. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    return number;
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `90000`, `45s`, `15m`, `12h` or `30d` into milliseconds. */
export function duration(value: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value);
  const ms = match ? Number(match[1]) * UNITS[match[2] ?? 'ms']! : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) throw new InvalidArgumentError('expected a duration such as 90000 (ms), 45s, 15m, 12h or 30d');
  return ms;
}
