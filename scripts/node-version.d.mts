/** Returns an error message when `version` (like process.versions.node) is not supported, else null. */
export function unsupportedNode(version?: string): string | null;
/** Exits with a clear message when this Node is not supported. */
export function requireSupportedNode(): void;
