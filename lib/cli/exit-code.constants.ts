/** The command line's exit codes; README's "Exit codes" lists them for scripts. */
export const EXIT_CODES = {
  /** The command did what it was asked. */
  ok: 0,
  /** The command failed, or `verify` found problems. */
  failed: 1,
  /** Unknown command or option, a missing or malformed argument (reported by commander). */
  usage: 2,
  /** `--path` is not a store: no such directory, or no `data.mdb` in it. */
  noStore: 3,
  /** A mutating command found a process that has the store open to write (an app); `--force` overrides. */
  writerRunning: 4,
  /** The store holds no catalog: no app of a version that records one has opened it yet. */
  noCatalog: 5,
  /** The store is replicated: a change made here by a tool would reach no other instance. */
  replicated: 6,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];
