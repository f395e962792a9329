export * from './dose-rate-rule.ts';
export * from './engine.ts';
export * from './rule.ts';
export * from './types.ts';
