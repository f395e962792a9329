export * from './channel.ts';
export * from './contract.ts';
export * from './errors.ts';
export * from './profile.ts';
export * from './reading.ts';
export * from './simulator.ts';
export * from './time-window.ts';
export * from './units.ts';
