/**
 * Process warnings that are noise for our users.
 *
 * grpc-js passes the host of an https://IP:PORT endpoint to TLS as the
 * server name, and Node warns once (DEP0123) that an IP is no valid SNI
 * name. The certificate is still checked against the IP (its IP SANs), so
 * the warning says nothing a user can act on; every other warning is kept.
 */
export function quietTlsServernameWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]): void => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}
