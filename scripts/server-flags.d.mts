/** Node flags the management server runs with (npm start, bench/idle-memory.ts). */
export const MANAGEMENT_SERVER_NODE_FLAGS: string[];
