/**
 * Structured JSON logger shared by the server, the dev-PC runners and the
 * metrics sidecar. Every line carries the component name so log shipping can
 * split streams per service.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  ts: string;
  level: LogLevel;
  component: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export class Logger {
  private readonly component: string;
  private readonly minLevel: LogLevel;

  constructor(component: string, minLevel: LogLevel = 'info') {
    this.component = component;
    this.minLevel = minLevel;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  /** Derive a logger for a sub-component, e.g. `queue` -> `queue.claim`. */
  child(suffix: string): Logger {
    return new Logger(`${this.component}.${suffix}`, this.minLevel);
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[this.minLevel]) return;
    const record: LogRecord = { ts: new Date().toISOString(), level, component: this.component, msg, fields };
    const line = JSON.stringify(record);
    if (level === 'error') console.error(line);
    else console.log(line);
  }
}

/** Create a component logger; the level comes from `LOG_LEVEL` when not given. */
export function createLogger(component: string, level?: LogLevel): Logger {
  const envLevel = (globalThis as any).process?.env?.LOG_LEVEL as LogLevel | undefined;
  return new Logger(component, level ?? envLevel ?? 'info');
}
