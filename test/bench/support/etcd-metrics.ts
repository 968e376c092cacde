/** Counters read from etcd's Prometheus endpoint: what our code cost the store. */
export interface StoreCounters {
  /** Unary calls (range, put, txn, ...). */
  requests: number;
  /** Unary requests by gRPC method (Range, Txn, Put, LeaseGrant, ...). */
  byMethod: Record<string, number>;
  watchEvents: number;
  /** Every message received, streams included (lease keepalives, watch requests). */
  messages: number;
  /** CPU seconds the etcd process has used. */
  cpuSeconds: number;
}

export async function readCounters(endpoint: string): Promise<StoreCounters> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let requests = 0;
  let watchEvents = 0;
  let messages = 0;
  let cpuSeconds = 0;
  const byMethod: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_started_total{') && line.includes('grpc_type="unary"')) {
      const n = Number(line.slice(line.lastIndexOf(' ') + 1));
      requests += n;
      const method = /grpc_method="([^"]+)"/.exec(line)?.[1] ?? '?';
      byMethod[method] = (byMethod[method] ?? 0) + n;
    } else if (line.startsWith('grpc_server_msg_received_total{')) {
      messages += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith('etcd_debugging_mvcc_events_total ')) {
      watchEvents += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith('process_cpu_seconds_total ')) {
      cpuSeconds = Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return { requests, byMethod, watchEvents, messages, cpuSeconds };
}

/** Requests per method made between two readings, largest first: "Txn 5200, Range 300". */
export function methodBreakdown(before: StoreCounters, after: StoreCounters): string {
  return Object.entries(after.byMethod)
    .map(([m, n]) => [m, n - (before.byMethod[m] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');
}
