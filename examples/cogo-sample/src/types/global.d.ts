// Ambient declarations shared by the whole cogo runtime.
declare const __COGO_BUILD__: string;

interface CogoRuntimeFlags {
  dryRun: boolean;
  runnerId: string;
  region?: string;
}

declare var cogoFlags: CogoRuntimeFlags | undefined;
