/**
 * The checker's entry point: build the indexes once, run every analysis, judge.
 *
 * Analyses (one file each): lost.ts (lost, broadcast-member-missed), redelivery.ts (duplicate,
 * cluster-double-delivery, duplicate-write), order.ts (reorder), offsets.ts (poll-skip,
 * non-monotonic-offset), redelivery-required.ts (missing-redelivery, redelivery-past-limit),
 * routing.ts (tag-filter-leak, unroutable-delivered, misrouted).
 */
import type { Op } from '../history/ops';
import type { AnomalyCase } from './anomalies';
import { buildIndexes, type Indexes } from './indexes';
import { lostCases } from './lost';
import { nonMonotonicCases, offsetReuseCases, pollSkipCases } from './offsets';
import { reorderCases } from './order';
import { duplicateWriteCases, redeliveryCases } from './redelivery';
import { missingRedeliveryCases, pastLimitCases } from './redelivery-required';
import { routingCases, tagLeakCases } from './routing';
import { judge, type Verdict, type VerdictConfig } from './verdict';

export const ANALYSES: readonly ((idx: Indexes) => AnomalyCase[])[] = [
  lostCases,
  redeliveryCases,
  duplicateWriteCases,
  reorderCases,
  pollSkipCases,
  nonMonotonicCases,
  offsetReuseCases,
  missingRedeliveryCases,
  pastLimitCases,
  tagLeakCases,
  routingCases,
];

export function findAnomalies(ops: readonly Op[]): AnomalyCase[] {
  const idx = buildIndexes(ops);
  const out: AnomalyCase[] = [];
  for (const analysis of ANALYSES) for (const c of analysis(idx)) out.push(c);
  return out;
}

export function checkHistory(ops: readonly Op[], config: VerdictConfig): Verdict {
  return judge(findAnomalies(ops), config);
}
