/**
 * The verdict is separate from the analysis: a configuration says which anomalies it allows,
 * and a history is valid when no case of a disallowed anomaly was found.
 *
 * The claimed delivery guarantee allows:
 *  - at-most-once: lost, broadcast-member-missed, missing-redelivery, duplicate-write is not
 *    allowed (it would be delivered twice);
 *  - at-least-once: duplicate-write (a producer retry stored twice);
 *  - exactly-once: nothing.
 * Redeliveries explained by a failure, nack or seek are never anomalies under any guarantee.
 *
 * Some anomalies a check may allow only for an adapter that claims at-least-once
 * (AT_LEAST_ONCE_ONLY): `rebalance-duplicate` is documented behaviour of offset-based cluster
 * groups (RocketMQ) while membership changes, but stays a failure for an exactly-once claim.
 */
import type { DeliveryGuarantee } from '../adapters/common';
import { ANOMALY_NAMES, type AnomalyCase, type AnomalyName } from './anomalies';

export const GUARANTEE_ALLOWS: Readonly<Record<DeliveryGuarantee, readonly AnomalyName[]>> = {
  'at-most-once': ['lost', 'broadcast-member-missed', 'missing-redelivery'],
  'at-least-once': ['duplicate-write'],
  'exactly-once': [],
};

/** Anomalies a check's `allow` covers only when the adapter claims at-least-once. */
export const AT_LEAST_ONCE_ONLY: readonly AnomalyName[] = ['rebalance-duplicate'];

export interface VerdictConfig {
  guarantee: DeliveryGuarantee;
  /** Anomalies this particular check allows on top of the guarantee (e.g. poll-skip under retention). */
  allow?: readonly AnomalyName[];
}

export interface AnomalySummary {
  anomaly: AnomalyName;
  count: number;
  allowed: boolean;
  /** A few worst examples; all cases are in the full result. */
  examples: AnomalyCase[];
}

export interface Verdict {
  valid: boolean;
  /** Disallowed anomalies found (names). */
  failures: AnomalyName[];
  summaries: AnomalySummary[];
  cases: AnomalyCase[];
}

export function judge(cases: readonly AnomalyCase[], config: VerdictConfig, examplesPerAnomaly = 3): Verdict {
  const byCheck = (config.allow ?? []).filter((a) => config.guarantee === 'at-least-once' || !AT_LEAST_ONCE_ONLY.includes(a));
  const allowed = new Set<AnomalyName>([...GUARANTEE_ALLOWS[config.guarantee], ...byCheck]);
  const by = new Map<AnomalyName, AnomalyCase[]>();
  for (const c of cases) {
    const a = by.get(c.anomaly);
    if (a) a.push(c);
    else by.set(c.anomaly, [c]);
  }
  const summaries: AnomalySummary[] = [];
  for (const name of ANOMALY_NAMES) {
    const cs = by.get(name);
    if (!cs) continue;
    summaries.push({ anomaly: name, count: cs.length, allowed: allowed.has(name), examples: cs.slice(0, examplesPerAnomaly) });
  }
  const failures = summaries.filter((s) => !s.allowed).map((s) => s.anomaly);
  return { valid: failures.length === 0, failures, summaries, cases: [...cases] };
}
