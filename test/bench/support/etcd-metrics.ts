/** Counters read from etcd's Prometheus endpoint: what our code cost the store. */
export interface StoreCounters {
  /** Unary calls (range, put, txn, ...). */
  requests: number;
  watchEvents: number;
  /** Every message received, streams included (lease keepalives, watch requests). */
  messages: number;
}

export async function readCounters(endpoint: string): Promise<StoreCounters> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let requests = 0;
  let watchEvents = 0;
  let messages = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('grpc_server_started_total{') && line.includes('grpc_type="unary"')) {
      requests += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith('grpc_server_msg_received_total{')) {
      messages += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith('etcd_debugging_mvcc_events_total ')) {
      watchEvents += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return { requests, watchEvents, messages };
}
