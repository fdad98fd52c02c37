/** How often a long walk reports: a callback per item would cost more than the item. */
const REPORT_EVERY = 1024;

/** Counts the items of a long walk and hands them to `onProgress` in lumps; `flush` hands over the rest. */
export function progressCounter(onProgress: ((done: number) => void) | undefined): { step(): void; flush(): void } {
  let unreported = 0;
  return {
    step() {
      if (onProgress && ++unreported === REPORT_EVERY) {
        onProgress(unreported);
        unreported = 0;
      }
    },
    flush() {
      if (onProgress && unreported > 0) onProgress(unreported);
      unreported = 0;
    },
  };
}
