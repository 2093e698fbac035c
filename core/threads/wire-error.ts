import { MqlabError } from '../errors';
import { describeValue } from '../describe-value';

/**
 * An error as it crosses a thread boundary. Structured clone keeps an Error's message but drops
 * its own properties (`code`, `details`), so errors travel as this plain shape and are rebuilt on
 * the other side: an MqlabError comes back an MqlabError with the same code, message and details.
 *
 * `code` is absent only for an untyped Error sent without a fallback code; it is rebuilt as a
 * plain Error with the same message (amqplib's "message nacked" confirm error is one).
 */
export interface WireError {
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The wire form of anything thrown. An Error with a string `code` (MqlabError, Node's system
 * errors) keeps it; any other value gets `untypedCode`, if given. Details that cannot be cloned
 * (functions, symbols …) are replaced by their description, so sending the error cannot fail.
 */
export function toWireError(e: unknown, untypedCode?: string): WireError {
  if (e instanceof Error) {
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : untypedCode;
    const details = e instanceof MqlabError ? e.details : undefined;
    const wire: WireError = { message: String(e.message) };
    if (code !== undefined) wire.code = code;
    if (details !== undefined) wire.details = cloneableDetails(details);
    return wire;
  }
  const wire: WireError = { message: typeof e === 'string' ? e : describeValue(e) };
  if (untypedCode !== undefined) wire.code = untypedCode;
  return wire;
}

/** The error a WireError stands for: an MqlabError when it has a code, else a plain Error. */
export function fromWireError(w: WireError): Error {
  if (w.code === undefined) return new Error(w.message);
  return new MqlabError(w.code, w.message, w.details);
}

function cloneableDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) {
    try {
      out[k] = structuredClone(v);
    } catch {
      out[k] = describeValue(v);
    }
  }
  return out;
}
