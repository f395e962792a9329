import type {} from 'vitest';

/** Addresses of the services test/setup/services.ts started; read them with `inject('services')`. */
export interface ServicesContext {
  /** http://127.0.0.1:<port> of a shared influxd 1.x (auth off). Use a fresh database per test. */
  influxUrl: string;
  /** mqtt://127.0.0.1:<port> of a shared mosquitto (anonymous, persistence on). */
  mqttUrl: string;
  /** Temp dir holding both services' data; removed after the run. Tests may make subfolders. */
  tmpDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesContext;
  }
}
