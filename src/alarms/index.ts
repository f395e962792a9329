export * from './dose-rate-rule.ts';
export * from './engine.ts';
export * from './engine-actions.ts';
export * from './kpis.ts';
export * from './lifecycle.ts';
export * from './rule.ts';
export * from './store.ts';
export * from './types.ts';
