/** `work`, or a rejection with `late()` once `ms` have passed: a caller that must answer does not wait on a peer that may never. */
export function withinTime<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}
