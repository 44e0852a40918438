// EXCLUDED (logs/**): generated trace dump, must never be indexed.
export const traceExcludedMarker = 'logs-trace-should-not-be-indexed';
export function replayTraceExcluded(): number {
  return 42;
}
