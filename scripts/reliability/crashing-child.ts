/** A child that dies of SIGSEGV after printing a clean-looking summary: the fuzz runner must still call it a crash. */
process.stdout.write(`${JSON.stringify({ seed: 0, runs: 0, calls: 0, returned: 0, typedErrors: 0, codes: {}, untyped: [], pendingAfterTimeout: 0, sections: [] })}\n`, () => {
  process.kill(process.pid, 'SIGSEGV');
});
