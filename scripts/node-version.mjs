// The Node.js versions OpenMeet supports: 20.19+ (tested: the Node 20 these machines have) and
// 22.12+. The floor is Vite 8's (`^20.19.0 || >=22.12.0`); werift, content-disposition and cookie 2
// declare Node >= 22 and print engine warnings on install under Node 20, but run on it (the suite
// runs on Node 20). Both README commands call this first so an unsupported Node fails clearly.

/** Returns an error message when `version` (like process.versions.node) is not supported, else null. */
export function unsupportedNode(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major > 22;
  if (ok) return null;
  return `OpenMeet needs Node.js 20.19 or later in the 20 line, or 22.12 or later (tested on Node 20); this is Node ${version}. Install a supported Node (e.g. from https://nodejs.org or your distribution) and run the command again.`;
}

/** Exits with a clear message when this Node is not supported. */
export function requireSupportedNode() {
  const problem = unsupportedNode();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
