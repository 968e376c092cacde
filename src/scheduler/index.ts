export * from './types.js';
export * from './filters/index.js';
export * from './place.js';
export * from './evaluate.js';
export { ReplaceGraph } from './replace-graph.js';
export { orderByPeers } from './order.js';
export { reasons } from './reasons.js';
export { noRequirements } from './no-requirements.js';
