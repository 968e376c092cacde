/**
 * The address a host publishes when its config has no public_ip (fleet
 * auto-detected it too): the IPv4 address of the interface that holds the
 * default route, as a peer on the host's network would reach it; else the
 * first non-loopback IPv4 address; else none. Bootstraps leave public_ip out
 * (or empty, when metadata had no address) and rely on this.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

type Interfaces = Record<string, NetworkInterfaceInfo[] | undefined>;

/** The interface of the default route with the lowest metric, from /proc/net/route's text. */
export function defaultRouteInterface(procNetRoute: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, destination, , , , , metric, mask] = line.trim().split(/\s+/);
    if (!iface || destination !== '00000000' || mask !== '00000000') continue;
    const m = Number.parseInt(metric ?? '0', 10) || 0;
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

export function pickPublicIP(procNetRoute: string, interfaces: Interfaces): string {
  const v4 = (name: string): string | undefined => interfaces[name]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
  const route = defaultRouteInterface(procNetRoute);
  const viaRoute = route === undefined ? undefined : v4(route);
  if (viaRoute) return viaRoute;
  for (const name of Object.keys(interfaces)) {
    const a = v4(name);
    if (a) return a;
  }
  return '';
}

export function detectPublicIP(): string {
  let routes = '';
  try {
    routes = readFileSync('/proc/net/route', 'utf8');
  } catch {
    // Not Linux, or no procfs: the interface list alone decides.
  }
  return pickPublicIP(routes, networkInterfaces());
}
