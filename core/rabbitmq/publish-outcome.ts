/** What happened to one publish, for confirms and mandatory returns (its own module: no imports, no cycles). */
export const enum PublishOutcome {
  Routed = 0,
  Unroutable = 1,
  /** A queue with x-overflow reject-publish refused it (confirm = nack). */
  Rejected = 2,
}
