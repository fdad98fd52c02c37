// Prints the suite's result as one plain line, "N passed, N failed, N skipped", which CI
// tooling reads in any language; jest's own summary stays above it.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
