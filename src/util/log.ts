/**
 * Structured logging: one line per event. pino gives us JSON lines cheaply;
 * the human format is a small transform so daemons stay readable in a
 * terminal and machine-readable with `log_format=json`.
 */
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;
export type LogFormat = 'text' | 'json';

export interface LogOptions {
  level?: string;
  format?: LogFormat;
  name?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const format = opts.format ?? 'text';
  const base = opts.name ? { name: opts.name } : {};
  const level = opts.level ?? 'info';
  if (format === 'json') {
    return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, opts.destination ?? pino.destination(2));
  }
  return pino({ level, base }, opts.destination ?? textDestination());
}

/** "2026-11-22T10:00:00.000Z INFO agent unit started unit=hello.service" */
function textDestination(): DestinationStream {
  const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return {
    write(line: string): void {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        process.stderr.write(line);
        return;
      }
      const { level, time, msg, name, pid: _pid, hostname: _host, ...fields } = rec;
      const when = new Date(typeof time === 'number' ? time : Date.now()).toISOString();
      const parts = [when, levels[level as number] ?? String(level)];
      if (name) parts.push(String(name));
      parts.push(String(msg ?? ''));
      for (const [k, v] of Object.entries(fields)) {
        parts.push(`${k}=${typeof v === 'string' && !/[\s"]/.test(v) ? v : JSON.stringify(v)}`);
      }
      process.stderr.write(parts.join(' ') + '\n');
    },
  };
}

/** A logger that drops everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
