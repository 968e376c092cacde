export * from './types.js';
export * from './filters.js';
export * from './place.js';
